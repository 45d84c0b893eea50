// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title IRecordRegistry
/// @notice Hospitals anchor the hashes of medical records: one at a time, many at once, or as the Merkle root of
/// a batch whose records are proven (and, on demand, materialised) later. Accesses to a record are logged after a
/// consent check, which makes the accounting of disclosures.
///
/// What is stored, and nothing else: per record, keyed by its leaf hash (DESIGN §6.5), the anchoring hospital's
/// MEMBER address, the anchoring time, the record's data class (a code, DESIGN §6.2) and how it was anchored; per
/// batch, keyed by its Merkle root, the hospital, the time and the leaf count; per amended record, the leaf that
/// supersedes it. The record hash is a SHA-256 of the record file (or of its canonical FHIR JSON, §6.6), the
/// patient appears only as a salted commitment `keccak256(abi.encode(patient, salt))` (§6.3) whose salt stays off
/// chain. Anchoring never stores or emits a patient address; a batch URI is emitted, never stored, and must not
/// identify a patient. Health data (diagnoses, contents) never goes on chain.
/// @dev Record key (leaf) = `keccak256(bytes.concat(keccak256(abi.encode(recordHash, patientCommitment, dataClass))))`,
/// identical to an OpenZeppelin StandardMerkleTree leaf with encoding `["bytes32", "bytes32", "uint8"]`, so a batch
/// leaf and a single record of the same values have the same key. The key commits to recordHash, commitment and
/// class; the value keeps only what the key cannot give back, so a record fits one storage slot.
/// First write wins on every path (`anchor`, `anchorMany`, `amend`, `materialise`).
interface IRecordRegistry {
    /// @notice How a record came to be stored.
    enum RecordOrigin {
        None, // not anchored
        Single, // anchor / anchorMany / amend
        Batch // materialised from an anchored Merkle batch with a proof
    }

    /// @notice One record; one storage slot (20 + 8 + 1 + 1 bytes).
    struct Record {
        address hospital; // anchoring hospital's member address; zero = not anchored
        uint64 anchoredAt; // block time of the anchoring transaction (the batch's, for a materialised record)
        uint8 dataClass; // DESIGN §6.2 data class (bit index 0..10)
        RecordOrigin origin;
    }

    /// @notice One Merkle batch; one storage slot (20 + 8 + 4 bytes), keyed by its root (the batch id).
    struct Batch {
        address hospital; // anchoring hospital's member address; zero = unknown root
        uint64 anchoredAt; // block time of anchorBatch
        uint32 leafCount; // number of records in the tree (as declared by the hospital)
    }

    // ---- events ----

    /// @notice A record was written under `leaf` (by anchor, anchorMany, amend or materialise). Records are never
    /// overwritten, so `getRecord(leaf)` at any later block gives its hospital, time, class and origin: the event
    /// carries only the key, which keeps a single anchor within one fresh slot's cost and puts neither the record
    /// hash nor the patient commitment into the logs.
    event RecordAnchored(bytes32 indexed leaf);

    /// @notice `leaf` amends (supersedes) `previousLeaf`; both records stay readable.
    event RecordAmended(bytes32 indexed previousLeaf, bytes32 indexed leaf, address indexed hospital);

    /// @notice A Merkle batch was anchored under `root`; `getBatch(root)` gives its hospital, time and leaf count
    /// (batches are never overwritten). `uri` says where the hospital serves the batch's proofs; it is emitted,
    /// not stored, and empty means the hospital's Consortium endpoint (`getMember(hospital).uri`).
    event BatchAnchored(bytes32 indexed root, string uri);

    /// @notice A batch record was proven against `root` and written as a full record by `by`.
    event BatchRecordMaterialised(bytes32 indexed root, bytes32 indexed leaf, address by);

    /// @notice The accounting of disclosures: institution `accessor` (a member, acting through key `by`) accessed
    /// the record `leaf` of `patient` for `purpose`, and consent (or an open break-glass for EMERGENCY) permitted
    /// it at that moment. See `logAccess` for why the record hash is not in this event.
    event RecordAccessed(
        bytes32 indexed leaf,
        address indexed patient,
        address indexed accessor,
        uint8 purpose,
        address by
    );

