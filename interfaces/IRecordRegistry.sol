// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title IRecordRegistry
/// @notice Hospitals anchor the hashes of medical records: one at a time, many at once, or as the Merkle root of
/// a batch whose records are proven (and, on demand, materialised) later. Accesses to a record are logged after a
/// consent check, which makes the accounting of disclosures.
///
/// What is stored, and nothing else: per record, keyed by its leaf hash (DESIGN §6.5), the anchoring hospital's
/// MEMBER address, the anchoring time and how it was anchored; per batch, keyed by its Merkle root, the hospital,
/// the time and the leaf count; per amended record, the leaf that supersedes it. The record hash is a SHA-256 of
/// the record file (or of its canonical FHIR JSON, §6.6); it is emitted beside the leaf when a record is anchored,
/// so anyone holding the file finds from the file alone whether, when and by which hospital it was anchored.
/// Health data (diagnoses, contents) never goes on chain.
///
/// Unlinkability (DESIGN §5, §6.3 v2): the leaf commits to `(recordHash, patientCommitment, dataClass)` with a
/// fresh salt per record, and anchoring publishes only the record hash and the leaf. Neither the patient
/// commitment nor the data class is stored or emitted at anchoring, so the chain learns a record's class only
/// when that record is opened (materialised from a batch, accessed, or claimed), and an opening
/// (`patient`, `salt`) reveals the patient of that one record: no other record carries the same commitment.
/// @dev Record key (leaf) = `keccak256(bytes.concat(keccak256(abi.encode(recordHash, patientCommitment, dataClass))))`,
/// identical to an OpenZeppelin StandardMerkleTree leaf with encoding `["bytes32", "bytes32", "uint8"]`, so a batch
/// leaf and a single record of the same values have the same key. A single anchor takes the leaf as computed by
/// the hospital: it is bound to the record hash, commitment and class only when opened (every opening recomputes
/// it on chain). The value keeps only what the key cannot give back, so a record fits one storage slot.
/// First write wins on every path (`anchor`, `anchorMany`, `amend`, `materialise`).
interface IRecordRegistry {
    /// @notice How a record came to be stored.
    enum RecordOrigin {
        None, // not anchored
        Single, // anchor / anchorMany / amend
        Batch // materialised from an anchored Merkle batch with a proof
    }

    /// @notice One record; one storage slot (20 + 8 + 1 bytes). Its data class is not stored: it is part of the
    /// leaf and learnt only from an opening.
    struct Record {
        address hospital; // anchoring hospital's member address; zero = not anchored
        uint64 anchoredAt; // block time of the anchoring transaction (the batch's, for a materialised record)
        RecordOrigin origin;
    }

    /// @notice The opening of one record of a known patient, as `logAccessMany` takes it.
    struct Opening {
        bytes32 recordHash; // the record's hash (DESIGN §6.6)
        bytes32 salt; // the record's own salt: commitment = keccak256(abi.encode(patient, salt)) (§6.3 v2)
        uint8 dataClass; // the record's data class (part of the leaf)
    }

    /// @notice One Merkle batch; one storage slot (20 + 8 + 4 bytes), keyed by its root (the batch id).
    struct Batch {
        address hospital; // anchoring hospital's member address; zero = unknown root
        uint64 anchoredAt; // block time of anchorBatch
        uint32 leafCount; // number of records in the tree (as declared by the hospital)
    }

    // ---- events ----

    /// @notice A record with hash `recordHash` was written under `leaf` (by anchor, anchorMany, amend or
    /// materialise). Records are never overwritten, so `getRecord(leaf)` at any later block gives its hospital, time
    /// and origin. `recordHash` is indexed so that a file's holder finds its anchoring with one log filter; the
    /// patient commitment and the data class stay inside the leaf.
    event RecordAnchored(bytes32 indexed leaf, bytes32 indexed recordHash);

    /// @notice `leaf` amends (supersedes) `previousLeaf`; both records stay readable.
    event RecordAmended(bytes32 indexed previousLeaf, bytes32 indexed leaf, address indexed hospital);

    /// @notice A Merkle batch was anchored under `root`; `getBatch(root)` gives its hospital, time and leaf count
    /// (batches are never overwritten). `uri` says where the hospital serves the batch's proofs; it is emitted,
    /// not stored, and empty means the hospital's Consortium endpoint (`getMember(hospital).uri`).
    event BatchAnchored(bytes32 indexed root, string uri);

    /// @notice A batch record was proven against `root` and written as a full record by `by`.
    event BatchRecordMaterialised(bytes32 indexed root, bytes32 indexed leaf, address by);

    /// @notice The accounting of disclosures: institution `accessor` (a member, acting through key `by`) accessed
    /// the record `leaf` of `patient`, of data class `dataClass`, for `purpose`, and consent (or an open
    /// break-glass for EMERGENCY) permitted it at that moment. The access opened this one record (its class was
    /// in the calldata anyway), so the event carries the class the patient's accounting needs.
    event RecordAccessed(
        bytes32 indexed leaf,
        address indexed patient,
        address indexed accessor,
        uint8 purpose,
        uint8 dataClass,
        address by
    );

    // ---- errors ----

