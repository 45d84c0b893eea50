// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title IDrugTrace
/// @notice Drug traceability for the consortium: GTIN products, serialised batches, custody hand-overs
/// (ship → receive), once-only dispensing with duplicate-scan flags, recalls and expiry, and one-call views
/// that answer a consumer who scanned a pack.
///
/// What is stored on chain (all public, nothing about patients):
/// - per GS1 Company Prefix (6..12 digits): the manufacturer member the council assigned it to;
/// - per product (GTIN as a number): the manufacturer member, its public name, when registered;
/// - per batch (`batchId = keccak256(abi.encode(uint64 gtin, string lot))`): GTIN, lot, expiry (unix time),
///   quantity, the Merkle root of its serial numbers, a certificate hash (e.g. the release certificate), the
///   manufacturer member, status and recall data (time, reason hash), units in transit and lost;
/// - per (batch, member): units held and serials dispensed;
/// - per shipment: batch, sender and recipient members, quantities, times, status, the root of its serials;
/// - per council motion (prefix assignment, product reassignment): the approving council members;
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
/// Products (issue 12, item 7): the council assigns GS1 Company Prefixes to manufacturers by k-of-n approval
/// inside this contract (`assignPrefix`, `reassignProduct`: each COUNCIL member calls once with the same
/// arguments; the call that brings the approvals of members who are active COUNCIL at that moment to the
/// Consortium's `threshold()` executes it). A manufacturer registers only GTINs whose GTIN-13 part (the digits
/// after the indicator digit) starts with one of its prefixes. Prefixes never nest (as GS1 issues them).
/// Custody (item 8): every shipment commits to the serials it carries: `serialRoot` is the StandardMerkleTree
/// root of the shipped serials with the same leaf `(batchId, serial)` as the batch tree. The contract computes
/// it from the shipped serials' inner hashes and checks, with one OZ multiproof, that they are leaves of the
/// shipment's source: the batch tree (the manufacturer's shipments) or one shipment the sender received. So
/// by induction every serial of a shipment is a serial of the batch that reached the sender, and a dispense
/// proves its serial against a shipment the dispenser received (a shorter proof than the batch tree's).
/// Limit: per-serial custody is not stored (a write per serial would cost 20,000 gas): a sender can list one
/// serial it received in two of its shipments (it then strands another one, stock stays conserved); the
/// second dispense of it is flagged, and both shipment lists name that sender.
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
        Received,
        Cancelled, // by the sender before receipt: the units went back to its stock
        Returned // refused by the recipient before receipt: the units went back to the sender's stock
    }

    /// @notice What a council motion changes (see `assignPrefix`, `reassignProduct`).
    enum MotionKind {
        None,
        AssignPrefix,
        ReassignProduct
    }

    /// @notice The serials a shipment carries and where the sender got them.
    /// @param source 0 = the batch's serial tree (only its manufacturer), else the id of a shipment of the same
    /// batch that the sender's member received
    /// @param serialHashes `keccak256(abi.encode(batchId, serial))` of each shipped serial (the inner hash of its
    /// leaf, so that no internal tree node can pass as a serial), ordered by ascending leaf
    /// `keccak256(serialHash)` (no repeats); their number is the shipment's quantity. Empty with
    /// `proof = [source root]` and no flags (OZ's multiproof of the empty set): the whole source is shipped, as
    /// many units as the batch's quantity (source 0) or as the source shipment delivered, at a cost independent of
    /// its size
    /// @param proof with `proofFlags`: an OZ multiproof that the leaves are in the source's tree
    struct SerialSet {
        uint256 source;
        bytes32[] serialHashes;
        bytes32[] proof;
        bool[] proofFlags;
    }

    struct Product {
        address manufacturer; // member that owns the GTIN (registered it, or the council reassigned it)
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
        uint64 receivedAt; // when it was received, cancelled or returned; 0 while in transit
        bytes32 serialCommitment; // keccak256(abi.encode(batchId, serialRoot)); the root is in DrugShipped
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

    /// @notice Council member `member` approved motion `motionId`; `approvals` counts the approving members that
    /// are active COUNCIL now, `threshold` is the Consortium's. Master data: no EPCIS hash.
    event MotionApproved(
        bytes32 indexed motionId, address indexed member, MotionKind kind, uint256 approvals, uint256 threshold
    );
    /// @notice GS1 Company Prefix `prefix` now belongs to `manufacturer` (zero: unassigned).
    event PrefixAssigned(string prefix, address indexed manufacturer, address indexed previous);
    /// @notice The council moved product `gtin` to `manufacturer` (future batches are commissioned by it).
    event ProductReassigned(uint64 indexed gtin, address indexed manufacturer, address indexed previous);

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
        uint256 source,
        bytes32 serialRoot,
        bytes32 epcisHash
    );
    /// @notice The sender took back shipment `shipmentId` before receipt: its units are in its stock again.
    event ShipmentCancelled(
        bytes32 indexed batchId, uint256 indexed shipmentId, address indexed from, uint32 quantity, bytes32 epcisHash
    );
    /// @notice Recipient `to` refused shipment `shipmentId` before receipt: the units are the sender's stock again.
    event ShipmentReturned(
        bytes32 indexed batchId,
        uint256 indexed shipmentId,
        address indexed to,
        address from,
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
    /// @dev The shipment is `status` (received, cancelled or returned), no longer in transit.
    error DrugTraceShipmentNotInTransit(uint256 shipmentId, ShipmentStatus status);
    /// @dev `account` does not act for the shipment's sender.
    error DrugTraceNotSender(uint256 shipmentId, address account, address sender);
    /// @dev Dispensing or re-shipping needs a shipment that was received, this one is `status`.
    error DrugTraceShipmentNotReceived(uint256 shipmentId, ShipmentStatus status);
    /// @dev Shipment `source` is of batch `sourceBatchId`, not of `batchId`.
    error DrugTraceWrongBatch(uint256 source, bytes32 sourceBatchId, bytes32 batchId);
    /// @dev The leaf of `serialHashes[index]` is not above the previous one (order by ascending leaf, no repeats).
    error DrugTraceSerialsNotSorted(uint256 index);
    /// @dev The multiproof does not place the shipped serials in source `source` (0: the batch tree).
    error DrugTraceSerialsNotInSource(bytes32 batchId, uint256 source);
    /// @dev The proof does not place `serial` in shipment `shipmentId`.
    error DrugTraceSerialNotInShipment(uint256 shipmentId, string serial);
    /// @dev A GS1 Company Prefix has 6..12 ASCII digits.
    error DrugTraceInvalidPrefix(string prefix);
    /// @dev `prefix` would nest with an assigned prefix (one is the start of the other).
    error DrugTracePrefixOverlaps(string prefix);
    /// @dev `gtin` is not inside a GS1 Company Prefix assigned to `member`.
    error DrugTraceGtinOutsidePrefixes(uint64 gtin, address member);
    /// @dev `manufacturer` is not an active member address holding MANUFACTURER.
    error DrugTraceNotAManufacturer(address manufacturer);
    /// @dev Council member `member` already approved motion `motionId`.
    error DrugTraceAlreadyApproved(bytes32 motionId, address member);
    /// @dev The motion would change nothing: `subject` already is `manufacturer`'s.
    error DrugTraceNoChange(MotionKind kind, uint64 subject, address manufacturer);
    error DrugTraceReceivedExceedsShipped(uint256 shipmentId, uint32 shipped, uint32 received);

    // ---- GS1 Company Prefixes and product ownership (COUNCIL keys, k-of-n) ----

    /// @notice Approves assigning GS1 Company Prefix `prefix` (6..12 digits, leading zeros count) to member
    /// `manufacturer` (an active member address holding MANUFACTURER), or unassigning it (zero). Each COUNCIL
    /// member approves once; the approval that makes the number of approving members who are active COUNCIL
    /// now reach the Consortium's threshold executes it. Approvals lapse after the Consortium's
    /// `proposalLifetime()` and when the prefix changes. A prefix that nests with an assigned one is refused.
    /// Unassigning does not take registered products away (use `reassignProduct`).
    /// @return done true if this approval executed the assignment
    function assignPrefix(string calldata prefix, address manufacturer) external returns (bool done);

    /// @notice Approves moving registered product `gtin` to member `manufacturer` (same approval rules as
    /// `assignPrefix`). Batches commissioned before keep their manufacturer; later ones are the new owner's.
    /// @return done true if this approval executed the move
    function reassignProduct(uint64 gtin, address manufacturer) external returns (bool done);

    // ---- products and batches (MANUFACTURER keys) ----

    /// @notice Registers GTIN `gtin` (a GTIN-14 as a number, 0 < gtin < 10^14) as a product of the caller's
    /// member. The GTIN-13 inside it (after the indicator digit) must start with a GS1 Company Prefix assigned
    /// to that member. Each GTIN is registered once; only the council can move it (`reassignProduct`).
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

    /// @notice Ships the serials `serials` of `batchId` from the caller's member to member `to`: as many units as
    /// serials move from the sender's stock to in transit, and the shipment stores the StandardMerkleTree root
    /// of those serials (computed here). The serials must come from one source: the batch tree if the sender is
    /// the batch's manufacturer (`source` 0), else one shipment of the batch the sender's member received; the
    /// multiproof is checked against that source's root. (A sender that mixes two received shipments makes two
    /// shipments.) Listed serials cost gas per serial (their hash and multiproof nodes in calldata: several
    /// thousand gas per serial picked from a large tree); forwarding a whole source costs the same at any size.
    /// `to` must be a member address (not an operator key) holding DISTRIBUTOR, PHARMACY or HOSPITAL, or — for
    /// returns — the batch's manufacturer. A recalled or expired batch can only be shipped back to its
    /// manufacturer.
    /// @return shipmentId the new shipment's id (1, 2, ...)
    function ship(bytes32 batchId, address to, SerialSet calldata serials, bytes32 epcisHash)
        external
        returns (uint256 shipmentId);

    /// @notice The sender (any key of the sending member) takes back shipment `shipmentId` before receipt: its
    /// units return to the sender's stock.
    function cancelShipment(uint256 shipmentId, bytes32 epcisHash) external;

    /// @notice The recipient refuses shipment `shipmentId` before receipt: its units return to the sender's stock.
    /// (After receipt, goods go back with an ordinary `ship` to the sender.)
    function returnShipment(uint256 shipmentId, bytes32 epcisHash) external;

    /// @notice The recipient confirms shipment `shipmentId` with the units it actually received
    /// (≤ shipped; the difference is recorded as lost and a discrepancy event is emitted). Allowed after a
    /// recall or expiry too: the goods have physically arrived and stay accounted for.
    function receiveShipment(uint256 shipmentId, uint32 quantityReceived, bytes32 epcisHash) external;

    // ---- dispensing (PHARMACY or HOSPITAL keys) ----

    /// @notice Dispenses serial `serial` of batch `batchId` from shipment `shipmentId` to a patient. The shipment
    /// must have been received by the caller's member, and the proof must place (batchId, serial) in the
    /// shipment's serial tree (checked against the stored commitment keccak256(abi.encode(batchId, root)), which
    /// also binds the shipment to `batchId`). The first dispense records when and by which member, and takes one
    /// unit from the caller's stock (it must hold one). A later dispense of the same serial does not revert: it
    /// increments the serial's duplicate-scan count, records who tried and when, and emits
    /// DuplicateDispenseFlagged — also for recalled or expired batches and without stock, since a second scan is
    /// evidence worth keeping. So only a party that received the serial in a shipment can flag it. A first
    /// dispense of a recalled or expired batch reverts.
    /// @return first true if this call dispensed the serial, false if it was flagged as a duplicate
    function dispense(
        bytes32 batchId,
        uint256 shipmentId,
        string calldata serial,
        bytes32[] calldata proof,
        bytes32 epcisHash
    ) external returns (bool first);

    // ---- recall ----

    /// @notice Recalls batch `batchId`: a MANUFACTURER key of its manufacturer, or any COUNCIL key. From then on
    /// it cannot be dispensed, and only shipped back to its manufacturer.
    function recall(bytes32 batchId, bytes32 reasonHash, bytes32 epcisHash) external;

    // ---- views ----

    /// @notice The Consortium asked for roles and members.
    function consortium() external view returns (address);

    /// @notice The member GS1 Company Prefix `prefix` is assigned to (zero: none; reverts on a malformed prefix).
    function prefixOwner(string calldata prefix) external view returns (address);

    /// @notice The assigned prefix that `gtin` falls in: its manufacturer and number of digits (zeros: none).
    function prefixOf(uint64 gtin) external view returns (address manufacturer, uint8 digits);

    /// @notice The id of the current motion (kind, subject, manufacturer): subject is the prefix's key
    /// 10^digits + value for AssignPrefix, the GTIN for ReassignProduct. Ids change once the subject changes.
    function motionId(MotionKind kind, uint64 subject, address manufacturer) external view returns (bytes32);

    /// @notice The council members that approved motion `id` (while it is open and not lapsed).
    function motionApprovers(bytes32 id) external view returns (address[] memory);

    /// @notice The subject key of prefix `prefix` (10^digits + value): what `motionId` takes.
    function prefixKey(string calldata prefix) external pure returns (uint64);

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