    // ---- errors ----

    /// @dev `account` does not hold `role` for an active member.
    error RecordUnauthorized(address account, bytes32 role);
    /// @dev Data class outside DESIGN §6.2 (0..10).
    error RecordInvalidDataClass(uint8 dataClass);
    /// @dev Purpose outside DESIGN §6.2 (1..5).
    error RecordInvalidPurpose(uint8 purpose);
    /// @dev A zero record hash or zero patient commitment.
    error RecordInvalidHash(bytes32 recordHash, bytes32 patientCommitment);
    /// @dev anchorMany arrays differ in length (or are empty).
    error RecordInvalidArrays(uint256 recordHashes, uint256 patientCommitments, uint256 dataClasses);
    /// @dev First write wins: `leaf` is already anchored by `hospital` at `anchoredAt`.
    error RecordAlreadyAnchored(bytes32 leaf, address hospital, uint64 anchoredAt);
    /// @dev No record is stored under `leaf`.
    error RecordNonexistent(bytes32 leaf);
    /// @dev Only the hospital that anchored `leaf` (`hospital`) may amend it; `member` tried.
    error RecordUnauthorizedHospital(bytes32 leaf, address hospital, address member);
    /// @dev `leaf` is already superseded by `supersededBy`; amend the latest version instead.
    error RecordAlreadySuperseded(bytes32 leaf, bytes32 supersededBy);
    /// @dev A zero root or zero leaf count.
    error RecordInvalidBatch(bytes32 root, uint32 leafCount);
    /// @dev First write wins: batch `root` is already anchored by `hospital` at `anchoredAt`.
    error RecordBatchAlreadyAnchored(bytes32 root, address hospital, uint64 anchoredAt);
    /// @dev No batch is anchored under `root`.
    error RecordBatchNonexistent(bytes32 root);
    /// @dev `proof` does not prove `leaf` in batch `root`.
    error RecordInvalidProof(bytes32 root, bytes32 leaf);
    /// @dev ConsentRegistry does not permit `accessor` to access `patient`'s data of class `dataClass` for
    /// `purpose` (no consent, expired, revoked, or no open break-glass for EMERGENCY).
    error RecordAccessNotPermitted(address patient, address accessor, uint8 purpose, uint8 dataClass);

    // ---- anchoring (HOSPITAL keys) ----

    /// @notice Anchors one record for the caller's hospital.
    /// @param recordHash sha256 of the record file or of its canonical FHIR JSON (DESIGN §6.6); non-zero
    /// @param patientCommitment `keccak256(abi.encode(patient, salt))` (DESIGN §6.3); non-zero
    /// @param dataClass the record's data class, 0..10
    /// @return leaf the record's key, `recordLeaf(recordHash, patientCommitment, dataClass)`
    function anchor(bytes32 recordHash, bytes32 patientCommitment, uint8 dataClass) external returns (bytes32 leaf);

    /// @notice Anchors several records in one transaction (one role check); reverts as a whole if any record is
    /// invalid or already anchored.
    /// @return leaves the records' keys, in input order
    function anchorMany(
        bytes32[] calldata recordHashes,
        bytes32[] calldata patientCommitments,
        uint8[] calldata dataClasses
    ) external returns (bytes32[] memory leaves);

    /// @notice Anchors a new version of a record that the caller's hospital anchored: the new record is written
    /// like `anchor` and `supersededBy(previousLeaf)` becomes its leaf. Nothing is overwritten; each record can be
    /// superseded once, so a lineage is a chain (amend the latest version).
    /// @param previousLeaf the leaf of the record being amended (must be stored: materialise a batch record first)
    /// @return leaf the new record's key
    function amend(bytes32 previousLeaf, bytes32 recordHash, bytes32 patientCommitment, uint8 dataClass)
        external
        returns (bytes32 leaf);

