// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title IDrugTrace
/// @notice Drug traceability for the consortium: GTIN products, serialised batches, custody hand-overs
/// (ship → receive), once-only dispensing with duplicate-scan flags, recalls and expiry, and one-call views
/// that answer a consumer who scanned a pack.
///
/// What is stored on chain (all public, nothing about patients):
/// - per product (GTIN as a number): the manufacturer member, its public name, when registered;
/// - per batch (`batchId = keccak256(abi.encode(uint64 gtin, string lot))`): GTIN, lot, expiry (unix time),
///   quantity, the Merkle root of its serial numbers, a certificate hash (e.g. the release certificate), the
///   manufacturer member, status and recall data (time, reason hash), units in transit and lost;
/// - per (batch, member): units held and serials dispensed;
/// - per shipment: batch, sender and recipient members, quantities, times;
/// - per dispensed serial (keyed by its serial leaf): when, which member dispensed it, and duplicate-scan
///   flags (count, last member that tried, when).
/// Serial numbers themselves are neither stored nor emitted: dispenses are keyed by the serial's Merkle
/// leaf, which only someone who knows the serial (the pack in hand, the manufacturer's list) can recompute.
/// Each lifecycle event carries `epcisHash`, the sha256 of the RFC 8785 canonical JSON of the full EPCIS 2.0
/// document describing it (kept off chain; see medchain/epcis.py).
///
/// @dev Institutions are member addresses of the Consortium; operator keys act for them. Quantities are
/// conserved per batch: Σ_members (held + dispensed) + inTransit + lost = quantity. Dispensed counts live in
/// the dispensing member's stock slot, which a dispense writes anyway (one counter write per dispense).
/// GTIN check digits, lot and serial character sets and the YYMMDD → unix expiry conversion are validated
/// off chain (medchain stores the last second of the expiry day, UTC). Serial leaves follow the OpenZeppelin
/// StandardMerkleTree encoding `["bytes32", "string"]` = `(batchId, serial)` (DESIGN §6.7):
/// `leaf = keccak256(bytes.concat(keccak256(abi.encode(batchId, serial))))`.
/// Decisions: a duplicate dispense is recorded even for recalled or expired batches and without stock (the
/// second scan is the evidence); recalled or expired stock can still be received and shipped back to its
/// manufacturer (returns), never onward or to a patient.
interface IDrugTrace {
    enum BatchStatus {
        None, // no such batch
        Active,
        Recalled
    }

    enum ShipmentStatus {
        None, // no such shipment
        InTransit,
        Received
    }

    struct Product {
        address manufacturer; // member that registered the GTIN; zero = not registered
        uint64 registeredAt;
        string name; // public product name (as printed on the pack)
    }

    struct Batch {
        BatchStatus status; // slot 0: 1 + 8 + 3 * 4 bytes (what a dispense reads, with serialRoot)
        uint64 expiry; // unix time: expired once block.timestamp > expiry
        uint32 quantity; // units commissioned (= serials in the tree)
        uint32 inTransit; // units shipped and not yet received
        uint32 lost; // units shipped but not received (receipt discrepancies)
        address manufacturer; // slot 1: 20 + 8 bytes; member that owns the product
        uint64 gtin;
        uint64 commissionedAt; // slot 2: 8 + 8 bytes
        uint64 recalledAt; // 0 unless recalled
        bytes32 serialRoot; // slot 3: StandardMerkleTree root over (batchId, serial)
        bytes32 certificateHash; // slot 4: hash of the batch release certificate (off chain)
        bytes32 recallReasonHash; // slot 5: hash of the recall notice (off chain); 0 unless recalled
        string lot; // slot 6: ≤ 20 bytes, a short string
    }

    /// @notice One member's stock of one batch (one slot).
    struct Stock {
        uint32 held; // units the member holds now
        uint32 dispensed; // serials of the batch the member dispensed
    }

    /// @notice A batch as a consumer page shows it: the stored batch plus derived flags.
    struct BatchInfo {
        bytes32 batchId;
        Batch batch;
        bool expired; // block.timestamp > expiry
        string productName;
    }

    struct Shipment {
        ShipmentStatus status;
        bytes32 batchId;
        address from; // sending member
        address to; // receiving member
        uint32 quantity; // units shipped
        uint32 quantityReceived; // units the recipient confirmed (≤ quantity); the rest counts as lost
        uint64 shippedAt;
        uint64 receivedAt; // 0 while in transit
    }

