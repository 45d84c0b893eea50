// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {InvariantBase} from "../utils/Base.sol";
import {IDrugTrace} from "../../../interfaces/IDrugTrace.sol";
import {DrugTrace} from "../../../contracts/DrugTrace.sol";
import {DrugHandler} from "./handlers/DrugHandler.sol";

/// @title DrugInvariants
/// @notice DrugTrace custody invariants under random DrugHandler sequences: per batch, units held by members +
/// dispensed by members + in transit + lost == commissioned; every counter equals the ghost ledger and the
/// shipments;
/// each serial is dispensed at most once, never after its batch's recall or expiry; keys and outsiders hold
/// nothing; every call succeeded exactly when the ghost model said it should.
contract DrugInvariants is InvariantBase {
    DrugHandler internal handler;
    DrugTrace internal drugs;

    function setUp() public {
        handler = new DrugHandler();
        drugs = handler.drugs();
        bytes4[] memory selectors = new bytes4[](11);
        selectors[0] = DrugHandler.commission.selector;
        selectors[1] = DrugHandler.ship.selector;
        selectors[2] = DrugHandler.receiveShipment.selector;
        selectors[3] = DrugHandler.dispense.selector;
        selectors[4] = DrugHandler.recall.selector;
        selectors[5] = DrugHandler.toggleDistributor.selector;
        selectors[6] = DrugHandler.warp.selector;
        // custody moves twice as likely
        selectors[7] = DrugHandler.ship.selector;
        selectors[8] = DrugHandler.receiveShipment.selector;
        selectors[9] = DrugHandler.dispense.selector;
        selectors[10] = DrugHandler.unship.selector;
        _target(address(handler), selectors);
    }

    /// @notice All DrugTrace invariants, checked after every handler call (one campaign per profile run).
    function invariant_drugTrace() public view {
        vm.assertEq(handler.violations(), 0, handler.firstViolation());
        vm.assertEq(drugs.shipmentCount(), handler.shipmentCount(), "shipment count");
        bytes32[] memory ids = handler.allBatchIds();
        if (ids.length == 0) return;
        (uint256[] memory inTransit, uint256[] memory lost) = _sumShipments(ids);
        // serial by serial: the newest batch and one more, rotating call by call (all of them per call would
        // make deep runs quadratic; a wrong serial state persists until the rotation reaches it)
        (uint256 newest, uint256 rotating) = (ids.length - 1, handler.calls() % ids.length);
        for (uint256 bi = 0; bi < ids.length; ++bi) {
            IDrugTrace.Batch memory b = drugs.getBatch(ids[bi]);
            uint256 dispensed = _custodyConserved(bi, ids[bi], b);
            vm.assertEq(b.inTransit, inTransit[bi], "inTransit != pending shipments");
            vm.assertEq(b.lost, lost[bi], "lost != receipt shortfalls");
            if (bi == newest || bi == rotating) _serialsDispensedOnce(bi, ids[bi], b, dispensed);
        }
    }

    /// @dev Per batch (handler index): Σ quantities of shipments in transit, Σ shortfalls of received ones; one
    /// pass over the contract's shipments.
    function _sumShipments(bytes32[] memory ids)
        internal
        view
        returns (uint256[] memory inTransit, uint256[] memory lost)
    {
        (inTransit, lost) = (new uint256[](ids.length), new uint256[](ids.length));
        for (uint256 s = 1; s <= drugs.shipmentCount(); ++s) {
            IDrugTrace.Shipment memory sh = drugs.getShipment(s);
            uint256 bi = 0;
            while (ids[bi] != sh.batchId) ++bi; // every shipment is of a known batch
            if (sh.status == IDrugTrace.ShipmentStatus.InTransit) inTransit[bi] += sh.quantity;
            else if (sh.status == IDrugTrace.ShipmentStatus.Received) lost[bi] += sh.quantity - sh.quantityReceived;
        }
    }

    /// @dev Σ (held + dispensed) over members + inTransit + lost == quantity; counters == ghost; keys and
    /// outsiders hold nothing.
    function _custodyConserved(uint256 bi, bytes32 id, IDrugTrace.Batch memory b) internal view returns (uint256) {
        uint256 held;
        uint256 dispensed;
        (uint32[] memory ghostHeld, uint32[] memory ghostDispensedBy) = handler.ghostStock(bi);
        for (uint256 m = 0; m < ghostHeld.length; ++m) {
            IDrugTrace.Stock memory stock = drugs.stockOf(id, handler.members(m));
            vm.assertEq(stock.held, ghostHeld[m], "held != ghost");
            vm.assertEq(stock.dispensed, ghostDispensedBy[m], "dispensed by member != ghost");
            held += stock.held;
            dispensed += stock.dispensed;
        }
        vm.assertEq(held + dispensed + b.inTransit + b.lost, b.quantity, "custody not conserved");
        (uint32 inTransit, uint32 ghostDispensed, uint32 lost) = handler.ghostBatch(bi);
        vm.assertEq(b.inTransit, inTransit, "inTransit != ghost");
        vm.assertEq(dispensed, ghostDispensed, "dispensed != ghost");
        vm.assertEq(b.lost, lost, "lost != ghost");
        vm.assertEq(drugs.stockOf(id, handler.m0Key()).held, 0, "an operator key holds stock");
        vm.assertEq(drugs.stockOf(id, handler.stranger()).held, 0, "an outsider holds stock");
        return dispensed;
    }

    /// @dev dispensed == serials marked dispensed; each dispensed once, before any recall and before expiry.
    function _serialsDispensedOnce(uint256 bi, bytes32 id, IDrugTrace.Batch memory b, uint256 counted) internal view {
        uint256 dispensed;
        for (uint256 i = 0; i < b.quantity; ++i) {
            string memory serial = handler.serialOf(bi, i);
            IDrugTrace.SerialStatus memory st = drugs.serialStatus(id, serial);
            if (!st.dispensed) continue;
            ++dispensed;
            vm.assertEq(handler.firstDispenses(drugs.serialLeaf(id, serial)), 1, "serial dispensed twice");
            vm.assertLe(st.dispensedAt, b.expiry, "dispensed after expiry");
            if (b.status == IDrugTrace.BatchStatus.Recalled) {
                vm.assertLe(st.dispensedAt, b.recalledAt, "dispensed after recall");
            }
        }
        vm.assertEq(dispensed, counted, "dispensed counters != dispensed serials");
    }
}
