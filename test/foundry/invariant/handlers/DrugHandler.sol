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
        bool received;
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
        uint32 held = ghostHeld[bi][from];
        uint32 quantity =
            quantitySeed % 8 == 0 ? uint32(quantitySeed % 3) : uint32(1 + quantitySeed % (held == 0 ? 1 : held));
        bool expected = from != address(0) && !ghostSuspended[from] && quantity != 0 && quantity <= held
            && _validRecipient(b, from, to);
        vm.prank(key);
        try drugs.ship(b.id, to, quantity, keccak256("epcis")) returns (uint256 shipmentId) {
            _expectSuccess(expected, "ship");
            _check(shipmentId == _shipments.length + 1, "shipment ids must run 1, 2, ...");
            _shipments.push(GhostShipment(bi, from, to, quantity, false));
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
        bool expected = !s.received && _memberOf(caller) == s.to && !ghostSuspended[s.to] && received <= s.quantity;
        vm.prank(caller);
        try drugs.receiveShipment(id, received, keccak256("epcis")) {
            _expectSuccess(expected, "receiveShipment");
            s.received = true;
            GhostBatch storage b = _batches[s.batch];
            b.inTransit -= s.quantity;
            b.lost += s.quantity - received;
            ghostHeld[s.batch][s.to] += received;
        } catch {
            _expectFailure(expected, "receiveShipment");
        }
    }

    function dispense(uint256 batchChoice, uint8 serialChoice, uint8 dispenserChoice, bool badProof) external counted {
        if (_batches.length == 0) return;
        (uint256 bi, address key) = _dispenserWithStock(batchChoice, dispenserChoice);
        GhostBatch storage b = _batches[bi];
        address member = _memberOf(key);
        string memory serial = _serial(bi, _serialChoice(bi, serialChoice));
        bytes32 leaf = drugs.serialLeaf(b.id, serial);
        bytes32[] memory proof = Merkle.proof(b.tree, Merkle.indexOf(b.sortedLeaves, leaf));
        bool proofOk = !(badProof && serialChoice % 4 == 0);
        if (!proofOk) proof = _corrupt(proof, b.id);
        bool canDispense = key != d0 && proofOk; // d0 holds DISTRIBUTOR only
        bool duplicate = firstDispenses[leaf] != 0;
        bool expected = canDispense && (duplicate || (_usable(b) && ghostHeld[bi][member] >= 1));
        vm.prank(key);
        try drugs.dispense(b.id, serial, proof, keccak256("epcis")) returns (bool first) {
            _expectSuccess(expected, "dispense");
            _check(first == !duplicate, "dispense: first/duplicate flag");
            if (first) {
                ++firstDispenses[leaf];
                ++b.dispensed;
                --ghostHeld[bi][member];
                ++ghostDispensedBy[bi][member];
            } else {
                ++succeeded["dispense:duplicate"];
            }
        } catch {
            _expectFailure(expected, "dispense");
        }
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

    /// @dev Three times in four a (batch, dispenser key) whose member holds stock, else random ones.
    function _dispenserWithStock(uint256 batchChoice, uint8 dispenserChoice) internal view returns (uint256, address) {
        uint256 n = _batches.length;
        if (dispenserChoice % 4 != 0) {
            for (uint256 t = 0; t < n; ++t) {
                uint256 bi = (batchChoice % n + t) % n;
                for (uint256 k = 0; k < 3; ++k) {
                    address key = _dispensers[(dispenserChoice + k) % 3]; // p0, p1Key, hospital
                    if (ghostHeld[bi][_memberOf(key)] > 0) return (bi, key);
                }
            }
        }
        return (batchChoice % n, _dispensers[dispenserChoice % _dispensers.length]);
    }

    /// @dev Mostly a serial not dispensed yet; one time in four any serial (a duplicate scan, perhaps).
    function _serialChoice(uint256 bi, uint8 choice) internal view returns (uint256) {
        GhostBatch storage b = _batches[bi];
        if (choice % 4 == 0) return (choice / 4) % b.quantity;
        for (uint256 t = 0; t < b.quantity; ++t) {
            uint256 i = (choice + t) % b.quantity;
            if (firstDispenses[keccak256(bytes.concat(keccak256(abi.encode(b.id, _serial(bi, i)))))] == 0) return i;
        }
        return choice % b.quantity;
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
                if (!_shipments[i].received) return i + 1;
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