    /// @notice Everything known about one serial of one batch, in one call.
    struct SerialStatus {
        bool batchExists;
        bool genuine; // `verify`: the proof places the serial in the batch; `serialStatus`: dispensed (its
        // dispense checked a proof), else false = not known
        BatchStatus batchStatus;
        bool recalled;
        bool expired;
        uint64 expiry;
        bool dispensed;
        uint64 dispensedAt; // 0 unless dispensed
        address dispensedBy; // member (pharmacy / hospital); zero unless dispensed
        uint32 duplicateCount; // dispense attempts after the first one
        address lastDuplicateBy; // member of the last duplicate attempt; zero if none
        uint64 lastDuplicateAt;
    }

    // ---- events (every lifecycle event carries the hash of its EPCIS 2.0 document) ----

    /// @dev Product master data is not an EPCIS event: no EPCIS hash here.
    event ProductRegistered(uint64 indexed gtin, address indexed manufacturer, string name);
    event BatchCommissioned(
        bytes32 indexed batchId,
        uint64 indexed gtin,
        address indexed manufacturer,
        string lot,
        uint64 expiry,
        uint32 quantity,
        bytes32 serialRoot,
        bytes32 certificateHash,
        bytes32 epcisHash
    );
    event DrugShipped(
        bytes32 indexed batchId,
        uint256 indexed shipmentId,
        address indexed from,
        address to,
        uint32 quantity,
        bytes32 epcisHash
    );
    event DrugReceived(
        bytes32 indexed batchId,
        uint256 indexed shipmentId,
        address indexed to,
        address from,
        uint32 quantityReceived,
        bytes32 epcisHash
    );
    /// @notice A recipient confirmed fewer units than were shipped; `shipped - received` units count as lost.
    event DrugReceiptDiscrepancy(
        bytes32 indexed batchId,
        uint256 indexed shipmentId,
        address indexed to,
        uint32 shipped,
        uint32 received,
        bytes32 epcisHash
    );
    event DrugDispensed(bytes32 indexed batchId, bytes32 indexed serialLeaf, address indexed member, bytes32 epcisHash);
    /// @notice A serial that was already dispensed was presented for dispensing again (NHSA-style flag).
    event DuplicateDispenseFlagged(
        bytes32 indexed batchId,
        bytes32 indexed serialLeaf,
        address indexed member,
        uint32 duplicateCount,
        bytes32 epcisHash
    );
    event BatchRecalled(bytes32 indexed batchId, address indexed by, bytes32 reasonHash, bytes32 epcisHash);

    // ---- errors ----

    error DrugTraceZeroAddress();
    /// @dev `account` does not hold `role` for an active member.
    error DrugTraceUnauthorized(address account, bytes32 role);
    /// @dev `account` is not a key of an active member.
    error DrugTraceNotMember(address account);
    /// @dev `account` acts for `member`, which is not the batch's manufacturer `manufacturer`.
    error DrugTraceNotManufacturer(address account, address member, address manufacturer);
    /// @dev `account` does not act for the shipment's recipient.
    error DrugTraceNotRecipient(uint256 shipmentId, address account, address recipient);
    error DrugTraceInvalidGtin(uint64 gtin);
    error DrugTraceUnknownProduct(uint64 gtin);
    error DrugTraceProductExists(uint64 gtin, address manufacturer);
    error DrugTraceInvalidLot(string lot);
    error DrugTraceInvalidExpiry(uint64 expiry, uint64 currentTime);
    error DrugTraceInvalidQuantity(uint32 quantity);
    error DrugTraceInvalidSerialRoot(bytes32 serialRoot);
    error DrugTraceBatchExists(bytes32 batchId);
    error DrugTraceUnknownBatch(bytes32 batchId);
    error DrugTraceBatchRecalled(bytes32 batchId, uint64 recalledAt);
    error DrugTraceBatchExpired(bytes32 batchId, uint64 expiry);
    /// @dev `to` is not a member address holding DISTRIBUTOR, PHARMACY or HOSPITAL (nor, for returns, the batch's
    /// manufacturer), or is the sender itself.
    error DrugTraceInvalidRecipient(bytes32 batchId, address to);
    error DrugTraceInsufficientStock(bytes32 batchId, address holder, uint32 held, uint32 requested);
    error DrugTraceUnknownShipment(uint256 shipmentId);
    error DrugTraceShipmentAlreadyReceived(uint256 shipmentId, uint64 receivedAt);
    error DrugTraceReceivedExceedsShipped(uint256 shipmentId, uint32 shipped, uint32 received);
    error DrugTraceInvalidSerialProof(bytes32 batchId, string serial);

    // ---- products and batches (MANUFACTURER keys) ----

    /// @notice Registers GTIN `gtin` (a GTIN-14 as a number, 0 < gtin < 10^14) as a product of the caller's
    /// member. Each GTIN is registered once, for ever.
    function registerProduct(uint64 gtin, string calldata name) external;

