// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {Base} from "../utils/Base.sol";
import {Merkle} from "../utils/Merkle.sol";
import {IConsortium} from "../../../interfaces/IConsortium.sol";
import {IDrugTrace} from "../../../interfaces/IDrugTrace.sol";
import {DrugTrace} from "../../../contracts/DrugTrace.sol";

/// @title DrugUnit
/// @notice DrugTrace paths beyond the custody invariant suite: product and batch validation, recipient rules,
/// receipt errors, shipments of listed serials from a source, cancel and return, dispensing from a received
/// shipment (recall, expiry, stock, roles), duplicate-scan flags, recall rights and the consumer views.
contract DrugUnit is Base {
    uint64 internal constant GTIN = 4_006_381_333_931;
    string internal constant LOT = "A1";

    DrugTrace internal drugs;
    address internal manufacturer;
    address internal manufacturerKey;
    address internal rival;
    address internal distributor;
    address internal pharmacy;
    address internal hospital;
    address internal auditor;
    address internal stranger;
    bytes32 internal batchId;
    bytes32[] internal sorted;
    bytes32[] internal tree;
    mapping(bytes32 batch => bytes32[]) internal batchLeaves; // sorted serial leaves of each batch
    mapping(uint256 shipment => bytes32[]) internal shipLeaves; // sorted serial leaves of each shipment
    mapping(bytes32 leaf => bytes32) internal innerOf; // keccak256(abi.encode(batchId, serial))

    function setUp() public {
        vm.warp(T0);
        _deployConsortium(1, 1);
        manufacturer = _admit("manufacturer", MANUFACTURER);
        manufacturerKey = _operator(manufacturer, "manufacturer-key");
        rival = _admit("rival", MANUFACTURER);
        distributor = _admit("distributor", DISTRIBUTOR);
        pharmacy = _admit("pharmacy", PHARMACY);
        hospital = _admit("hospital", HOSPITAL);
        auditor = _admit("auditor", AUDITOR);
        stranger = _addr("stranger");
        drugs = new DrugTrace(consortium);
        vm.prank(council[0]);
        drugs.assignPrefix("4006381", manufacturer);
        vm.prank(manufacturerKey);
        drugs.registerProduct(GTIN, "Amoxicillin 500 mg");
        batchId = _commission(LOT, 4, uint64(T0 + 30 days));
    }

    function test_constructor_rejectsZeroConsortium() public {
        vm.expectRevert(IDrugTrace.DrugTraceZeroAddress.selector);
        new DrugTrace(IConsortium(address(0)));
        vm.assertEq(drugs.consortium(), address(consortium), "consortium");
    }

    // ---- products and batches ----

    function test_registerProduct_validation() public {
        vm.expectRevert(
            abi.encodeWithSelector(IDrugTrace.DrugTraceUnauthorized.selector, pharmacy, keccak256("MANUFACTURER"))
        );
        vm.prank(pharmacy);
        drugs.registerProduct(1, "x");
        vm.startPrank(rival);
        vm.expectRevert(abi.encodeWithSelector(IDrugTrace.DrugTraceInvalidGtin.selector, 0));
        drugs.registerProduct(0, "x");
        vm.expectRevert(abi.encodeWithSelector(IDrugTrace.DrugTraceInvalidGtin.selector, 1e14));
        drugs.registerProduct(1e14, "x");
        vm.expectRevert(abi.encodeWithSelector(IDrugTrace.DrugTraceProductExists.selector, GTIN, manufacturer));
        drugs.registerProduct(GTIN, "copy");
        vm.stopPrank();
        IDrugTrace.Product memory p = drugs.getProduct(GTIN);
        vm.assertEq(p.manufacturer, manufacturer, "member, not key");
        vm.assertEq(p.registeredAt, T0, "registered at");
    }

    function test_commissionBatch_validation() public {
        uint64 exp = uint64(T0 + 1 days);
        _commissionReverts(rival, GTIN, "B", exp, 1, keccak256("r"), IDrugTrace.DrugTraceNotManufacturer.selector);
        _commissionReverts(manufacturer, 77, "B", exp, 1, keccak256("r"), IDrugTrace.DrugTraceUnknownProduct.selector);
        _commissionReverts(manufacturer, GTIN, "", exp, 1, keccak256("r"), IDrugTrace.DrugTraceInvalidLot.selector);
        _commissionReverts(
            manufacturer, GTIN, "123456789012345678901", exp, 1, keccak256("r"), IDrugTrace.DrugTraceInvalidLot.selector
        );
        _commissionReverts(
            manufacturer, GTIN, "B", uint64(T0), 1, keccak256("r"), IDrugTrace.DrugTraceInvalidExpiry.selector
        );
        _commissionReverts(
            manufacturer, GTIN, "B", exp, 0, keccak256("r"), IDrugTrace.DrugTraceInvalidQuantity.selector
        );
        _commissionReverts(manufacturer, GTIN, "B", exp, 1, bytes32(0), IDrugTrace.DrugTraceInvalidSerialRoot.selector);
        _commissionReverts(manufacturer, GTIN, LOT, exp, 1, keccak256("r"), IDrugTrace.DrugTraceBatchExists.selector);
        _commissionReverts(pharmacy, GTIN, "B", exp, 1, keccak256("r"), IDrugTrace.DrugTraceUnauthorized.selector);
        IDrugTrace.Batch memory b = drugs.getBatch(batchId);
        vm.assertEq(b.quantity, 4, "quantity");
        vm.assertEq(b.manufacturer, manufacturer, "manufacturer");
        vm.assertEq(drugs.stockOf(batchId, manufacturer).held, 4, "all units at the manufacturer");
        vm.assertEq(batchId, keccak256(abi.encode(GTIN, LOT)), "DESIGN 6.7 batch id");
    }

    // ---- custody ----

    function test_ship_recipientRules() public {
        _shipReverts(manufacturerKey, address(0), 1, IDrugTrace.DrugTraceInvalidRecipient.selector);
        _shipReverts(manufacturerKey, manufacturer, 1, IDrugTrace.DrugTraceInvalidRecipient.selector);
        _shipReverts(manufacturerKey, auditor, 1, IDrugTrace.DrugTraceInvalidRecipient.selector);
        _shipReverts(manufacturerKey, manufacturerKey, 1, IDrugTrace.DrugTraceInvalidRecipient.selector);
        _shipReverts(manufacturerKey, rival, 1, IDrugTrace.DrugTraceInvalidRecipient.selector);
        _shipReverts(manufacturerKey, distributor, 0, MerkleProof.MerkleProofInvalidMultiproof.selector);
        _shipReverts(stranger, distributor, 1, IDrugTrace.DrugTraceNotMember.selector);
        _shipReverts(distributor, pharmacy, 1, IDrugTrace.DrugTraceNotManufacturer.selector); // batch tree: maker only
        vm.expectRevert(abi.encodeWithSelector(IDrugTrace.DrugTraceUnknownBatch.selector, keccak256("nope")));
        vm.prank(manufacturer);
        drugs.ship(keccak256("nope"), distributor, _noSerials(), bytes32(0));
        uint256 id = _ship(manufacturerKey, hospital, 2);
        _shipReverts(manufacturerKey, distributor, 3, IDrugTrace.DrugTraceInsufficientStock.selector);
        IDrugTrace.Shipment memory s = drugs.getShipment(id);
        vm.assertEq(uint8(s.status), uint8(IDrugTrace.ShipmentStatus.InTransit), "in transit");
        vm.assertEq(s.from, manufacturer, "from the member");
        vm.assertEq(drugs.getBatch(batchId).inTransit, 2, "batch in transit");
        _suspend(distributor);
        _shipReverts(manufacturerKey, distributor, 1, IDrugTrace.DrugTraceInvalidRecipient.selector);
    }

    function test_ship_returnsNeedAnActiveManufacturer() public {
        uint256 id = _ship(manufacturer, pharmacy, 2);
        vm.prank(pharmacy);
        drugs.receiveShipment(id, 2, bytes32(0));
        _suspend(manufacturer);
        IDrugTrace.SerialSet memory back = _serialSet(id, _range(0, 1));
        vm.expectRevert(abi.encodeWithSelector(IDrugTrace.DrugTraceInvalidRecipient.selector, batchId, manufacturer));
        vm.prank(pharmacy);
        drugs.ship(batchId, manufacturer, back, bytes32(0));
        _reinstate(manufacturer);
        vm.prank(pharmacy);
        drugs.ship(batchId, manufacturer, back, bytes32(0));
    }

    function test_receive_rulesAndDiscrepancy() public {
        uint256 id = _ship(manufacturer, distributor, 3);
        vm.expectRevert(abi.encodeWithSelector(IDrugTrace.DrugTraceUnknownShipment.selector, 99));
        vm.prank(distributor);
        drugs.receiveShipment(99, 1, bytes32(0));
        vm.expectRevert(abi.encodeWithSelector(IDrugTrace.DrugTraceNotRecipient.selector, id, pharmacy, distributor));
        vm.prank(pharmacy);
        drugs.receiveShipment(id, 3, bytes32(0));
        vm.expectRevert(abi.encodeWithSelector(IDrugTrace.DrugTraceReceivedExceedsShipped.selector, id, 3, 4));
        vm.prank(distributor);
        drugs.receiveShipment(id, 4, bytes32(0));
        vm.warp(T0 + 1 hours);
        vm.prank(distributor);
        drugs.receiveShipment(id, 2, bytes32(0)); // one unit lost
        IDrugTrace.Batch memory b = drugs.getBatch(batchId);
        vm.assertEq(b.lost, 1, "lost");
        vm.assertEq(b.inTransit, 0, "arrived");
        vm.assertEq(drugs.stockOf(batchId, distributor).held, 2, "received");
        IDrugTrace.Shipment memory s = drugs.getShipment(id);
        vm.assertEq(uint8(s.status), uint8(IDrugTrace.ShipmentStatus.Received), "received status");
        vm.assertEq(s.receivedAt, T0 + 1 hours, "received at");
        vm.expectRevert(
            abi.encodeWithSelector(
                IDrugTrace.DrugTraceShipmentNotInTransit.selector, id, IDrugTrace.ShipmentStatus.Received
            )
        );
        vm.prank(distributor);
        drugs.receiveShipment(id, 2, bytes32(0));
        vm.assertEq(uint8(drugs.getShipment(99).status), uint8(IDrugTrace.ShipmentStatus.None), "unknown shipment");
    }

    function test_recalledOrExpired_onlyGoesBackToTheManufacturer() public {
        uint256 id = _ship(manufacturer, distributor, 2);
        vm.prank(distributor);
        drugs.receiveShipment(id, 2, bytes32(0));
        vm.prank(council[0]);
        drugs.recall(batchId, keccak256("reason"), bytes32(0));
        _shipReverts(distributor, pharmacy, 1, IDrugTrace.DrugTraceBatchRecalled.selector);
        uint256 back = _shipFrom(distributor, manufacturer, id, _range(0, 2));
        vm.prank(manufacturerKey);
        drugs.receiveShipment(back, 2, bytes32(0)); // receipt is allowed after a recall
        vm.assertEq(drugs.stockOf(batchId, manufacturer).held, 4, "all back home");

        bytes32 other = _commission("B2", 2, uint64(T0 + 1 days));
        vm.warp(T0 + 1 days + 1);
        vm.expectRevert(abi.encodeWithSelector(IDrugTrace.DrugTraceBatchExpired.selector, other, uint64(T0 + 1 days)));
        vm.prank(manufacturer);
        drugs.ship(other, distributor, _noSerials(), bytes32(0));
        vm.assertTrue(drugs.batchInfo(other).expired, "expired");
    }

    function test_ship_wholeReceivedSource() public {
        uint256 id = _ship(manufacturer, distributor, 3);
        vm.prank(distributor);
        drugs.receiveShipment(id, 3, bytes32(0));
        IDrugTrace.SerialSet memory whole = _wholeOf(id);
        vm.prank(distributor);
        uint256 onward = drugs.ship(batchId, pharmacy, whole, bytes32(0));
        IDrugTrace.Shipment memory s = drugs.getShipment(onward);
        vm.assertEq(s.quantity, 3, "every unit the source delivered");
        vm.assertEq(drugs.stockOf(batchId, distributor).held, 0, "all shipped on");
        vm.prank(pharmacy);
        drugs.receiveShipment(onward, 3, bytes32(0));
        shipLeaves[onward] = shipLeaves[id]; // same serials, same tree
        bytes32[] memory p2 = _shipProof(onward, 2);
        vm.prank(pharmacy);
        vm.assertTrue(drugs.dispense(batchId, onward, _serial(2), p2, bytes32(0)), "dispensed");
    }

    function test_ship_wholeSourceThatDeliveredNothing() public {
        uint256 id = _ship(manufacturer, distributor, 2);
        vm.prank(distributor);
        drugs.receiveShipment(id, 0, bytes32(0)); // everything lost on the way
        IDrugTrace.SerialSet memory whole = _wholeOf(id);
        vm.expectRevert(abi.encodeWithSelector(IDrugTrace.DrugTraceInvalidQuantity.selector, 0));
        vm.prank(distributor);
        drugs.ship(batchId, pharmacy, whole, bytes32(0));
    }

    function test_ship_sourceMustBeAReceivedShipmentOfTheSameBatch() public {
        uint256 id = _ship(manufacturer, distributor, 2);
        IDrugTrace.SerialSet memory fromTransit = _serialSet(id, _range(0, 1));
        vm.expectRevert(
            abi.encodeWithSelector(
                IDrugTrace.DrugTraceShipmentNotReceived.selector, id, IDrugTrace.ShipmentStatus.InTransit
            )
        );
        vm.prank(distributor);
        drugs.ship(batchId, pharmacy, fromTransit, bytes32(0));
        vm.expectRevert(abi.encodeWithSelector(IDrugTrace.DrugTraceNotRecipient.selector, id, pharmacy, distributor));
        vm.prank(pharmacy); // not the source's recipient
        drugs.ship(batchId, hospital, fromTransit, bytes32(0));
        vm.expectRevert(abi.encodeWithSelector(IDrugTrace.DrugTraceUnknownShipment.selector, 77));
        fromTransit.source = 77;
        vm.prank(distributor);
        drugs.ship(batchId, pharmacy, fromTransit, bytes32(0));

        bytes32 other = _commission("B2", 1, uint64(T0 + 30 days));
        IDrugTrace.SerialSet memory all = _noSerials();
        all.proof = new bytes32[](1);
        all.proof[0] = batchLeaves[other][0]; // one-leaf batch: its root is its leaf
        vm.prank(manufacturer);
        uint256 otherId = drugs.ship(other, distributor, all, bytes32(0));
        vm.prank(distributor);
        drugs.receiveShipment(otherId, 1, bytes32(0));
        IDrugTrace.SerialSet memory wrong = _noSerials();
        wrong.source = otherId;
        wrong.proof = new bytes32[](1);
        wrong.proof[0] = batchLeaves[other][0];
        vm.expectRevert(abi.encodeWithSelector(IDrugTrace.DrugTraceWrongBatch.selector, otherId, other, batchId));
        vm.prank(distributor);
        drugs.ship(batchId, pharmacy, wrong, bytes32(0));
    }

    function test_ship_serialsMustBeSortedAndInTheSource() public {
        IDrugTrace.SerialSet memory set = _serialSet(0, _range(0, 2));
        (set.serialHashes[0], set.serialHashes[1]) = (set.serialHashes[1], set.serialHashes[0]);
        vm.expectRevert(abi.encodeWithSelector(IDrugTrace.DrugTraceSerialsNotSorted.selector, 1));
        vm.prank(manufacturer);
        drugs.ship(batchId, distributor, set, bytes32(0));
        set.serialHashes[1] = set.serialHashes[0]; // a repeat is not strictly ascending either
        vm.expectRevert(abi.encodeWithSelector(IDrugTrace.DrugTraceSerialsNotSorted.selector, 1));
        vm.prank(manufacturer);
        drugs.ship(batchId, distributor, set, bytes32(0));

        IDrugTrace.SerialSet memory forged = _serialSet(0, _range(0, 1));
        forged.proof[0] = keccak256("not a sibling"); // a well-formed multiproof of another root
        vm.expectRevert(abi.encodeWithSelector(IDrugTrace.DrugTraceSerialsNotInSource.selector, batchId, 0));
        vm.prank(manufacturer);
        drugs.ship(batchId, distributor, forged, bytes32(0));

        uint256 id = _ship(manufacturer, distributor, 2);
        vm.prank(distributor);
        drugs.receiveShipment(id, 2, bytes32(0));
        IDrugTrace.SerialSet memory notShipped = _serialSet(0, _range(3, 1)); // serial 3 stayed at the maker
        notShipped.source = id;
        vm.expectRevert(abi.encodeWithSelector(IDrugTrace.DrugTraceSerialsNotInSource.selector, batchId, id));
        vm.prank(distributor);
        drugs.ship(batchId, pharmacy, notShipped, bytes32(0));
    }

    function test_dispense_needsAReceivedShipment() public {
        uint256 id = _ship(manufacturer, pharmacy, 2);
        bytes32[] memory p0 = _shipProof(id, 0);
        vm.expectRevert(
            abi.encodeWithSelector(
                IDrugTrace.DrugTraceShipmentNotReceived.selector, id, IDrugTrace.ShipmentStatus.InTransit
            )
        );
        vm.prank(pharmacy);
        drugs.dispense(batchId, id, _serial(0), p0, bytes32(0));
        vm.prank(pharmacy);
        drugs.returnShipment(id, bytes32(0));
        vm.expectRevert(
            abi.encodeWithSelector(
                IDrugTrace.DrugTraceShipmentNotReceived.selector, id, IDrugTrace.ShipmentStatus.Returned
            )
        );
        vm.prank(pharmacy);
        drugs.dispense(batchId, id, _serial(0), p0, bytes32(0));
    }

    // ---- dispensing ----

    function test_dispense_rulesAndDuplicates() public {
        uint256 id = _ship(manufacturer, pharmacy, 2);
        vm.prank(pharmacy);
        drugs.receiveShipment(id, 1, bytes32(0)); // one of the two listed packs arrived
        (bytes32[] memory p0, bytes32[] memory p1) = (_shipProof(id, 0), _shipProof(id, 1));
        vm.expectRevert(
            abi.encodeWithSelector(IDrugTrace.DrugTraceUnauthorized.selector, distributor, keccak256("PHARMACY"))
        );
        vm.prank(distributor);
        drugs.dispense(batchId, id, _serial(0), p0, bytes32(0));
        vm.expectRevert(abi.encodeWithSelector(IDrugTrace.DrugTraceUnknownShipment.selector, 99));
        vm.prank(pharmacy);
        drugs.dispense(batchId, 99, _serial(0), p0, bytes32(0));
        vm.expectRevert(abi.encodeWithSelector(IDrugTrace.DrugTraceSerialNotInShipment.selector, id, _serial(0)));
        vm.prank(pharmacy);
        drugs.dispense(keccak256("nope"), id, _serial(0), p0, bytes32(0)); // the commitment binds the batch
        vm.expectRevert(abi.encodeWithSelector(IDrugTrace.DrugTraceSerialNotInShipment.selector, id, _serial(3)));
        vm.prank(pharmacy);
        drugs.dispense(batchId, id, _serial(3), p0, bytes32(0)); // not in this shipment
        vm.warp(T0 + 2 hours);
        vm.prank(pharmacy);
        vm.assertTrue(drugs.dispense(batchId, id, _serial(0), p0, bytes32(0)), "first");
        vm.expectRevert(abi.encodeWithSelector(IDrugTrace.DrugTraceInsufficientStock.selector, batchId, pharmacy, 0, 1));
        vm.prank(pharmacy);
        drugs.dispense(batchId, id, _serial(1), p1, bytes32(0));
        vm.expectRevert(abi.encodeWithSelector(IDrugTrace.DrugTraceNotRecipient.selector, id, hospital, pharmacy));
        vm.prank(hospital); // never received the pack: cannot flag it
        drugs.dispense(batchId, id, _serial(0), p0, bytes32(0));
        uint256 twice = _ship(manufacturer, hospital, 1); // serial 0 listed a second time
        vm.prank(hospital);
        drugs.receiveShipment(twice, 1, bytes32(0));
        bytes32[] memory h0 = _shipProof(twice, 0);
        vm.warp(T0 + 3 hours);
        vm.prank(hospital); // a hospital scans the same pack: flagged, not dispensed again
        vm.assertFalse(drugs.dispense(batchId, twice, _serial(0), h0, bytes32(0)), "duplicate");
        IDrugTrace.SerialStatus memory st = drugs.serialStatus(batchId, _serial(0));
        vm.assertTrue(st.dispensed && st.genuine, "dispensed and genuine");
        vm.assertEq(st.dispensedBy, pharmacy, "by");
        vm.assertEq(st.dispensedAt, T0 + 2 hours, "at");
        vm.assertEq(st.duplicateCount, 1, "duplicates");
        vm.assertEq(st.lastDuplicateBy, hospital, "duplicate by");
        vm.assertEq(st.lastDuplicateAt, T0 + 3 hours, "duplicate at");
        vm.assertEq(drugs.stockOf(batchId, pharmacy).dispensed, 1, "dispensed by the pharmacy");
        IDrugTrace.SerialStatus memory fresh = drugs.serialStatus(batchId, _serial(1));
        vm.assertFalse(fresh.dispensed || fresh.genuine, "unknown without a proof");
    }

    function test_dispense_refusedAfterRecallOrExpiry() public {
        uint256 id = _ship(manufacturer, hospital, 2);
        vm.prank(hospital);
        drugs.receiveShipment(id, 2, bytes32(0));
        vm.prank(manufacturerKey);
        drugs.recall(batchId, keccak256("r"), bytes32(0));
        bytes32[] memory p0 = _shipProof(id, 0);
        vm.expectRevert(abi.encodeWithSelector(IDrugTrace.DrugTraceBatchRecalled.selector, batchId, uint64(T0)));
        vm.prank(hospital);
        drugs.dispense(batchId, id, _serial(0), p0, bytes32(0));

        bytes32 other = _commission("B3", 1, uint64(T0 + 1 days));
        IDrugTrace.SerialSet memory whole = _noSerials();
        whole.proof = new bytes32[](1);
        whole.proof[0] = batchLeaves[other][0]; // the whole one-leaf batch: proof = [root]
        vm.prank(manufacturer);
        id = drugs.ship(other, hospital, whole, bytes32(0));
        vm.prank(hospital);
        drugs.receiveShipment(id, 1, bytes32(0));
        vm.warp(T0 + 1 days + 1);
        bytes32[] memory proof = new bytes32[](0); // one-leaf tree
        vm.expectRevert(abi.encodeWithSelector(IDrugTrace.DrugTraceBatchExpired.selector, other, uint64(T0 + 1 days)));
        vm.prank(hospital);
        drugs.dispense(other, id, "B3-0", proof, bytes32(0));
    }

    function test_cancelAndReturn() public {
        uint256 id = _ship(manufacturer, pharmacy, 2);
        vm.expectRevert(abi.encodeWithSelector(IDrugTrace.DrugTraceNotSender.selector, id, pharmacy, manufacturer));
        vm.prank(pharmacy);
        drugs.cancelShipment(id, bytes32(0));
        vm.prank(manufacturerKey);
        drugs.cancelShipment(id, bytes32(0));
        vm.assertEq(drugs.stockOf(batchId, manufacturer).held, 4, "back at the sender");
        vm.assertEq(uint8(drugs.getShipment(id).status), uint8(IDrugTrace.ShipmentStatus.Cancelled), "cancelled");
        uint256 again = _ship(manufacturer, pharmacy, 2);
        vm.expectRevert(abi.encodeWithSelector(IDrugTrace.DrugTraceNotRecipient.selector, again, hospital, pharmacy));
        vm.prank(hospital);
        drugs.returnShipment(again, bytes32(0));
        vm.prank(pharmacy);
        drugs.returnShipment(again, bytes32(0));
        vm.expectRevert(
            abi.encodeWithSelector(
                IDrugTrace.DrugTraceShipmentNotInTransit.selector, again, IDrugTrace.ShipmentStatus.Returned
            )
        );
        vm.prank(pharmacy);
        drugs.receiveShipment(again, 2, bytes32(0));
        IDrugTrace.Batch memory b = drugs.getBatch(batchId);
        vm.assertEq(b.inTransit, 0, "nothing in transit");
        vm.assertEq(drugs.stockOf(batchId, manufacturer).held, 4, "all home");
    }

    // ---- recall ----

    function test_recall_rights() public {
        vm.expectRevert(
            abi.encodeWithSelector(IDrugTrace.DrugTraceNotManufacturer.selector, rival, rival, manufacturer)
        );
        vm.prank(rival);
        drugs.recall(batchId, keccak256("r"), bytes32(0));
        vm.expectRevert(
            abi.encodeWithSelector(IDrugTrace.DrugTraceUnauthorized.selector, pharmacy, keccak256("MANUFACTURER"))
        );
        vm.prank(pharmacy);
        drugs.recall(batchId, keccak256("r"), bytes32(0));
        vm.expectRevert(abi.encodeWithSelector(IDrugTrace.DrugTraceUnknownBatch.selector, keccak256("nope")));
        vm.prank(manufacturer);
        drugs.recall(keccak256("nope"), keccak256("r"), bytes32(0));
        vm.warp(T0 + 5);
        vm.prank(manufacturerKey);
        drugs.recall(batchId, keccak256("r"), bytes32(0));
        IDrugTrace.Batch memory b = drugs.getBatch(batchId);
        vm.assertEq(uint8(b.status), uint8(IDrugTrace.BatchStatus.Recalled), "recalled");
        vm.assertEq(b.recalledAt, T0 + 5, "recalled at");
        vm.assertEq(b.recallReasonHash, keccak256("r"), "reason");
        vm.expectRevert(abi.encodeWithSelector(IDrugTrace.DrugTraceBatchRecalled.selector, batchId, uint64(T0 + 5)));
        vm.prank(council[0]);
        drugs.recall(batchId, keccak256("r"), bytes32(0));
    }

    // ---- consumer views ----

    function test_verify_and_batchInfo() public view {
        IDrugTrace.SerialStatus memory st = drugs.verify(GTIN, LOT, _serial(2), _proof(2));
        vm.assertTrue(st.batchExists && st.genuine, "genuine");
        vm.assertFalse(st.recalled || st.expired || st.dispensed, "clean");
        vm.assertEq(st.expiry, T0 + 30 days, "expiry");
        IDrugTrace.SerialStatus memory unknown = drugs.verify(GTIN, "ZZ", _serial(2), _proof(2));
        vm.assertFalse(unknown.batchExists || unknown.genuine || unknown.expired, "unknown batch");
        IDrugTrace.BatchInfo memory info = drugs.batchInfo(batchId);
        vm.assertEq(info.batchId, batchId, "id");
        vm.assertEq(keccak256(bytes(info.productName)), keccak256("Amoxicillin 500 mg"), "product name");
        vm.assertFalse(info.expired, "not expired");
        vm.assertFalse(drugs.batchInfo(keccak256("nope")).expired, "unknown batch is not 'expired'");
        vm.assertEq(drugs.shipmentCount(), 0, "no shipments");
    }

    // ---- helpers ----

    function _serial(uint256 i) internal pure returns (string memory) {
        return string.concat(LOT, "-", vm.toString(i));
    }

    function _commission(string memory lot, uint32 quantity, uint64 expiry) internal returns (bytes32 id) {
        id = drugs.batchIdOf(GTIN, lot);
        bytes32[] memory leaves = new bytes32[](quantity);
        for (uint256 i = 0; i < quantity; ++i) {
            leaves[i] = drugs.serialLeaf(id, string.concat(lot, "-", vm.toString(i)));
        }
        Merkle.sort(leaves);
        bytes32[] memory t = Merkle.build(leaves);
        if (keccak256(bytes(lot)) == keccak256(bytes(LOT))) (sorted, tree) = (leaves, t);
        batchLeaves[id] = leaves;
        for (uint256 i = 0; i < quantity; ++i) {
            bytes32 inner = keccak256(abi.encode(id, string.concat(lot, "-", vm.toString(i))));
            innerOf[keccak256(bytes.concat(inner))] = inner;
        }
        vm.prank(manufacturerKey);
        drugs.commissionBatch(GTIN, lot, expiry, quantity, t[0], keccak256("certificate"), keccak256("epcis"));
    }

    function _proof(uint256 i) internal view returns (bytes32[] memory) {
        return Merkle.proof(tree, Merkle.indexOf(sorted, drugs.serialLeaf(batchId, _serial(i))));
    }

    /// @dev Ships serials 0..quantity-1 of the main batch from its tree.
    function _ship(address key, address to, uint32 quantity) internal returns (uint256) {
        return _shipFrom(key, to, 0, _range(0, quantity));
    }

    function _shipFrom(address key, address to, uint256 source, uint256[] memory serials)
        internal
        returns (uint256 id)
    {
        IDrugTrace.SerialSet memory set = _serialSet(source, serials);
        vm.prank(key);
        id = drugs.ship(batchId, to, set, keccak256("epcis"));
        bytes32[] memory leaves = new bytes32[](set.serialHashes.length);
        for (uint256 i = 0; i < leaves.length; ++i) {
            leaves[i] = keccak256(bytes.concat(set.serialHashes[i]));
        }
        shipLeaves[id] = leaves;
    }

    function _shipReverts(address key, address to, uint32 quantity, bytes4 selector) internal {
        IDrugTrace.SerialSet memory set = _serialSet(0, _range(0, quantity));
        vm.expectPartialRevert(selector);
        vm.prank(key);
        drugs.ship(batchId, to, set, bytes32(0));
    }

    function _range(uint256 first, uint256 count) internal pure returns (uint256[] memory r) {
        r = new uint256[](count);
        for (uint256 i = 0; i < count; ++i) {
            r[i] = first + i;
        }
    }

    function _noSerials() internal pure returns (IDrugTrace.SerialSet memory) {
        return IDrugTrace.SerialSet(0, new bytes32[](0), new bytes32[](0), new bool[](0));
    }

    /// @dev The SerialSet shipping serials `serials` (indices) of the main batch out of `source`.
    function _serialSet(uint256 source, uint256[] memory serials) internal view returns (IDrugTrace.SerialSet memory) {
        bytes32[] memory src = source == 0 ? batchLeaves[batchId] : shipLeaves[source];
        bytes32[] memory want = new bytes32[](serials.length);
        for (uint256 i = 0; i < serials.length; ++i) {
            want[i] = keccak256(bytes.concat(keccak256(abi.encode(batchId, _serial(serials[i])))));
        }
        Merkle.sort(want);
        uint256[] memory ks = new uint256[](want.length);
        for (uint256 i = 0; i < want.length; ++i) {
            ks[i] = Merkle.indexOf(src, want[i]);
        }
        (bytes32[] memory leaves, bytes32[] memory path, bool[] memory flags) = Merkle.multiProof(Merkle.build(src), ks);
        bytes32[] memory inner = new bytes32[](leaves.length);
        for (uint256 i = 0; i < leaves.length; ++i) {
            inner[i] = innerOf[leaves[i]];
        }
        return IDrugTrace.SerialSet(source, inner, path, flags);
    }

    /// @dev The SerialSet shipping everything shipment `source` delivered: no serials, proof = [its root].
    function _wholeOf(uint256 source) internal view returns (IDrugTrace.SerialSet memory set) {
        set = _noSerials();
        set.source = source;
        set.proof = new bytes32[](1);
        set.proof[0] = Merkle.build(shipLeaves[source])[0];
    }

    /// @dev The proof of serial `i` of the main batch in shipment `id`'s tree.
    function _shipProof(uint256 id, uint256 i) internal view returns (bytes32[] memory) {
        bytes32[] memory leaves = shipLeaves[id];
        return Merkle.proof(Merkle.build(leaves), Merkle.indexOf(leaves, drugs.serialLeaf(batchId, _serial(i))));
    }

    function _commissionReverts(
        address key,
        uint64 gtin,
        string memory lot,
        uint64 expiry,
        uint32 quantity,
        bytes32 root,
        bytes4 selector
    ) internal {
        vm.expectPartialRevert(selector);
        vm.prank(key);
        drugs.commissionBatch(gtin, lot, expiry, quantity, root, bytes32(0), bytes32(0));
    }
}