    /// @dev `account` does not hold `role` for an active member.
    error RecordUnauthorized(address account, bytes32 role);
    /// @dev Data class outside DESIGN §6.2 (0..10).
    error RecordInvalidDataClass(uint8 dataClass);
    /// @dev Purpose outside DESIGN §6.2 (1..5).
    error RecordInvalidPurpose(uint8 purpose);
    /// @dev A zero record hash or a zero leaf (or, when materialising, a zero patient commitment).
    error RecordInvalidHash(bytes32 recordHash, bytes32 leaf);
    /// @dev anchorMany arrays differ in length (or are empty).
    error RecordInvalidArrays(uint256 recordHashes, uint256 leaves);
    /// @dev A constructor argument is the zero address.
    error RecordZeroAddress(address consortium, address consentRegistry);
    /// @dev logAccessMany takes 1..`max` openings.
    error RecordInvalidAccessCount(uint256 count, uint256 max);
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
    /// @dev ConsentRegistry does not permit `accessor` to access `patient`'s data of the classes in the bitmap
    /// `dataClasses` for `purpose` (no consent, expired, revoked, or no open break-glass for EMERGENCY).
    error RecordAccessNotPermitted(address patient, address accessor, uint8 purpose, uint64 dataClasses);

    // ---- anchoring (HOSPITAL keys) ----

    /// @notice Anchors one record for the caller's hospital.
    /// @param recordHash sha256 of the record file or of its canonical FHIR JSON (DESIGN §6.6); non-zero
    /// @param leaf the record's key, `recordLeaf(recordHash, keccak256(abi.encode(patient, salt)), dataClass)` with
    /// the record's own salt (DESIGN §6.3 v2, §6.5); non-zero. Only the hospital knows its opening.
    /// @return leaf the record's key, as given
    function anchor(bytes32 recordHash, bytes32 leaf) external returns (bytes32);

    /// @notice Anchors several records in one transaction (one role check); reverts as a whole if any record is
    /// invalid or already anchored. Records anchored together share a block and a transaction: a hospital that
    /// anchors one patient's records together lets an observer guess that they belong together (SECURITY.md).
    /// @return leaves the records' keys, in input order
    function anchorMany(bytes32[] calldata recordHashes, bytes32[] calldata leaves)
        external
        returns (bytes32[] memory);

    /// @notice Anchors a new version of a record that the caller's hospital anchored: the new record is written
    /// like `anchor` and `supersededBy(previousLeaf)` becomes its leaf. Nothing is overwritten; each record can be
    /// superseded once, so a lineage is a chain (amend the latest version).
    /// @param previousLeaf the leaf of the record being amended (must be stored: materialise a batch record first)
    /// @param recordHash the new version's hash
    /// @param leaf the new version's key (its own salt, like `anchor`)
    /// @return the new record's key
    function amend(bytes32 previousLeaf, bytes32 recordHash, bytes32 leaf) external returns (bytes32);

    /// @notice Anchors the Merkle root of a batch of records (OpenZeppelin StandardMerkleTree over
    /// `(recordHash, patientCommitment, dataClass)`, DESIGN §6.5). Constant cost whatever the batch size.
    /// @param root the tree's root; it is also the batch id
    /// @param leafCount number of records in the tree (informational; proofs do not depend on it)
    /// @param uri where the hospital serves the batch's proofs (emitted only; each byte costs ~25 gas, so keep it
    /// short or empty: empty = the hospital's Consortium endpoint). Must not identify a patient.
    /// @return batchId equal to `root`
    function anchorBatch(bytes32 root, uint32 leafCount, string calldata uri) external returns (bytes32 batchId);

    /// @notice Writes a batch record as a full record, with the batch's hospital and anchoring time, given its
    /// Merkle proof. Anyone may call it (a patient, an insurer, another contract). It publishes the record's
    /// patient commitment and data class (not the patient): the tools materialise a record only as part of an
    /// opening (an access or a claim), which publishes them anyway.
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
    /// commitment (`patient`, `salt`) in calldata, so the transaction input links this one record (and its data
    /// class) to `patient`; with one salt per record (DESIGN §6.3 v2) no other record carries that commitment. The
    /// event keeps to what the accounting of disclosures needs: the patient address (so a patient finds the
    /// accesses to their records with one log filter; consent grants already link patient and grantee publicly),
    /// the accessor, the purpose and the leaf.
    /// @param recordHash the record's hash
    /// @param patient the patient's address (the consent subject)
    /// @param salt the record's own salt
    /// @param dataClass the record's data class (part of the leaf)
    /// @param purpose DESIGN §6.2 purpose, 1..5
    /// @return leaf the accessed record's key
    function logAccess(bytes32 recordHash, address patient, bytes32 salt, uint8 dataClass, uint8 purpose)
        external
        returns (bytes32 leaf);

    /// @notice `logAccess` for several records of one patient in one transaction, with one consent check for the
    /// union of their data classes; reverts as a whole if any record is not stored or not permitted. Emits one
    /// `RecordAccessed` per record.
    /// @param patient the patient's address (the consent subject of every record)
    /// @param purpose DESIGN §6.2 purpose, 1..5
    /// @param openings 1..`MAX_ACCESS_BATCH` record openings
    /// @return leaves the accessed records' keys, in input order
    function logAccessMany(address patient, uint8 purpose, Opening[] calldata openings)
        external
        returns (bytes32[] memory leaves);

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

    /// @notice The most openings `logAccessMany` takes in one call.
    function MAX_ACCESS_BATCH() external view returns (uint256);

    /// @notice The Consortium asked about roles.
    function consortium() external view returns (address);

    /// @notice The ConsentRegistry asked by `logAccess`.
    function consentRegistry() external view returns (address);
}