    /// @notice Anchors the Merkle root of a batch of records (OpenZeppelin StandardMerkleTree over
    /// `(recordHash, patientCommitment, dataClass)`, DESIGN §6.5). Constant cost whatever the batch size.
    /// @param root the tree's root; it is also the batch id
    /// @param leafCount number of records in the tree (informational; proofs do not depend on it)
    /// @param uri where the hospital serves the batch's proofs (emitted only; each byte costs ~25 gas, so keep it
    /// short or empty: empty = the hospital's Consortium endpoint). Must not identify a patient.
    /// @return batchId equal to `root`
    function anchorBatch(bytes32 root, uint32 leafCount, string calldata uri) external returns (bytes32 batchId);

    /// @notice Writes a batch record as a full record, with the batch's hospital and anchoring time, given its
    /// Merkle proof. Anyone may call it (a patient, an insurer, another contract).
    /// @return leaf the record's key
    function materialise(
        bytes32 root,
        bytes32 recordHash,
        bytes32 patientCommitment,
        uint8 dataClass,
        bytes32[] calldata proof
    ) external returns (bytes32 leaf);

    // ---- access log (HOSPITAL keys) ----

    /// @notice Logs that the caller's hospital accesses a record for `purpose`, after checking that the record is
    /// `patient`'s and that ConsentRegistry permits it (`isPermitted(patient, hospital, purpose, 1 << dataClass)`,
    /// which also answers true for EMERGENCY while a break-glass is open).
    /// @dev Privacy: the record must be stored (anchored, amended or materialised). The caller opens the
    /// commitment (`patient`, `salt`) in calldata, so the transaction input links this record, and every record
    /// with the same commitment (same patient, same hospital salt), to `patient`: call it only where that link is
    /// acceptable (the accessing institution already holds the record and the patient's consent). The event keeps
    /// to what the accounting of disclosures needs: the patient address (so a patient finds the accesses to their
    /// records with one log filter; consent grants already link patient and grantee publicly), the accessor, the
    /// purpose and the opaque leaf. It leaves out the record hash and the salt, so log indexers and subscribers,
    /// which copy events and not calldata, do not learn which record file is the patient's.
    /// @param recordHash the record's hash
    /// @param patient the patient's address (the consent subject)
    /// @param salt the patient's salt at the anchoring hospital
    /// @param dataClass the record's data class (part of the leaf)
    /// @param purpose DESIGN §6.2 purpose, 1..5
    /// @return leaf the accessed record's key
    function logAccess(bytes32 recordHash, address patient, bytes32 salt, uint8 dataClass, uint8 purpose)
        external
        returns (bytes32 leaf);

    // ---- views ----

    /// @notice The record stored under `leaf` (hospital zero if none).
    function getRecord(bytes32 leaf) external view returns (Record memory);

    /// @notice The batch anchored under `root` (hospital zero if none).
    function getBatch(bytes32 root) external view returns (Batch memory);

    /// @notice The leaf of the record that amends `leaf`, or zero.
    function supersededBy(bytes32 leaf) external view returns (bytes32);

    /// @notice True if `proof` proves the record `(recordHash, patientCommitment, dataClass)` in the anchored batch
    /// `root`; false for an unknown root or a wrong proof. Does not need the record to be materialised.
    function verifyBatchRecord(
        bytes32 root,
        bytes32 recordHash,
        bytes32 patientCommitment,
        uint8 dataClass,
        bytes32[] calldata proof
    ) external view returns (bool);

    /// @notice The record key (DESIGN §6.5 leaf) of `(recordHash, patientCommitment, dataClass)`.
    function recordLeaf(bytes32 recordHash, bytes32 patientCommitment, uint8 dataClass)
        external
        pure
        returns (bytes32);

    /// @notice DESIGN §6.3: `keccak256(abi.encode(patient, salt))`. For off-chain tools; anchoring never takes a
    /// patient address.
    function patientCommitment(address patient, bytes32 salt) external pure returns (bytes32);

    /// @notice The Consortium asked about roles.
    function consortium() external view returns (address);

    /// @notice The ConsentRegistry asked by `logAccess`.
    function consentRegistry() external view returns (address);
}