    /// @notice Commissions batch (`gtin`, `lot`): `quantity` units whose serials form the tree `serialRoot`.
    /// Only a MANUFACTURER key of the product's manufacturer. The manufacturer member then holds all units.
    /// @param lot 1..20 bytes (GS1 AI 10)
    /// @param expiry unix time after which the batch is expired; must be in the future
    /// @param certificateHash hash of the batch release certificate (may be zero)
    /// @return batchId keccak256(abi.encode(gtin, lot))
    function commissionBatch(
        uint64 gtin,
        string calldata lot,
        uint64 expiry,
        uint32 quantity,
        bytes32 serialRoot,
        bytes32 certificateHash,
        bytes32 epcisHash
    ) external returns (bytes32 batchId);

    // ---- custody ----

    /// @notice Ships `quantity` units of `batchId` from the caller's member to member `to`: the units move from
    /// the sender's stock to in transit. `to` must be a member address (not an operator key) holding
    /// DISTRIBUTOR, PHARMACY or HOSPITAL, or — for returns — the batch's manufacturer. A recalled or expired
    /// batch can only be shipped back to its manufacturer.
    /// @return shipmentId the new shipment's id (1, 2, ...)
    function ship(bytes32 batchId, address to, uint32 quantity, bytes32 epcisHash)
        external
        returns (uint256 shipmentId);

    /// @notice The recipient confirms shipment `shipmentId` with the units it actually received
    /// (≤ shipped; the difference is recorded as lost and a discrepancy event is emitted). Allowed after a
    /// recall or expiry too: the goods have physically arrived and stay accounted for.
    function receiveShipment(uint256 shipmentId, uint32 quantityReceived, bytes32 epcisHash) external;

    // ---- dispensing (PHARMACY or HOSPITAL keys) ----

    /// @notice Dispenses serial `serial` of `batchId` to a patient. The proof must place (batchId, serial) in
    /// the batch's serial tree. The first dispense records when and by which member, and takes one unit from
    /// the caller's stock (it must hold one). A later dispense of the same serial does not revert: it
    /// increments the serial's duplicate-scan count, records who tried and when, and emits
    /// DuplicateDispenseFlagged — also for recalled or expired batches and without stock, since a second scan
    /// is evidence worth keeping. A first dispense of a recalled or expired batch reverts.
    /// @return first true if this call dispensed the serial, false if it was flagged as a duplicate
    function dispense(bytes32 batchId, string calldata serial, bytes32[] calldata proof, bytes32 epcisHash)
        external
        returns (bool first);

    // ---- recall ----

    /// @notice Recalls batch `batchId`: a MANUFACTURER key of its manufacturer, or any COUNCIL key. From then on
    /// it cannot be dispensed, and only shipped back to its manufacturer.
    function recall(bytes32 batchId, bytes32 reasonHash, bytes32 epcisHash) external;

    // ---- views ----

    /// @notice The Consortium asked for roles and members.
    function consortium() external view returns (address);

    /// @notice A product's record (manufacturer zero if not registered).
    function getProduct(uint64 gtin) external view returns (Product memory);

    /// @notice A batch's record (status None if it does not exist).
    function getBatch(bytes32 batchId) external view returns (Batch memory);

    /// @notice A batch with its id, expiry flag and product name.
    function batchInfo(bytes32 batchId) external view returns (BatchInfo memory);

    /// @notice Member `member`'s stock of `batchId`: units held and serials dispensed.
    function stockOf(bytes32 batchId, address member) external view returns (Stock memory);

    /// @notice A shipment's record (status None if it does not exist).
    function getShipment(uint256 shipmentId) external view returns (Shipment memory);

    /// @notice Number of shipments ever made (ids run 1..shipmentCount).
    function shipmentCount() external view returns (uint256);

    /// @notice A serial's dispense state without a proof: `genuine` is true only if it was dispensed.
    function serialStatus(bytes32 batchId, string calldata serial) external view returns (SerialStatus memory);

    /// @notice A consumer's question in one call: is (gtin, lot, serial) genuine (`proof` places it in the
    /// batch's serial tree), and is it recalled, expired, dispensed (when, where), scanned twice?
    function verify(uint64 gtin, string calldata lot, string calldata serial, bytes32[] calldata proof)
        external
        view
        returns (SerialStatus memory);

    /// @notice keccak256(abi.encode(gtin, lot)).
    function batchIdOf(uint64 gtin, string calldata lot) external pure returns (bytes32);

    /// @notice The serial's Merkle leaf: keccak256(bytes.concat(keccak256(abi.encode(batchId, serial)))).
    function serialLeaf(bytes32 batchId, string calldata serial) external pure returns (bytes32);
}
