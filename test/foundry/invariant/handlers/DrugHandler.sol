// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ModelHandler} from "./ModelHandler.sol";
import {Merkle} from "../../utils/Merkle.sol";
import {IDrugTrace} from "../../../../interfaces/IDrugTrace.sol";
import {DrugTrace} from "../../../../contracts/DrugTrace.sol";

/// @title DrugHandler
/// @notice Drives the real DrugTrace (with the real Consortium) through commissioning, shipping between every
/// kind of member (and to invalid recipients), partial receipts, dispensing with valid and invalid serial
/// proofs, duplicate scans, recalls by manufacturer and council, a distributor's suspension, and time (expiry).
/// A ghost ledger of stock per (batch, member), shipments and dispensed serials predicts every outcome.
contract DrugHandler is ModelHandler {
    uint256 internal constant MAX_QUANTITY = 8;

    struct GhostBatch {
        bytes32 id;
        address manufacturer;
        uint64 expiry;
        uint32 quantity;
        uint32 inTransit;
        uint32 dispensed;
        uint32 lost;
        bool recalled;
        bytes32[] sortedLeaves; // serial leaves, ascending (OpenZeppelin StandardMerkleTree order)
        bytes32[] tree;
    }

    struct GhostShipment {
        uint256 batch; // index into _batches
        address from;
        address to;
        uint32 quantity;
        uint32 received;
        uint8 status; // IDrugTrace.ShipmentStatus: 1 in transit, 2 received, 3 cancelled, 4 returned
    }

    DrugTrace public drugs;

    address public m0;
    address public m0Key;
    address public m1;
    address public d0;
    address public d1; // suspended and reinstated at random
    address public p0;
    address public p1;
    address public p1Key;
    address public hospital;
    address public auditor; // a member without a holding role: never a valid recipient
    address public stranger;

    address[] public members; // every member that can hold stock
    address[] internal _senders; // keys that act for members (some are member addresses)
    address[] internal _dispensers;
    mapping(address member => uint64 gtin) internal _gtinOf;

    GhostBatch[] internal _batches;
    GhostShipment[] internal _shipments;
    mapping(uint256 batch => mapping(address member => uint32)) public ghostHeld;
    mapping(uint256 batch => mapping(address member => uint32)) public ghostDispensedBy;
    mapping(bytes32 serialLeaf => uint256) public firstDispenses;
    mapping(address member => bool) public ghostSuspended;
    mapping(bytes32 id => uint256) internal _batchIndex; // index + 1
    mapping(uint256 shipmentId => bytes32[]) internal _shipLeaves; // sorted serial leaves of each shipment
    mapping(bytes32 leaf => bytes32) internal _innerOf; // keccak256(abi.encode(batchId, serial))
    mapping(bytes32 leaf => uint256) internal _serialIndex; // serial number + 1

    uint256 public calls; // handler actions so far (the invariants rotate their per-serial checks on it)

    constructor() {
        vm.warp(T0);
        _deployConsortium(3, 2);
        m0 = _admit("manufacturer0", MANUFACTURER);
        m0Key = _operator(m0, "manufacturer0-key");
        m1 = _admit("manufacturer1", MANUFACTURER | DISTRIBUTOR);
        d0 = _admit("distributor0", DISTRIBUTOR);
        d1 = _admit("distributor1", DISTRIBUTOR);
        p0 = _admit("pharmacy0", PHARMACY);
        p1 = _admit("pharmacy1", PHARMACY);
        p1Key = _operator(p1, "pharmacy1-key");
        hospital = _admit("hospital", HOSPITAL);
        auditor = _admit("auditor", AUDITOR);
        stranger = _addr("stranger");
        drugs = new DrugTrace(consortium);
        (_gtinOf[m0], _gtinOf[m1]) = (4_006_381_333_931, 9_506_000_134_352);
        for (uint256 c = 0; c < 2; ++c) {
            vm.prank(council[c]); // 2-of-3: the second approval assigns
            drugs.assignPrefix("4006381", m0);
            vm.prank(council[c]);
            drugs.assignPrefix("9506000", m1);
        }
        vm.prank(m0Key);
        drugs.registerProduct(_gtinOf[m0], "Amoxicillin 500 mg");
        vm.prank(m1);
        drugs.registerProduct(_gtinOf[m1], "Insulin glargine");
        address[7] memory holding = [m0, m1, d0, d1, p0, p1, hospital];
        address[8] memory senders = [m0Key, m1, d0, d1, p0, p1Key, hospital, auditor];
        for (uint256 i = 0; i < holding.length; ++i) {
            members.push(holding[i]);
        }
        for (uint256 i = 0; i < senders.length; ++i) {
            _senders.push(senders[i]);
        }
        _dispensers = _list(p0, p1Key, hospital, d0);
    }

    modifier counted() {
        ++calls;
        _;
    }

    // ---- actions ----

    function commission(bool byM1, uint8 quantitySeed, uint32 expirySeed, bool wrongProduct) external counted {
        address member = byM1 ? m1 : m0;
        address key = byM1 ? m1 : m0Key;
        uint64 gtin = _gtinOf[wrongProduct && expirySeed % 8 == 0 ? (byM1 ? m0 : m1) : member];
        uint32 quantity = uint32(1 + quantitySeed % MAX_QUANTITY);
        uint64 expiry = _now() + 2 days + uint64(expirySeed % 40 days);
        string memory lot = string.concat("L", vm.toString(_batches.length));
        bytes32 id = drugs.batchIdOf(gtin, lot);
        (bytes32[] memory sorted, bytes32[] memory tree) = _serialTree(id, _batches.length, quantity);
        bool expected = gtin == _gtinOf[member];
        vm.prank(key);
        try drugs.commissionBatch(
            gtin, lot, expiry, quantity, tree[0], keccak256(bytes(lot)), keccak256("epcis")
        ) returns (
            bytes32 newId
        ) {
            _expectSuccess(expected, "commission");
            _check(newId == id, "batch id");
            GhostBatch storage b = _batches.push();
            (b.id, b.manufacturer, b.expiry, b.quantity) = (id, member, expiry, quantity);
            (b.sortedLeaves, b.tree) = (sorted, tree);
            ghostHeld[_batches.length - 1][member] = quantity;
            _batchIndex[id] = _batches.length;
            _indexSerials(id, _batches.length - 1, quantity);
        } catch {
            _expectFailure(expected, "commission");
        }
    }

    function ship(uint256 batchChoice, uint8 senderChoice, uint8 toChoice, uint8 quantitySeed) external counted {
        if (_batches.length == 0) return;
        uint256 bi = batchChoice % _batches.length;
        GhostBatch storage b = _batches[bi];
        address key = _senderHolding(bi, senderChoice);
        address from = _memberOf(key);
        address to = _recipient(toChoice);
        uint256 source = _sourceOf(bi, from, quantitySeed);
        (IDrugTrace.SerialSet memory set, bytes32[] memory shipped, uint32 quantity) = _serialSet(bi, source, quantitySeed);
        bool sourceOk = source != 0 || from == b.manufacturer;
        bool expected = from != address(0) && !ghostSuspended[from] && sourceOk && quantity != 0
            && quantity <= ghostHeld[bi][from] && _validRecipient(b, from, to);
        vm.prank(key);
        try drugs.ship(b.id, to, set, keccak256("epcis")) returns (uint256 shipmentId) {
            _expectSuccess(expected, "ship");
            _check(shipmentId == _shipments.length + 1, "shipment ids must run 1, 2, ...");
            _shipments.push(GhostShipment(bi, from, to, quantity, 0, 1));
            _shipLeaves[shipmentId] = shipped;
            ghostHeld[bi][from] -= quantity;
            b.inTransit += quantity;
        } catch {
            _expectFailure(expected, "ship");
        }
    }

    function receiveShipment(uint256 shipmentChoice, uint8 callerChoice, uint8 quantitySeed) external counted {
        if (_shipments.length == 0) return;
        uint256 id = _pendingShipment(shipmentChoice);
        GhostShipment storage s = _shipments[id - 1];
        address caller = callerChoice % 4 == 0 ? _senders[callerChoice % _senders.length] : _keyOf(s.to);
        uint32 received = quantitySeed % 4 == 0 ? uint32(quantitySeed % (s.quantity + 2)) : s.quantity;
        bool expected = s.status == 1 && _memberOf(caller) == s.to && !ghostSuspended[s.to] && received <= s.quantity;
        vm.prank(caller);
        try drugs.receiveShipment(id, received, keccak256("epcis")) {
            _expectSuccess(expected, "receiveShipment");
            (s.status, s.received) = (2, received);
            GhostBatch storage b = _batches[s.batch];
            b.inTransit -= s.quantity;
            b.lost += s.quantity - received;
            ghostHeld[s.batch][s.to] += received;
        } catch {
            _expectFailure(expected, "receiveShipment");
        }
    }

    /// @notice The sender cancels, or the recipient returns, a shipment in transit.
    function unship(uint256 shipmentChoice, uint8 callerChoice, bool cancel) external counted {
        if (_shipments.length == 0) return;
        uint256 id = _pendingShipment(shipmentChoice);
        GhostShipment storage s = _shipments[id - 1];
        address party = cancel ? s.from : s.to;
        address caller = callerChoice % 4 == 0 ? _senders[callerChoice % _senders.length] : _keyOf(party);
        bool expected = s.status == 1 && _memberOf(caller) == party && !ghostSuspended[party];
        bool done;
        vm.prank(caller);
        if (cancel) {
            try drugs.cancelShipment(id, keccak256("epcis")) {
                done = true;
            } catch {}
        } else {
            try drugs.returnShipment(id, keccak256("epcis")) {
                done = true;
            } catch {}
        }
        string memory action = cancel ? "cancelShipment" : "returnShipment";
        if (!done) {
            _expectFailure(expected, action);
            return;
        }
        _expectSuccess(expected, action);
        s.status = cancel ? 3 : 4;
        _batches[s.batch].inTransit -= s.quantity;
        ghostHeld[s.batch][s.from] += s.quantity;
    }

    /// @dev One dispense attempt, prepared (keeps `dispense` under the stack limit).
    struct DispenseCase {
        uint256 id;
        uint256 batch;
        address key;
        address member;
        bytes32 leaf;
        string serial;
        bytes32[] proof;
        bool duplicate;
        bool expected;
    }

    function dispense(uint256 shipmentChoice, uint8 serialChoice, uint8 dispenserChoice, bool badProof)
        external
        counted
    {
        if (_shipments.length == 0) return;
        DispenseCase memory c = _dispenseCase(shipmentChoice, serialChoice, dispenserChoice, badProof);
        GhostBatch storage b = _batches[c.batch];
        vm.prank(c.key);
        try drugs.dispense(b.id, c.id, c.serial, c.proof, keccak256("epcis")) returns (bool first) {
            _expectSuccess(c.expected, "dispense");
            _check(first == !c.duplicate, "dispense: first/duplicate flag");
            if (first) {
                ++firstDispenses[c.leaf];
                ++b.dispensed;
                --ghostHeld[c.batch][c.member];
                ++ghostDispensedBy[c.batch][c.member];
            } else {
                ++succeeded["dispense:duplicate"];
            }
        } catch {
            _expectFailure(c.expected, "dispense");
        }
    }

    function _dispenseCase(uint256 shipmentChoice, uint8 serialChoice, uint8 dispenserChoice, bool badProof)
        internal
        view
        returns (DispenseCase memory c)
    {
        (c.id, c.key) = _dispenserShipment(shipmentChoice, dispenserChoice);
        GhostShipment storage s = _shipments[c.id - 1];
        c.batch = s.batch;
        bytes32[] memory leaves = _shipLeaves[c.id];
        if (leaves.length == 0) leaves = _batches[s.batch].sortedLeaves; // an empty (failed) record: any serial
        uint256 k = _leafChoice(leaves, serialChoice);
        c.leaf = leaves[k];
        c.serial = _serial(s.batch, _serialIndex[c.leaf] - 1);
        c.proof = Merkle.proof(Merkle.build(leaves), k);
        bool proofOk = !(badProof && serialChoice % 4 == 0) && _shipLeaves[c.id].length > 0;
        if (badProof && serialChoice % 4 == 0) c.proof = _corrupt(c.proof, _batches[s.batch].id);
        c.member = _memberOf(c.key);
        bool canDispense = c.key != d0 && proofOk && s.status == 2 && c.member == s.to; // d0: DISTRIBUTOR only
        c.duplicate = firstDispenses[c.leaf] != 0;
        c.expected = canDispense
            && (c.duplicate || (_usable(_batches[s.batch]) && ghostHeld[s.batch][c.member] >= 1));
    }

    function recall(uint256 batchChoice, uint8 byChoice) external counted {
        if (_batches.length == 0 || batchChoice % 3 != 0) return; // recalls are rare events
        GhostBatch storage b = _batches[batchChoice % _batches.length];
        byChoice %= 4;
        address caller = byChoice == 0 ? council[1] : (byChoice == 1 ? m0Key : (byChoice == 2 ? m1 : p0));
        address member = _memberOf(caller);
        bool authorized = byChoice == 0 || ((byChoice == 1 || byChoice == 2) && member == b.manufacturer);
        bool expected = authorized && !b.recalled;
        vm.prank(caller);
        try drugs.recall(b.id, keccak256("reason"), keccak256("epcis")) {
            _expectSuccess(expected, "recall");
            b.recalled = true;
        } catch {
            _expectFailure(expected, "recall");
        }
    }

    /// @dev Suspends (one time in three) or reinstates distributor1 through the council.
    function toggleDistributor(uint8 seed) external counted {
        if (ghostSuspended[d1]) _reinstate(d1);
        else if (seed % 3 == 0) _suspend(d1);
        else return;
        ghostSuspended[d1] = !ghostSuspended[d1];
        ++succeeded["toggleDistributor"];
    }

    function warp(uint32 secondsAhead) external counted {
        uint256 step = secondsAhead % 8 == 0 ? secondsAhead % 30 days : secondsAhead % 2 days;
        vm.warp(block.timestamp + step);
    }

    // ---- views for the invariants ----

    function batchCount() external view returns (uint256) {
        return _batches.length;
    }

    function batchId(uint256 bi) external view returns (bytes32) {
        return _batches[bi].id;
    }

    /// @notice Every batch id, in handler order.
    function allBatchIds() external view returns (bytes32[] memory ids) {
        ids = new bytes32[](_batches.length);
        for (uint256 i = 0; i < ids.length; ++i) {
            ids[i] = _batches[i].id;
        }
    }

    /// @notice The ghost stock of batch `bi`: per member (in `members` order) units held and dispensed.
    function ghostStock(uint256 bi) external view returns (uint32[] memory held, uint32[] memory dispensedBy) {
        (held, dispensedBy) = (new uint32[](members.length), new uint32[](members.length));
        for (uint256 m = 0; m < members.length; ++m) {
            (held[m], dispensedBy[m]) = (ghostHeld[bi][members[m]], ghostDispensedBy[bi][members[m]]);
        }
    }

    /// @notice The handler index of batch `id` (reverts if unknown).
    function batchIndex(bytes32 id) external view returns (uint256) {
        uint256 i = _batchIndex[id];
        require(i != 0, "unknown batch");
        return i - 1;
    }

    function memberCount() external view returns (uint256) {
        return members.length;
    }

    function shipmentCount() external view returns (uint256) {
        return _shipments.length;
    }

    function ghostBatch(uint256 bi) external view returns (uint32 inTransit, uint32 dispensed, uint32 lost) {
        GhostBatch storage b = _batches[bi];
        return (b.inTransit, b.dispensed, b.lost);
    }

    function serialOf(uint256 bi, uint256 i) external pure returns (string memory) {
        return _serial(bi, i);
    }

    // ---- internal ----

    function _serial(uint256 bi, uint256 i) internal pure returns (string memory) {
        return string.concat("S", vm.toString(bi), "-", vm.toString(i));
    }

    function _serialTree(bytes32 id, uint256 bi, uint32 quantity)
        internal
        pure
        returns (bytes32[] memory sorted, bytes32[] memory tree)
    {
        sorted = new bytes32[](quantity);
        for (uint256 i = 0; i < quantity; ++i) {
            sorted[i] = keccak256(bytes.concat(keccak256(abi.encode(id, _serial(bi, i)))));
        }
        Merkle.sort(sorted);
        tree = Merkle.build(sorted);
    }

    /// @dev Remembers each serial's inner hash and number by leaf (after a successful commission).
    function _indexSerials(bytes32 id, uint256 bi, uint32 quantity) internal {
        for (uint256 i = 0; i < quantity; ++i) {
            bytes32 inner = keccak256(abi.encode(id, _serial(bi, i)));
            bytes32 leaf = keccak256(bytes.concat(inner));
            (_innerOf[leaf], _serialIndex[leaf]) = (inner, i + 1);
        }
    }

    /// @dev A source `from` can ship from: mostly a shipment of batch `bi` it received, else the batch tree.
    function _sourceOf(uint256 bi, address from, uint8 seed) internal view returns (uint256) {
        uint256 n = _shipments.length;
        if (seed % 3 != 0 || from != _batches[bi].manufacturer) {
            for (uint256 t = 0; t < n; ++t) {
                uint256 i = (seed + t) % n;
                GhostShipment storage s = _shipments[i];
                if (s.batch == bi && s.to == from && s.status == 2) return i + 1;
            }
        }
        return 0;
    }

    /// @dev The SerialSet for a ship from `source`: one time in five the whole source (proof = [root]), one time
    /// in sixteen nothing (an invalid empty set), else a run of its sorted leaves with their OZ multiproof.
    function _serialSet(uint256 bi, uint256 source, uint8 seed)
        internal
        view
        returns (IDrugTrace.SerialSet memory set, bytes32[] memory shipped, uint32 quantity)
    {
        bytes32[] memory src = source == 0 ? _batches[bi].sortedLeaves : _shipLeaves[source];
        bytes32[] memory t = Merkle.build(src);
        if (seed % 16 == 1) {
            return (IDrugTrace.SerialSet(source, new bytes32[](0), new bytes32[](0), new bool[](0)), shipped, 0);
        }
        if (seed % 5 == 0) {
            bytes32[] memory rootOnly = new bytes32[](1);
            rootOnly[0] = t[0];
            quantity = source == 0 ? _batches[bi].quantity : _shipments[source - 1].received;
            return (IDrugTrace.SerialSet(source, new bytes32[](0), rootOnly, new bool[](0)), src, quantity);
        }
        uint256 count = 1 + seed % src.length;
        uint256 first = (seed / 7) % (src.length - count + 1);
        uint256[] memory ks = new uint256[](count);
        for (uint256 i = 0; i < count; ++i) {
            ks[i] = first + i;
        }
        bytes32[] memory path;
        bool[] memory flags;
        (shipped, path, flags) = Merkle.multiProof(t, ks);
        bytes32[] memory inner = new bytes32[](count);
        for (uint256 i = 0; i < count; ++i) {
            inner[i] = _innerOf[shipped[i]];
        }
        return (IDrugTrace.SerialSet(source, inner, path, flags), shipped, uint32(count));
    }

    /// @dev Three times in four a received shipment at a pharmacy or the hospital with its key, else any shipment
    /// and any dispenser key.
    function _dispenserShipment(uint256 choice, uint8 dispenserChoice) internal view returns (uint256, address) {
        uint256 n = _shipments.length;
        if (dispenserChoice % 4 != 0) {
            for (uint256 t = 0; t < n; ++t) {
                uint256 i = (choice % n + t) % n;
                GhostShipment storage s = _shipments[i];
                if (s.status == 2 && (s.to == p0 || s.to == p1 || s.to == hospital) && _shipLeaves[i + 1].length > 0) {
                    return (i + 1, _keyOf(s.to));
                }
            }
        }
        return (1 + choice % n, _dispensers[dispenserChoice % _dispensers.length]);
    }

    /// @dev Mostly a leaf not dispensed yet; one time in four any leaf (a duplicate scan, perhaps).
    function _leafChoice(bytes32[] memory leaves, uint8 choice) internal view returns (uint256) {
        if (choice % 4 == 0) return (choice / 4) % leaves.length;
        for (uint256 t = 0; t < leaves.length; ++t) {
            uint256 i = (choice + t) % leaves.length;
            if (firstDispenses[leaves[i]] == 0) return i;
        }
        return choice % leaves.length;
    }

    /// @dev A wrong proof: an extra or altered sibling (a one-leaf tree has an empty proof).
    function _corrupt(bytes32[] memory proof, bytes32 salt) internal pure returns (bytes32[] memory bad) {
        if (proof.length == 0) {
            bad = new bytes32[](1);
            bad[0] = salt;
            return bad;
        }
        proof[0] = keccak256(abi.encode(proof[0], salt));
        return proof;
    }

    /// @dev Mostly a key of a member that holds stock of batch `bi`, else any sender key.
    function _senderHolding(uint256 bi, uint8 choice) internal view returns (address) {
        if (choice % 4 != 0) {
            for (uint256 t = 0; t < members.length; ++t) {
                address member = members[(choice + t) % members.length];
                if (ghostHeld[bi][member] > 0) return _keyOf(member);
            }
        }
        return _senders[choice % _senders.length];
    }

    /// @dev A member address that can hold stock, or now and then an invalid one (a key, a non-holder, a stranger).
    function _recipient(uint8 choice) internal view returns (address) {
        uint8 c = choice % 16;
        if (c == 0) return p1Key;
        if (c == 1) return auditor;
        if (c == 2) return stranger;
        if (c < 10) return [p0, p1, hospital][choice % 3]; // where stock is dispensed
        return members[choice % members.length];
    }

    function _validRecipient(GhostBatch storage b, address from, address to) internal view returns (bool) {
        if (to == from) return false;
        if (to == b.manufacturer) return true; // returns, even after a recall or expiry
        bool holder = to == d0 || to == d1 || to == p0 || to == p1 || to == hospital || to == m1; // m1 also DISTRIBUTOR
        return holder && !ghostSuspended[to] && _usable(b);
    }

    function _usable(GhostBatch storage b) internal view returns (bool) {
        return !b.recalled && _now() <= b.expiry;
    }

    function _pendingShipment(uint256 choice) internal view returns (uint256) {
        uint256 n = _shipments.length;
        if (choice % 4 != 0) {
            for (uint256 t = 0; t < n; ++t) {
                uint256 i = (choice % n + t) % n;
                if (_shipments[i].status == 1) return i + 1;
            }
        }
        return 1 + choice % n;
    }

    function _memberOf(address key) internal view returns (address) {
        if (key == m0Key) return m0;
        if (key == p1Key) return p1;
        if (key == stranger) return address(0);
        return key;
    }

    function _keyOf(address member) internal view returns (address) {
        if (member == m0) return m0Key;
        if (member == p1) return p1Key;
        return member;
    }
}
