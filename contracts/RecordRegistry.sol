// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {IConsentRegistry} from "../interfaces/IConsentRegistry.sol";
import {IConsortium} from "../interfaces/IConsortium.sol";
import {IRecordRegistry} from "../interfaces/IRecordRegistry.sol";
import {Codes} from "./libraries/Codes.sol";
import {Roles} from "./libraries/Roles.sol";

/// @title RecordRegistry
/// @notice Anchors medical-record hashes (single, many, Merkle batches), their amendments, and consent-checked
/// accesses. Stores hashes, member addresses, codes and times only; see IRecordRegistry.
contract RecordRegistry is IRecordRegistry {
    /// @inheritdoc IRecordRegistry
    uint256 public constant MAX_ACCESS_BATCH = 256;

    IConsortium private immutable _consortium;
    IConsentRegistry private immutable _consent;

    mapping(bytes32 leaf => Record) private _records;
    mapping(bytes32 root => Batch) private _batches;
    mapping(bytes32 leaf => bytes32 newLeaf) private _supersededBy;

    constructor(IConsortium consortium_, IConsentRegistry consentRegistry_) {
        if (address(consortium_) == address(0) || address(consentRegistry_) == address(0)) {
            revert RecordZeroAddress(address(consortium_), address(consentRegistry_));
        }
        _consortium = consortium_;
        _consent = consentRegistry_;
    }

    // ---- anchoring ----

    /// @inheritdoc IRecordRegistry
    function anchor(bytes32 recordHash, bytes32 leaf) external returns (bytes32) {
        _anchor(recordHash, leaf, Record(_checkRole(msg.sender, Roles.HOSPITAL), _time(), RecordOrigin.Single));
        return leaf;
    }

    /// @inheritdoc IRecordRegistry
    function anchorMany(bytes32[] calldata recordHashes, bytes32[] calldata leaves)
        external
        returns (bytes32[] memory)
    {
        uint256 n = recordHashes.length;
        if (n == 0 || leaves.length != n) revert RecordInvalidArrays(n, leaves.length);
        Record memory stamp = Record(_checkRole(msg.sender, Roles.HOSPITAL), _time(), RecordOrigin.Single);
        for (uint256 i = 0; i < n; ++i) {
            _anchor(recordHashes[i], leaves[i], stamp);
        }
        return leaves;
    }

    /// @inheritdoc IRecordRegistry
    function amend(bytes32 previousLeaf, bytes32 recordHash, bytes32 leaf) external returns (bytes32) {
        address hospital = _checkRole(msg.sender, Roles.HOSPITAL);
        _checkAmendable(previousLeaf, hospital);
        _anchor(recordHash, leaf, Record(hospital, _time(), RecordOrigin.Single));
        _supersededBy[previousLeaf] = leaf;
        emit RecordAmended(previousLeaf, leaf, hospital);
        return leaf;
    }

    /// @inheritdoc IRecordRegistry
    function anchorBatch(bytes32 root, uint32 leafCount, string calldata uri) external returns (bytes32) {
        address hospital = _checkRole(msg.sender, Roles.HOSPITAL);
        if (root == bytes32(0) || leafCount == 0) revert RecordInvalidBatch(root, leafCount);
        Batch storage batch = _batches[root];
        if (batch.hospital != address(0)) revert RecordBatchAlreadyAnchored(root, batch.hospital, batch.anchoredAt);
        _batches[root] = Batch(hospital, _time(), leafCount);
        emit BatchAnchored(root, uri);
        return root;
    }

    /// @inheritdoc IRecordRegistry
    function materialise(
        bytes32 root,
        bytes32 recordHash,
        bytes32 patientCommitment_,
        uint8 dataClass,
        bytes32[] calldata proof
    ) external returns (bytes32 leaf) {
        Batch memory batch = _batches[root];
        if (batch.hospital == address(0)) revert RecordBatchNonexistent(root);
        if (patientCommitment_ == bytes32(0)) revert RecordInvalidHash(recordHash, bytes32(0));
        _checkDataClass(dataClass);
        leaf = _leaf(recordHash, patientCommitment_, dataClass);
        if (!MerkleProof.verifyCalldata(proof, root, leaf)) revert RecordInvalidProof(root, leaf);
        _anchor(recordHash, leaf, Record(batch.hospital, batch.anchoredAt, RecordOrigin.Batch));
        emit BatchRecordMaterialised(root, leaf, msg.sender);
    }

    // ---- access log ----

    /// @inheritdoc IRecordRegistry
    function logAccess(bytes32 recordHash, address patient, bytes32 salt, uint8 dataClass, uint8 purpose)
        external
        returns (bytes32 leaf)
    {
        address hospital = _checkRole(msg.sender, Roles.HOSPITAL);
        _checkPurpose(purpose);
        leaf = _storedLeaf(recordHash, patient, salt, dataClass);
        _checkPermitted(patient, hospital, purpose, uint64(1) << dataClass);
        emit RecordAccessed(leaf, patient, hospital, purpose, dataClass, msg.sender);
    }

    /// @inheritdoc IRecordRegistry
    function logAccessMany(address patient, uint8 purpose, Opening[] calldata openings)
        external
        returns (bytes32[] memory leaves)
    {
        address hospital = _checkRole(msg.sender, Roles.HOSPITAL);
        _checkPurpose(purpose);
        uint256 n = openings.length;
        if (n == 0 || n > MAX_ACCESS_BATCH) revert RecordInvalidAccessCount(n, MAX_ACCESS_BATCH);
        leaves = new bytes32[](n);
        uint64 classes;
        for (uint256 i = 0; i < n; ++i) {
            Opening calldata opening = openings[i];
            leaves[i] = _storedLeaf(opening.recordHash, patient, opening.salt, opening.dataClass);
            classes |= uint64(1) << opening.dataClass;
        }
        _checkPermitted(patient, hospital, purpose, classes);
        for (uint256 i = 0; i < n; ++i) {
            emit RecordAccessed(leaves[i], patient, hospital, purpose, openings[i].dataClass, msg.sender);
        }
    }

    // ---- views ----

    /// @inheritdoc IRecordRegistry
    function getRecord(bytes32 leaf) external view returns (Record memory) {
        return _records[leaf];
    }

    /// @inheritdoc IRecordRegistry
    function getBatch(bytes32 root) external view returns (Batch memory) {
        return _batches[root];
    }

    /// @inheritdoc IRecordRegistry
    function supersededBy(bytes32 leaf) external view returns (bytes32) {
        return _supersededBy[leaf];
    }

    /// @inheritdoc IRecordRegistry
    function verifyBatchRecord(
        bytes32 root,
        bytes32 recordHash,
        bytes32 patientCommitment_,
        uint8 dataClass,
        bytes32[] calldata proof
    ) external view returns (bool) {
        if (_batches[root].hospital == address(0)) return false;
        return MerkleProof.verifyCalldata(proof, root, _leaf(recordHash, patientCommitment_, dataClass));
    }

    /// @inheritdoc IRecordRegistry
    function recordLeaf(bytes32 recordHash, bytes32 patientCommitment_, uint8 dataClass)
        external
        pure
        returns (bytes32)
    {
        return _leaf(recordHash, patientCommitment_, dataClass);
    }

    /// @inheritdoc IRecordRegistry
    function patientCommitment(address patient, bytes32 salt) external pure returns (bytes32) {
        return _commitment(patient, salt);
    }

    /// @inheritdoc IRecordRegistry
    function consortium() external view returns (address) {
        return address(_consortium);
    }

    /// @inheritdoc IRecordRegistry
    function consentRegistry() external view returns (address) {
        return address(_consent);
    }

    // ---- internal ----

    /// @dev The one writer: checks the values, enforces first-write-wins, stores one slot, emits. `stamp` is the
    /// record (hospital, time, origin), built once per transaction. Plain Solidity throughout: a whole-slot
    /// `sstore` in assembly here, in `anchorBatch` and a scratch-space `_leaf` saved 0.4-2.0% of each operation
    /// (anchor 409 of 52,973 gas, anchorMany 430 of 26,084 per record, logAccessMany 163 of 8,396 per record,
    /// anchorBatch 374 of 53,214), under the 2% the style rule asks for.
    function _anchor(bytes32 recordHash, bytes32 leaf, Record memory stamp) private {
        if (recordHash == bytes32(0) || leaf == bytes32(0)) revert RecordInvalidHash(recordHash, leaf);
        Record storage record = _records[leaf];
        if (record.hospital != address(0)) revert RecordAlreadyAnchored(leaf, record.hospital, record.anchoredAt);
        _records[leaf] = stamp;
        emit RecordAnchored(leaf, recordHash);
    }

    /// @dev The leaf of an opened record, which must be stored; reverts on an invalid class or an unknown leaf.
    function _storedLeaf(bytes32 recordHash, address patient, bytes32 salt, uint8 dataClass)
        private
        view
        returns (bytes32 leaf)
    {
        _checkDataClass(dataClass);
        leaf = _leaf(recordHash, _commitment(patient, salt), dataClass);
        if (_records[leaf].hospital == address(0)) revert RecordNonexistent(leaf);
    }

    /// @dev Reverts unless ConsentRegistry permits `hospital` the classes `dataClasses` of `patient` for `purpose`.
    function _checkPermitted(address patient, address hospital, uint8 purpose, uint64 dataClasses) private view {
        if (!_consent.isPermitted(patient, hospital, purpose, dataClasses)) {
            revert RecordAccessNotPermitted(patient, hospital, purpose, dataClasses);
        }
    }

    function _checkPurpose(uint8 purpose) private pure {
        if (!Codes.isPurpose(purpose)) revert RecordInvalidPurpose(purpose);
    }

    function _checkDataClass(uint8 dataClass) private pure {
        if (!Codes.isDataClass(dataClass)) revert RecordInvalidDataClass(dataClass);
    }

    /// @dev Reverts unless `leaf` is stored, anchored by `hospital` and not yet superseded.
    function _checkAmendable(bytes32 leaf, address hospital) private view {
        address owner = _records[leaf].hospital;
        if (owner == address(0)) revert RecordNonexistent(leaf);
        if (owner != hospital) revert RecordUnauthorizedHospital(leaf, owner, hospital);
        bytes32 next = _supersededBy[leaf];
        if (next != bytes32(0)) revert RecordAlreadySuperseded(leaf, next);
    }

    /// @dev The active member `account` acts for with `role`; reverts otherwise.
    function _checkRole(address account, bytes32 role) private view returns (address member) {
        member = _consortium.authorizedMember(account, role);
        if (member == address(0)) revert RecordUnauthorized(account, role);
    }

    /// @dev DESIGN §6.5 leaf: OpenZeppelin StandardMerkleTree's double hash of the ABI-encoded values.
    function _leaf(bytes32 recordHash, bytes32 patientCommitment_, uint8 dataClass) private pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(recordHash, patientCommitment_, dataClass))));
    }

    /// @dev DESIGN §6.3 patient commitment.
    function _commitment(address patient, bytes32 salt) private pure returns (bytes32) {
        return keccak256(abi.encode(patient, salt));
    }

    function _time() private view returns (uint64) {
        return uint64(block.timestamp);
    }
}
