// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Hashes} from "@openzeppelin/contracts/utils/cryptography/Hashes.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {IConsortium} from "../interfaces/IConsortium.sol";
import {IDrugTrace} from "../interfaces/IDrugTrace.sol";
import {Roles} from "./libraries/Roles.sol";

/// @title DrugTrace
/// @notice GTIN products, serialised batches, custody hand-overs, once-only dispensing with duplicate-scan
/// flags, recalls and expiry. Stores public supply-chain data only (see IDrugTrace); roles and members come
/// from the Consortium.
contract DrugTrace is IDrugTrace {
    /// @dev Shipment storage: four slots (the source is in DrugShipped only). A dispense reads slots 2 and 3
    /// only: the commitment binds the batch, so the batch id in slot 0 is not read (2,100 gas, 3% of a dispense).
    struct StoredShipment {
        bytes32 batchId; // slot 0
        address from; // slot 1: 20 + 4 + 8 bytes
        uint32 quantity;
        uint64 shippedAt;
        address to; // slot 2: 20 + 1 + 4 + 5 bytes (uint40 seconds last until year 36812)
        ShipmentStatus status;
        uint32 quantityReceived;
        uint40 closedAt; // received, cancelled or returned
        bytes32 serialCommitment; // slot 3: keccak256(abi.encode(batchId, serialRoot))
    }

    /// @dev A GS1 Company Prefix's owner, and how many assigned prefixes start with it (always 0 or the
    /// prefix is unassigned: prefixes never nest).
    struct PrefixEntry {
        address manufacturer;
        uint32 nested;
    }

    /// @dev An open council motion: when its first approval came, and the approving members.
    struct Motion {
        uint64 openedAt;
        address[] approvers; // one entry per council member: bounded by the council's size
    }

    /// @dev First dispense of a serial and its duplicate count: one slot (20 + 8 + 4 bytes).
    struct Dispensation {
        address member;
        uint64 at;
        uint32 duplicates;
    }

    /// @dev The last duplicate dispense attempt of a serial: one slot, written only on duplicates.
    struct DuplicateScan {
        address member;
        uint64 at;
    }

    /// @dev A GTIN-14 has 14 digits.
    uint64 private constant _GTIN_LIMIT = 1e14;
    /// @dev The GTIN-13 inside a GTIN-14 (after the indicator digit) has 13 digits.
    uint64 private constant _GTIN13_LIMIT = 1e13;
    /// @dev A GS1 Company Prefix has 6..12 digits.
    uint256 private constant _MIN_PREFIX_DIGITS = 6;
    uint256 private constant _MAX_PREFIX_DIGITS = 12;
    /// @dev GS1 AI 10 (batch/lot) holds up to 20 characters.
    uint256 private constant _MAX_LOT_LENGTH = 20;

    IConsortium private immutable _consortium;

    mapping(uint64 gtin => Product) private _products;
    mapping(bytes32 batchId => Batch) private _batches;
    mapping(bytes32 batchId => mapping(address member => Stock)) private _stock;
    mapping(uint256 shipmentId => StoredShipment) private _shipments;
    mapping(bytes32 serialLeaf => Dispensation) private _dispensations;
    mapping(bytes32 serialLeaf => DuplicateScan) private _lastDuplicates;
    uint256 private _shipmentCount;
    mapping(uint64 prefixKey => PrefixEntry) private _prefixes;
    mapping(bytes32 motionId => Motion) private _motions;
    mapping(bytes32 subject => uint256) private _motionRounds;

    constructor(IConsortium consortium_) {
        if (address(consortium_) == address(0)) revert DrugTraceZeroAddress();
        _consortium = consortium_;
    }

    // ---- GS1 Company Prefixes and product ownership ----

    /// @inheritdoc IDrugTrace
    function assignPrefix(string calldata prefix, address manufacturer) external returns (bool done) {
        address member = _checkRole(msg.sender, Roles.COUNCIL);
        uint64 key = prefixKey(prefix);
        address previous = _prefixes[key].manufacturer;
        if (previous == manufacturer) revert DrugTraceNoChange(MotionKind.AssignPrefix, key, manufacturer);
        if (manufacturer != address(0)) _checkManufacturer(manufacturer);
        if (previous == address(0)) _checkNoOverlap(prefix, key);
        if (!_approve(member, MotionKind.AssignPrefix, key, manufacturer)) return false;
        if (previous == address(0) || manufacturer == address(0)) {
            _countNested(key, manufacturer == address(0));
        }
        _prefixes[key].manufacturer = manufacturer;
        emit PrefixAssigned(prefix, manufacturer, previous);
        return true;
    }

    /// @inheritdoc IDrugTrace
    function reassignProduct(uint64 gtin, address manufacturer) external returns (bool done) {
        address member = _checkRole(msg.sender, Roles.COUNCIL);
        Product storage product = _products[gtin];
        address previous = product.manufacturer;
        if (previous == address(0)) revert DrugTraceUnknownProduct(gtin);
        if (previous == manufacturer) revert DrugTraceNoChange(MotionKind.ReassignProduct, gtin, manufacturer);
        if (manufacturer == address(0)) revert DrugTraceNotAManufacturer(manufacturer); // a product always has one
        _checkManufacturer(manufacturer);
        if (!_approve(member, MotionKind.ReassignProduct, gtin, manufacturer)) return false;
        product.manufacturer = manufacturer;
        emit ProductReassigned(gtin, manufacturer, previous);
        return true;
    }

    // ---- products and batches ----

    /// @inheritdoc IDrugTrace
    function registerProduct(uint64 gtin, string calldata name) external {
        address member = _checkRole(msg.sender, Roles.MANUFACTURER);
        if (gtin == 0 || gtin >= _GTIN_LIMIT) revert DrugTraceInvalidGtin(gtin);
        Product storage product = _products[gtin];
        if (product.manufacturer != address(0)) revert DrugTraceProductExists(gtin, product.manufacturer);
        (address owner,) = prefixOf(gtin);
        if (owner != member) revert DrugTraceGtinOutsidePrefixes(gtin, member);
        product.manufacturer = member;
        product.registeredAt = _time();
        product.name = name;
        emit ProductRegistered(gtin, member, name);
    }

    /// @inheritdoc IDrugTrace
    function commissionBatch(
        uint64 gtin,
        string calldata lot,
        uint64 expiry,
        uint32 quantity,
        bytes32 serialRoot,
        bytes32 certificateHash,
        bytes32 epcisHash
    ) external returns (bytes32 batchId) {
        address member = _checkProductOwner(msg.sender, gtin);
        _checkBatchParams(lot, expiry, quantity, serialRoot);
        batchId = batchIdOf(gtin, lot);
        Batch storage batch = _batches[batchId];
        if (batch.status != BatchStatus.None) revert DrugTraceBatchExists(batchId);
        (batch.status, batch.expiry, batch.quantity) = (BatchStatus.Active, expiry, quantity);
        (batch.manufacturer, batch.gtin, batch.commissionedAt) = (member, gtin, _time());
        (batch.serialRoot, batch.certificateHash, batch.lot) = (serialRoot, certificateHash, lot);
        _stock[batchId][member].held = quantity;
        emit BatchCommissioned(batchId, gtin, member, lot, expiry, quantity, serialRoot, certificateHash, epcisHash);
    }

    // ---- custody ----

    /// @inheritdoc IDrugTrace
    function ship(bytes32 batchId, address to, SerialSet calldata serials, bytes32 epcisHash)
        external
        returns (uint256 shipmentId)
    {
        address from = _activeMember(msg.sender);
        Batch storage batch = _existingBatch(batchId);
        _checkRecipient(batchId, batch, from, to);
        (bytes32 root, uint32 quantity) = _shippedSerials(batchId, batch, from, serials);
        if (quantity == 0) revert DrugTraceInvalidQuantity(quantity);
        _takeStock(batchId, from, quantity);
        batch.inTransit += quantity;
        shipmentId = ++_shipmentCount;
        _shipments[shipmentId] = StoredShipment(
            batchId, from, quantity, _time(), to, ShipmentStatus.InTransit, 0, 0, _commit(batchId, root)
        );
        emit DrugShipped(batchId, shipmentId, from, to, quantity, serials.source, root, epcisHash);
    }

    /// @inheritdoc IDrugTrace
    function receiveShipment(uint256 shipmentId, uint32 quantityReceived, bytes32 epcisHash) external {
        StoredShipment storage shipment = _inTransit(shipmentId);
        (address to, uint32 shipped, bytes32 batchId) = (shipment.to, shipment.quantity, shipment.batchId);
        if (_activeMember(msg.sender) != to) revert DrugTraceNotRecipient(shipmentId, msg.sender, to);
        if (quantityReceived > shipped) revert DrugTraceReceivedExceedsShipped(shipmentId, shipped, quantityReceived);
        (shipment.status, shipment.quantityReceived, shipment.closedAt) =
            (ShipmentStatus.Received, quantityReceived, uint40(block.timestamp));
        Batch storage batch = _batches[batchId];
        batch.inTransit -= shipped;
        batch.lost += shipped - quantityReceived;
        _stock[batchId][to].held += quantityReceived;
        emit DrugReceived(batchId, shipmentId, to, shipment.from, quantityReceived, epcisHash);
        if (quantityReceived < shipped) {
            emit DrugReceiptDiscrepancy(batchId, shipmentId, to, shipped, quantityReceived, epcisHash);
        }
    }

    /// @inheritdoc IDrugTrace
    function cancelShipment(uint256 shipmentId, bytes32 epcisHash) external {
        StoredShipment storage shipment = _inTransit(shipmentId);
        address from = shipment.from;
        if (_activeMember(msg.sender) != from) revert DrugTraceNotSender(shipmentId, msg.sender, from);
        uint32 quantity = _unship(shipment, ShipmentStatus.Cancelled);
        emit ShipmentCancelled(shipment.batchId, shipmentId, from, quantity, epcisHash);
    }

    /// @inheritdoc IDrugTrace
    function returnShipment(uint256 shipmentId, bytes32 epcisHash) external {
        StoredShipment storage shipment = _inTransit(shipmentId);
        address to = shipment.to;
        if (_activeMember(msg.sender) != to) revert DrugTraceNotRecipient(shipmentId, msg.sender, to);
        uint32 quantity = _unship(shipment, ShipmentStatus.Returned);
        emit ShipmentReturned(shipment.batchId, shipmentId, to, shipment.from, quantity, epcisHash);
    }

    // ---- dispensing ----

    /// @inheritdoc IDrugTrace
    function dispense(
        bytes32 batchId,
        uint256 shipmentId,
        string calldata serial,
        bytes32[] calldata proof,
        bytes32 epcisHash
    ) external returns (bool first) {
        address member = _dispenser(msg.sender);
        StoredShipment storage shipment = _receivedBy(shipmentId, member);
        bytes32 leaf = serialLeaf(batchId, serial);
        if (_commit(batchId, MerkleProof.processProofCalldata(proof, leaf)) != shipment.serialCommitment) {
            revert DrugTraceSerialNotInShipment(shipmentId, serial);
        }
        Dispensation storage dispensation = _dispensations[leaf];
        if (dispensation.member != address(0)) {
            _flagDuplicate(batchId, leaf, dispensation, member, epcisHash);
            return false;
        }
        _checkUsable(batchId, _batches[batchId]);
        _dispenseOne(batchId, member);
        (dispensation.member, dispensation.at) = (member, _time());
        emit DrugDispensed(batchId, leaf, member, epcisHash);
        return true;
    }

    // ---- recall ----

    /// @inheritdoc IDrugTrace
    function recall(bytes32 batchId, bytes32 reasonHash, bytes32 epcisHash) external {
        Batch storage batch = _existingBatch(batchId);
        address by = _recaller(msg.sender, batch.manufacturer);
        if (batch.status == BatchStatus.Recalled) revert DrugTraceBatchRecalled(batchId, batch.recalledAt);
        (batch.status, batch.recalledAt, batch.recallReasonHash) = (BatchStatus.Recalled, _time(), reasonHash);
        emit BatchRecalled(batchId, by, reasonHash, epcisHash);
    }

    // ---- views ----

    /// @inheritdoc IDrugTrace
    function consortium() external view returns (address) {
        return address(_consortium);
    }

    /// @inheritdoc IDrugTrace
    function prefixOwner(string calldata prefix) external view returns (address) {
        return _prefixes[prefixKey(prefix)].manufacturer;
    }

    /// @inheritdoc IDrugTrace
    function prefixOf(uint64 gtin) public view returns (address manufacturer, uint8 digits) {
        uint64 gtin13 = gtin % _GTIN13_LIMIT;
        uint64 scale = 1e7; // 10^(13 - 6): the shortest prefix first
        for (uint256 d = _MIN_PREFIX_DIGITS; d <= _MAX_PREFIX_DIGITS; ++d) {
            manufacturer = _prefixes[uint64(10 ** d) + gtin13 / scale].manufacturer;
            if (manufacturer != address(0)) return (manufacturer, uint8(d));
            scale /= 10;
        }
        return (address(0), 0);
    }

    /// @inheritdoc IDrugTrace
    function motionId(MotionKind kind, uint64 subject, address manufacturer) public view returns (bytes32) {
        uint256 round = _motionRounds[keccak256(abi.encode(kind, subject))];
        return keccak256(abi.encode(kind, subject, manufacturer, round));
    }

    /// @inheritdoc IDrugTrace
    function motionApprovers(bytes32 id) external view returns (address[] memory) {
        Motion storage motion = _motions[id];
        if (_lapsed(motion)) return new address[](0);
        return motion.approvers;
    }

    /// @inheritdoc IDrugTrace
    function prefixKey(string calldata prefix) public pure returns (uint64 key) {
        bytes calldata digits = bytes(prefix);
        uint256 length = digits.length;
        if (length < _MIN_PREFIX_DIGITS || length > _MAX_PREFIX_DIGITS) revert DrugTraceInvalidPrefix(prefix);
        uint64 value = 0;
        for (uint256 i; i < length; ++i) {
            uint8 c = uint8(digits[i]);
            if (c < 0x30 || c > 0x39) revert DrugTraceInvalidPrefix(prefix);
            value = value * 10 + (c - 0x30);
        }
        key = uint64(10 ** length) + value;
    }

    /// @inheritdoc IDrugTrace
    function getProduct(uint64 gtin) external view returns (Product memory) {
        return _products[gtin];
    }

    /// @inheritdoc IDrugTrace
    function getBatch(bytes32 batchId) external view returns (Batch memory) {
        return _batches[batchId];
    }

    /// @inheritdoc IDrugTrace
    function batchInfo(bytes32 batchId) external view returns (BatchInfo memory info) {
        info.batchId = batchId;
        info.batch = _batches[batchId];
        info.expired = info.batch.status != BatchStatus.None && _time() > info.batch.expiry;
        info.productName = _products[info.batch.gtin].name;
    }

    /// @inheritdoc IDrugTrace
    function stockOf(bytes32 batchId, address member) external view returns (Stock memory) {
        return _stock[batchId][member];
    }

    /// @inheritdoc IDrugTrace
    function getShipment(uint256 shipmentId) external view returns (Shipment memory) {
        StoredShipment storage s = _shipments[shipmentId];
        return Shipment(
            s.status,
            s.batchId,
            s.from,
            s.to,
            s.quantity,
            s.quantityReceived,
            s.shippedAt,
            s.closedAt,
            s.serialCommitment
        );
    }

    /// @inheritdoc IDrugTrace
    function shipmentCount() external view returns (uint256) {
        return _shipmentCount;
    }

    /// @inheritdoc IDrugTrace
    function serialStatus(bytes32 batchId, string calldata serial) external view returns (SerialStatus memory status) {
        status = _serialStatus(batchId, serialLeaf(batchId, serial));
        status.genuine = status.dispensed;
    }

    /// @inheritdoc IDrugTrace
    function verify(uint64 gtin, string calldata lot, string calldata serial, bytes32[] calldata proof)
        external
        view
        returns (SerialStatus memory status)
    {
        bytes32 batchId = batchIdOf(gtin, lot);
        bytes32 leaf = serialLeaf(batchId, serial);
        status = _serialStatus(batchId, leaf);
        status.genuine = status.batchExists && MerkleProof.verifyCalldata(proof, _batches[batchId].serialRoot, leaf);
    }

    /// @inheritdoc IDrugTrace
    function batchIdOf(uint64 gtin, string calldata lot) public pure returns (bytes32) {
        return keccak256(abi.encode(gtin, lot));
    }

    /// @inheritdoc IDrugTrace
    function serialLeaf(bytes32 batchId, string calldata serial) public pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(batchId, serial))));
    }

    // ---- private: authorization ----

    /// @dev The active member `account` acts for with `role`; reverts otherwise.
    function _checkRole(address account, bytes32 role) private view returns (address member) {
        member = _consortium.authorizedMember(account, role);
        if (member == address(0)) revert DrugTraceUnauthorized(account, role);
    }

    /// @dev The active member `account` acts for, whatever its roles (stock holders and recipients).
    function _activeMember(address account) private view returns (address member) {
        member = _consortium.memberOf(account);
        if (member == address(0) || !_consortium.isActiveMember(member)) revert DrugTraceNotMember(account);
    }

    /// @dev The member of a MANUFACTURER key that owns product `gtin`.
    function _checkProductOwner(address account, uint64 gtin) private view returns (address member) {
        member = _checkRole(account, Roles.MANUFACTURER);
        address owner = _products[gtin].manufacturer;
        if (owner == address(0)) revert DrugTraceUnknownProduct(gtin);
        if (owner != member) revert DrugTraceNotManufacturer(account, member, owner);
    }

    /// @dev `manufacturer` is an active member address holding MANUFACTURER.
    function _checkManufacturer(address manufacturer) private view {
        if (_consortium.authorizedMember(manufacturer, Roles.MANUFACTURER) != manufacturer) {
            revert DrugTraceNotAManufacturer(manufacturer);
        }
    }

    /// @dev Records COUNCIL member `member` as approving (kind, subject, manufacturer); true once the
    /// approving members that are active COUNCIL now reach the Consortium's threshold (the motion then closes
    /// and every open motion on the same subject lapses). Loops run over the approvers: at most one per council
    /// member.
    function _approve(address member, MotionKind kind, uint64 subject, address manufacturer) private returns (bool) {
        bytes32 id = motionId(kind, subject, manufacturer);
        Motion storage motion = _motions[id];
        if (_lapsed(motion)) delete motion.approvers;
        if (motion.approvers.length == 0) motion.openedAt = _time();
        uint256 count = motion.approvers.length;
        uint256 active = 1; // the caller
        for (uint256 i; i < count; ++i) {
            address approver = motion.approvers[i];
            if (approver == member) revert DrugTraceAlreadyApproved(id, member);
            if (_consortium.authorizedMember(approver, Roles.COUNCIL) == approver) ++active;
        }
        motion.approvers.push(member);
        uint256 threshold = _consortium.threshold();
        emit MotionApproved(id, member, kind, active, threshold);
        if (active < threshold) return false;
        delete _motions[id];
        ++_motionRounds[keccak256(abi.encode(kind, subject))];
        return true;
    }

    /// @dev An open motion whose first approval is older than the Consortium's proposal lifetime.
    function _lapsed(Motion storage motion) private view returns (bool) {
        return motion.approvers.length != 0 && _time() > motion.openedAt + _consortium.proposalLifetime();
    }

    /// @dev Refuses prefix `key` if a shorter assigned prefix starts it, or an assigned longer one starts with it.
    function _checkNoOverlap(string calldata prefix, uint64 key) private view {
        if (_prefixes[key].nested != 0) revert DrugTracePrefixOverlaps(prefix);
        uint256 digits = bytes(prefix).length;
        uint64 value = key - uint64(10 ** digits);
        for (uint256 d = digits - 1; d >= _MIN_PREFIX_DIGITS; --d) {
            value /= 10;
            if (_prefixes[uint64(10 ** d) + value].manufacturer != address(0)) revert DrugTracePrefixOverlaps(prefix);
        }
    }

    /// @dev Counts prefix `key` in (or, `remove`, out of) every shorter prefix that starts it.
    function _countNested(uint64 key, bool remove) private {
        uint256 digits = _digitsOf(key);
        uint64 value = key - uint64(10 ** digits);
        for (uint256 d = digits - 1; d >= _MIN_PREFIX_DIGITS; --d) {
            value /= 10;
            PrefixEntry storage shorter = _prefixes[uint64(10 ** d) + value];
            shorter.nested = remove ? shorter.nested - 1 : shorter.nested + 1;
        }
    }

    /// @dev The number of digits of prefix key 10^digits + value.
    function _digitsOf(uint64 key) private pure returns (uint256 digits) {
        digits = _MAX_PREFIX_DIGITS;
        while (uint64(10 ** digits) > key) --digits;
    }

    /// @dev The PHARMACY (else HOSPITAL) member of `account`; reported as lacking PHARMACY otherwise.
    function _dispenser(address account) private view returns (address member) {
        member = _consortium.authorizedMember(account, Roles.PHARMACY);
        if (member == address(0)) member = _consortium.authorizedMember(account, Roles.HOSPITAL);
        if (member == address(0)) revert DrugTraceUnauthorized(account, Roles.PHARMACY);
    }

    /// @dev A COUNCIL member, or the batch's manufacturer acting through a MANUFACTURER key.
    function _recaller(address account, address manufacturer) private view returns (address) {
        address council = _consortium.authorizedMember(account, Roles.COUNCIL);
        if (council != address(0)) return council;
        address member = _checkRole(account, Roles.MANUFACTURER);
        if (member != manufacturer) revert DrugTraceNotManufacturer(account, member, manufacturer);
        return member;
    }

    /// @dev `to` may take custody: a member address (not a key) with a holding role, or the manufacturer
    /// (returns). Recalled or expired batches may only go back to the manufacturer.
    function _checkRecipient(bytes32 batchId, Batch storage batch, address from, address to) private view {
        if (to == address(0) || to == from) revert DrugTraceInvalidRecipient(batchId, to);
        if (to == batch.manufacturer) {
            if (!_consortium.isActiveMember(to)) revert DrugTraceInvalidRecipient(batchId, to);
            return;
        }
        _checkUsable(batchId, batch);
        if (!_canHold(to)) revert DrugTraceInvalidRecipient(batchId, to);
    }

    /// @dev True if member address `to` holds DISTRIBUTOR, PHARMACY or HOSPITAL and is active.
    function _canHold(address to) private view returns (bool) {
        return _consortium.authorizedMember(to, Roles.DISTRIBUTOR) == to
            || _consortium.authorizedMember(to, Roles.PHARMACY) == to
            || _consortium.authorizedMember(to, Roles.HOSPITAL) == to;
    }

    // ---- private: state ----

    function _existingBatch(bytes32 batchId) private view returns (Batch storage batch) {
        batch = _batches[batchId];
        if (batch.status == BatchStatus.None) revert DrugTraceUnknownBatch(batchId);
    }

    function _inTransit(uint256 shipmentId) private view returns (StoredShipment storage shipment) {
        shipment = _shipments[shipmentId];
        ShipmentStatus status = shipment.status;
        if (status == ShipmentStatus.None) revert DrugTraceUnknownShipment(shipmentId);
        if (status != ShipmentStatus.InTransit) revert DrugTraceShipmentNotInTransit(shipmentId, status);
    }

    /// @dev Shipment `shipmentId`, received by `member` (reverts otherwise).
    function _receivedBy(uint256 shipmentId, address member) private view returns (StoredShipment storage shipment) {
        shipment = _shipments[shipmentId];
        (ShipmentStatus status, address to) = (shipment.status, shipment.to);
        if (status == ShipmentStatus.None) revert DrugTraceUnknownShipment(shipmentId);
        if (to != member) revert DrugTraceNotRecipient(shipmentId, msg.sender, to);
        if (status != ShipmentStatus.Received) revert DrugTraceShipmentNotReceived(shipmentId, status);
    }

    /// @dev The root of the shipped serials and their number, after checking they are leaves of the sender's
    /// source. No serials and `proof = [source root]` (OZ's multiproof of the empty set) ship the whole source:
    /// the batch's quantity, or the units the source shipment delivered.
    function _shippedSerials(bytes32 batchId, Batch storage batch, address from, SerialSet calldata serials)
        private
        view
        returns (bytes32 root, uint32 quantity)
    {
        bytes32[] memory leaves = _sortedLeaves(serials.serialHashes);
        bytes32 proven = MerkleProof.processMultiProofCalldata(serials.proof, serials.proofFlags, leaves);
        bool inSource;
        uint32 whole;
        if (serials.source == 0) {
            if (from != batch.manufacturer) revert DrugTraceNotManufacturer(msg.sender, from, batch.manufacturer);
            (inSource, whole) = (proven == batch.serialRoot, batch.quantity);
        } else {
            StoredShipment storage source = _receivedBy(serials.source, from);
            if (source.batchId != batchId) revert DrugTraceWrongBatch(serials.source, source.batchId, batchId);
            (inSource, whole) = (_commit(batchId, proven) == source.serialCommitment, source.quantityReceived);
        }
        if (!inSource) revert DrugTraceSerialsNotInSource(batchId, serials.source);
        if (leaves.length == 0) return (proven, whole);
        if (leaves.length > type(uint32).max) revert DrugTraceInvalidQuantity(type(uint32).max);
        return (_standardRoot(leaves), uint32(leaves.length));
    }

    /// @dev keccak256 of each inner hash (the StandardMerkleTree leaf), checked strictly ascending.
    function _sortedLeaves(bytes32[] calldata serialHashes) private pure returns (bytes32[] memory leaves) {
        uint256 count = serialHashes.length;
        leaves = new bytes32[](count);
        bytes32 previous = bytes32(0);
        for (uint256 i; i < count; ++i) {
            bytes32 leaf = keccak256(bytes.concat(serialHashes[i]));
            if (i != 0 && leaf <= previous) revert DrugTraceSerialsNotSorted(i);
            (leaves[i], previous) = (leaf, leaf);
        }
    }

    /// @dev The OZ StandardMerkleTree root of leaves sorted ascending: the tree is an array of 2n - 1 nodes
    /// with the leaves at the end in reverse order, node i = hash of the sorted pair (2i + 1, 2i + 2).
    function _standardRoot(bytes32[] memory leaves) private pure returns (bytes32) {
        uint256 count = leaves.length;
        bytes32[] memory tree = new bytes32[](2 * count - 1);
        for (uint256 i; i < count; ++i) {
            tree[tree.length - 1 - i] = leaves[i];
        }
        for (uint256 i = count - 1; i > 0; --i) {
            tree[i - 1] = Hashes.commutativeKeccak256(tree[2 * i - 1], tree[2 * i]);
        }
        return tree[0];
    }

    /// @dev What a shipment stores for its serials: the root bound to the batch.
    function _commit(bytes32 batchId, bytes32 root) private pure returns (bytes32) {
        return keccak256(abi.encode(batchId, root));
    }

    /// @dev Takes an in-transit shipment back into its sender's stock.
    function _unship(StoredShipment storage shipment, ShipmentStatus status) private returns (uint32 quantity) {
        quantity = shipment.quantity;
        (shipment.status, shipment.closedAt) = (status, uint40(block.timestamp));
        bytes32 batchId = shipment.batchId;
        _batches[batchId].inTransit -= quantity;
        _stock[batchId][shipment.from].held += quantity;
    }

    /// @dev Reverts if the batch is recalled or expired.
    function _checkUsable(bytes32 batchId, Batch storage batch) private view {
        if (batch.status == BatchStatus.Recalled) revert DrugTraceBatchRecalled(batchId, batch.recalledAt);
        if (_time() > batch.expiry) revert DrugTraceBatchExpired(batchId, batch.expiry);
    }

    function _checkBatchParams(string calldata lot, uint64 expiry, uint32 quantity, bytes32 serialRoot)
        private
        view
    {
        if (bytes(lot).length == 0 || bytes(lot).length > _MAX_LOT_LENGTH) revert DrugTraceInvalidLot(lot);
        if (expiry <= _time()) revert DrugTraceInvalidExpiry(expiry, _time());
        if (quantity == 0) revert DrugTraceInvalidQuantity(quantity);
        if (serialRoot == bytes32(0)) revert DrugTraceInvalidSerialRoot(serialRoot);
    }

    function _takeStock(bytes32 batchId, address holder, uint32 quantity) private {
        Stock storage stock = _stock[batchId][holder];
        uint32 held = stock.held;
        if (held < quantity) revert DrugTraceInsufficientStock(batchId, holder, held, quantity);
        // cannot underflow: checked just above
        unchecked {
            stock.held = held - quantity;
        }
    }

    /// @dev One unit of the holder's stock becomes dispensed (one slot read, one written).
    function _dispenseOne(bytes32 batchId, address holder) private {
        Stock storage stock = _stock[batchId][holder];
        (uint32 held, uint32 dispensed) = (stock.held, stock.dispensed);
        if (held == 0) revert DrugTraceInsufficientStock(batchId, holder, 0, 1);
        // cannot overflow or underflow: held >= 1, and held + dispensed <= quantity, a uint32
        unchecked {
            (stock.held, stock.dispensed) = (held - 1, dispensed + 1);
        }
    }

    function _flagDuplicate(
        bytes32 batchId,
        bytes32 leaf,
        Dispensation storage dispensation,
        address member,
        bytes32 epcisHash
    ) private {
        uint32 count = dispensation.duplicates + 1;
        dispensation.duplicates = count;
        _lastDuplicates[leaf] = DuplicateScan(member, _time());
        emit DuplicateDispenseFlagged(batchId, leaf, member, count, epcisHash);
    }

    function _serialStatus(bytes32 batchId, bytes32 leaf) private view returns (SerialStatus memory s) {
        Batch storage batch = _batches[batchId];
        Dispensation storage dispensation = _dispensations[leaf];
        DuplicateScan storage duplicate = _lastDuplicates[leaf];
        s.batchExists = batch.status != BatchStatus.None;
        (s.batchStatus, s.recalled, s.expiry) = (batch.status, batch.status == BatchStatus.Recalled, batch.expiry);
        s.expired = s.batchExists && _time() > batch.expiry;
        (s.dispensed, s.dispensedAt, s.dispensedBy) =
            (dispensation.member != address(0), dispensation.at, dispensation.member);
        s.duplicateCount = dispensation.duplicates;
        (s.lastDuplicateBy, s.lastDuplicateAt) = (duplicate.member, duplicate.at);
    }

    function _time() private view returns (uint64) {
        return uint64(block.timestamp);
    }
}
