// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {IConsortium} from "../interfaces/IConsortium.sol";
import {IDrugTrace} from "../interfaces/IDrugTrace.sol";
import {Roles} from "./libraries/Roles.sol";

/// @title DrugTrace
/// @notice GTIN products, serialised batches, custody hand-overs, once-only dispensing with duplicate-scan
/// flags, recalls and expiry. Stores public supply-chain data only (see IDrugTrace); roles and members come
/// from the Consortium.
contract DrugTrace is IDrugTrace {
    /// @dev Shipment storage: three slots, status derived from the times (shippedAt != 0: exists).
    struct StoredShipment {
        bytes32 batchId; // slot 0
        address from; // slot 1: 20 + 4 + 8 bytes
        uint32 quantity;
        uint64 shippedAt;
        address to; // slot 2: 20 + 4 + 8 bytes
        uint32 quantityReceived;
        uint64 receivedAt;
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

    constructor(IConsortium consortium_) {
        if (address(consortium_) == address(0)) revert DrugTraceZeroAddress();
        _consortium = consortium_;
    }

    // ---- products and batches ----

    /// @inheritdoc IDrugTrace
    function registerProduct(uint64 gtin, string calldata name) external {
        address member = _authorized(msg.sender, Roles.MANUFACTURER);
        if (gtin == 0 || gtin >= _GTIN_LIMIT) revert DrugTraceInvalidGtin(gtin);
        Product storage product = _products[gtin];
        if (product.manufacturer != address(0)) revert DrugTraceProductExists(gtin, product.manufacturer);
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
    function ship(bytes32 batchId, address to, uint32 quantity, bytes32 epcisHash)
        external
        returns (uint256 shipmentId)
    {
        address from = _activeMember(msg.sender);
        Batch storage batch = _existingBatch(batchId);
        if (quantity == 0) revert DrugTraceInvalidQuantity(quantity);
        _checkRecipient(batchId, batch, from, to);
        _takeStock(batchId, from, quantity);
        batch.inTransit += quantity;
        shipmentId = ++_shipmentCount;
        _shipments[shipmentId] = StoredShipment(batchId, from, quantity, _time(), to, 0, 0);
        emit DrugShipped(batchId, shipmentId, from, to, quantity, epcisHash);
    }

    /// @inheritdoc IDrugTrace
    function receiveShipment(uint256 shipmentId, uint32 quantityReceived, bytes32 epcisHash) external {
        StoredShipment storage shipment = _pendingShipment(shipmentId);
        (address to, uint32 shipped, bytes32 batchId) = (shipment.to, shipment.quantity, shipment.batchId);
        if (_activeMember(msg.sender) != to) revert DrugTraceNotRecipient(shipmentId, msg.sender, to);
        if (quantityReceived > shipped) revert DrugTraceReceivedExceedsShipped(shipmentId, shipped, quantityReceived);
        (shipment.quantityReceived, shipment.receivedAt) = (quantityReceived, _time());
        Batch storage batch = _batches[batchId];
        batch.inTransit -= shipped;
        batch.lost += shipped - quantityReceived;
        _stock[batchId][to].held += quantityReceived;
        emit DrugReceived(batchId, shipmentId, to, shipment.from, quantityReceived, epcisHash);
        if (quantityReceived < shipped) {
            emit DrugReceiptDiscrepancy(batchId, shipmentId, to, shipped, quantityReceived, epcisHash);
        }
    }

    // ---- dispensing ----

    /// @inheritdoc IDrugTrace
    function dispense(bytes32 batchId, string calldata serial, bytes32[] calldata proof, bytes32 epcisHash)
        external
        returns (bool first)
    {
        address member = _dispenser(msg.sender);
        Batch storage batch = _existingBatch(batchId);
        bytes32 leaf = serialLeaf(batchId, serial);
        if (!MerkleProof.verifyCalldata(proof, batch.serialRoot, leaf)) {
            revert DrugTraceInvalidSerialProof(batchId, serial);
        }
        Dispensation storage dispensation = _dispensations[leaf];
        if (dispensation.member != address(0)) {
            _flagDuplicate(batchId, leaf, dispensation, member, epcisHash);
            return false;
        }
        _checkUsable(batchId, batch);
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
        ShipmentStatus status = s.shippedAt == 0
            ? ShipmentStatus.None
            : (s.receivedAt == 0 ? ShipmentStatus.InTransit : ShipmentStatus.Received);
        return Shipment(status, s.batchId, s.from, s.to, s.quantity, s.quantityReceived, s.shippedAt, s.receivedAt);
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
    function _authorized(address account, bytes32 role) private view returns (address member) {
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
        member = _authorized(account, Roles.MANUFACTURER);
        address owner = _products[gtin].manufacturer;
        if (owner == address(0)) revert DrugTraceUnknownProduct(gtin);
        if (owner != member) revert DrugTraceNotManufacturer(account, member, owner);
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
        address member = _authorized(account, Roles.MANUFACTURER);
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

    function _pendingShipment(uint256 shipmentId) private view returns (StoredShipment storage shipment) {
        shipment = _shipments[shipmentId];
        if (shipment.shippedAt == 0) revert DrugTraceUnknownShipment(shipmentId);
        if (shipment.receivedAt != 0) revert DrugTraceShipmentAlreadyReceived(shipmentId, shipment.receivedAt);
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
