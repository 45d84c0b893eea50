// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title IClaimsManager
/// @notice One shared insurance-claims ledger for every insurer of the consortium: policies, insurer reserves in
/// one ERC-20 settlement token, consent-gated claims whose evidence is anchored records, a duplicate-claim guard
/// across insurers, dual control for large approvals, escalation to the council, and pull payouts.
///
/// What is stored, and nothing else: per policy, the holder's address (an address the patient controls), the
/// insurer's MEMBER address, the coverage limit, the paid and committed totals and the validity window; per claim,
/// the claimant (the holder, or the HOSPITAL member that submitted for the holder), the policy id, the status, a
/// rejection reason code, the amount and two times; per insurer, its reserve, what it owes, its decision window and
/// dual-control threshold; per beneficiary, the payout credit not yet withdrawn; per record hash, the id of the
/// last claim it backed. Record hashes are SHA-256 digests of record files (DESIGN §6.6), the invoice number and
/// the client's claim reference arrive already hashed (keccak256), so no diagnosis, document or invoice text is
/// ever on chain.
/// @dev Privacy: `submitClaim` opens each evidence record's patient commitment (holder + that record's own salt,
/// DESIGN §6.3 v2) in calldata, so the transaction input links those evidence records, and only those, to the
/// holder. That is the point of the evidence check; it is acceptable because the insurer must learn it anyway and
/// consent for purpose CLAIM is required. No other record of the holder shares a commitment with them.
///
/// Money: `token.balanceOf(this) >= Σ insurer reserves + Σ unwithdrawn payout credits` at all times, with equality
/// unless someone transfers tokens to the contract directly (such tokens are nobody's credit). An approved
/// but unpaid claim is "owed": it stays inside its insurer's reserve and cannot be withdrawn by the insurer.
/// Amounts are token base units and must fit `uint96` (7.9e28 base units).
interface IClaimsManager {
    /// @notice Claim lifecycle: Submitted → Approved | Rejected | Withdrawn | Escalated; Escalated → Approved |
    /// Rejected | Withdrawn (by the council, resp. the claimant); Approved → Paid. Rejected, Withdrawn and Paid
    /// are final.
    enum ClaimStatus {
        None, // does not exist
        Submitted,
        Approved,
        Rejected,
        Withdrawn,
        Escalated,
        Paid
    }

    /// @notice One piece of evidence: an anchored record of the policy holder.
    struct Evidence {
        bytes32 recordHash; // the record's hash as anchored in RecordRegistry
        bytes32 salt; // this record's own salt (DESIGN §6.3 v2): commitment = keccak256(abi.encode(holder, salt))
        uint8 dataClass; // the record's data class (DESIGN §6.2), part of the record key
    }

    /// @notice A policy; three storage slots.
    struct Policy {
        address holder; // the insured person's address; receives payouts
        uint96 coverage; // slot 0: coverage limit over the policy's life, token base units
        address insurer; // the insurer's MEMBER address
        uint96 committed; // slot 1: claimed amounts of Submitted/Escalated claims + approved amounts not yet paid
        uint96 paid; // total paid out
        uint64 validFrom; // claims may be submitted from this time ...
        uint64 validUntil; // slot 2: ... up to and including this time
    }

    /// @notice A claim; two storage slots.
    struct Claim {
        address claimant; // the holder, or the HOSPITAL member that submitted on the holder's behalf
        uint64 policyId;
        ClaimStatus status;
        uint16 reason; // slot 0: rejection reason code (0 unless Rejected)
        uint96 amount; // claimed amount; the approved amount (≤ claimed) once Approved or Paid
        uint64 submittedAt;
        uint64 decideBy; // slot 1: after this time the claimant may escalate a Submitted claim to the council
    }

    /// @notice An insurer's money and claim settings; two storage slots.
    struct InsurerAccount {
        uint128 reserve; // tokens held for the insurer (owed amounts included)
        uint128 owed; // slot 0: approved, not yet paid; withdrawable = reserve - owed
        uint64 decisionWindow; // seconds the insurer has to decide a claim; 0 = DEFAULT_DECISION_WINDOW
        uint96 dualControlThreshold; // slot 1: approvals above this amount need two keys; 0 = dual control off
    }

    // ---- events ----

    /// @notice Policy `policyId` was issued by `insurer` (acting through key `by`) to `holder`.
    event PolicyCreated(
        uint256 indexed policyId,
        address indexed insurer,
        address indexed holder,
        uint256 coverage,
        uint64 validFrom,
        uint64 validUntil,
        address by
    );

    /// @notice `insurer` changed its decision window (applies to claims submitted from now on) and its
    /// dual-control threshold (applies to approvals from now on).
    event ClaimSettingsChanged(address indexed insurer, uint64 decisionWindow, uint256 dualControlThreshold);

    /// @notice `from` deposited `amount` into `insurer`'s reserve, which now holds `reserve`.
    event ReserveDeposited(address indexed insurer, address indexed from, uint256 amount, uint256 reserve);

    /// @notice `insurer` (acting through key `by`) withdrew `amount` of its reserve to its member address.
    event ReserveWithdrawn(address indexed insurer, address indexed by, uint256 amount, uint256 reserve);

    /// @notice The council (key `by`) released `amount` of the reserve of `insurer`, which no longer holds INSURER,
    /// to the insurer's member address; `reserve` is what is left (what it still owes).
    event ReserveReleased(address indexed insurer, address indexed by, uint256 amount, uint256 reserve);

    /// @notice Claim `claimId` was submitted on `policyId` by `claimant` (acting through key `by`). Its evidence
    /// record hashes are listed so an indexer can rebuild the duplicate guard from events alone.
    /// @param invoiceHash keccak256 of the invoice number (zero if none)
    /// @param claimRef keccak256 of the submitter's own claim reference (its idempotency key; zero if none)
    event ClaimSubmitted(
        uint256 indexed claimId,
        uint256 indexed policyId,
        address indexed insurer,
        address claimant,
        address by,
        uint256 amount,
        uint64 decideBy,
        bytes32 invoiceHash,
        bytes32 claimRef,
        bytes32[] recordHashes
    );

    /// @notice Every lifecycle transition after submission, made by key `actor`.
    event ClaimStatusChanged(
        uint256 indexed claimId,
        uint256 indexed policyId,
        ClaimStatus indexed status,
        ClaimStatus previous,
        address actor
    );

    /// @notice Dual control: `key` of `insurer` made the first approval of `amount`; a second, distinct key of
    /// the same insurer completes it.
    event ClaimApprovalPending(uint256 indexed claimId, address indexed insurer, address indexed key, uint256 amount);

    /// @notice Claim `claimId` was approved for `amount` of the `claimed` amount (by its insurer, or by the
    /// council for an escalated claim; the key is the `actor` of the matching ClaimStatusChanged).
    event ClaimApproved(
        uint256 indexed claimId,
        uint256 indexed policyId,
        address indexed insurer,
        uint256 amount,
        uint256 claimed
    );

    /// @notice Claim `claimId` was rejected with reason code `reason`.
    event ClaimRejected(uint256 indexed claimId, uint256 indexed policyId, address indexed insurer, uint16 reason);

    /// @notice Claim `claimId` was paid: `amount` moved from `insurer`'s reserve to `holder`'s payout credit.
    event ClaimPaid(uint256 indexed claimId, address indexed insurer, address indexed holder, uint256 amount);

    /// @notice `amount` of `beneficiary`'s payout credit was transferred to it (the call made by `by`).
    event PayoutWithdrawn(address indexed beneficiary, address indexed by, uint256 amount);

    // ---- errors ----

    /// @dev `account` does not hold `role` for an active member.
    error ClaimUnauthorized(address account, bytes32 role);
    /// @dev Claim settings are changed by the insurer's member address itself, not by an operator key
    /// (so one staff key cannot switch dual control off).
    error ClaimSettingsNotMember(address account, address member);
    /// @dev `account` is not a key of `insurer`, the insurer of claim `claimId`'s policy.
    error ClaimNotPolicyInsurer(uint256 claimId, address account, address insurer);
    /// @dev `account` is neither the holder of policy `policyId` nor a HOSPITAL key.
    error ClaimUnauthorizedSubmitter(uint256 policyId, address account);
    /// @dev `account` is neither the holder nor a key of the claimant of claim `claimId`.
    error ClaimNotClaimant(uint256 claimId, address account);
    /// @dev Zero holder, zero or oversized coverage, or a window that is empty or already over.
    error ClaimInvalidPolicy(address holder, uint256 coverage, uint64 validFrom, uint64 validUntil);
    /// @dev No policy has id `policyId`.
    error ClaimPolicyNonexistent(uint256 policyId);
    /// @dev Policy `policyId` is not in force now.
    error ClaimPolicyInactive(uint256 policyId, uint64 validFrom, uint64 validUntil);
    /// @dev No claim has id `claimId`.
    error ClaimNonexistent(uint256 claimId);
    /// @dev The one lifecycle error: claim `claimId` is `current`, the step needs `expected`.
    error ClaimUnexpectedStatus(uint256 claimId, ClaimStatus current, ClaimStatus expected);
    /// @dev A zero amount, or one that does not fit uint96.
    error ClaimInvalidAmount(uint256 amount);
    /// @dev `amount` exceeds what is left of policy `policyId`'s coverage.
    error ClaimCoverageExceeded(uint256 policyId, uint256 amount, uint256 remaining);
    /// @dev A claim needs 1..`max` evidence records.
    error ClaimInvalidEvidenceCount(uint256 count, uint256 max);
    /// @dev No record of the holder is anchored under `recordHash` (key `leaf`): wrong hash, salt or data class,
    /// another patient's record, or a batch record not yet materialised.
    error ClaimEvidenceNotAnchored(bytes32 recordHash, bytes32 leaf);
    /// @dev Evidence `recordHash` names data class `dataClass`, outside DESIGN §6.2 (0..10). RecordRegistry stores
    /// leaves without their class (it is learnt only when a record is opened), so the class is checked here.
    error ClaimInvalidEvidenceClass(bytes32 recordHash, uint8 dataClass);
    /// @dev Record `recordHash` already backs live claim `claimId` (any insurer).
    error ClaimEvidenceAlreadyClaimed(bytes32 recordHash, uint256 claimId);
    /// @dev `holder` has no consent in force letting `insurer` use data classes `dataClasses` for purpose CLAIM.
    error ClaimConsentMissing(address holder, address insurer, uint64 dataClasses);
    /// @dev The approved amount must be 1..`claimed`.
    error ClaimInvalidApprovalAmount(uint256 claimId, uint256 amount, uint256 claimed);
    /// @dev Dual control: `key` already made the pending first approval of claim `claimId`.
    error ClaimDualControlSameKey(uint256 claimId, address key);
    /// @dev Dual control: the second approval's `amount` differs from the pending first one's `pendingAmount`.
    error ClaimDualControlAmountMismatch(uint256 claimId, uint256 pendingAmount, uint256 amount);
    /// @dev Escalation is possible only after `decideBy`.
    error ClaimDecisionWindowOpen(uint256 claimId, uint64 decideBy);
    /// @dev A rejection needs a non-zero reason code.
    error ClaimInvalidReason(uint16 reason);
    /// @dev The decision window must be MIN_DECISION_WINDOW..MAX_DECISION_WINDOW seconds.
    error ClaimInvalidDecisionWindow(uint64 decisionWindow);
    /// @dev The dual-control threshold must fit uint96.
    error ClaimInvalidThreshold(uint256 threshold);
    /// @dev `insurer` is not an active INSURER member (deposits go to member addresses).
    error ClaimInvalidInsurer(address insurer);
    /// @dev Evidence `recordHash` was anchored by `hospital`, which is not an active HOSPITAL member now (suspended
    /// or stripped of the role): its records are not evidence.
    error ClaimEvidenceHospitalInactive(bytes32 recordHash, address hospital);
    /// @dev Hospital `claimant` submitted evidence it did not anchor, without `holder`'s consent for purpose CLAIM
    /// covering `dataClasses`.
    error ClaimSubmitterNotPermitted(address claimant, address holder, uint64 dataClasses);
    /// @dev Council member `member` is the claimant or the insurer of escalated claim `claimId`: it may not decide it.
    error ClaimCouncilConflict(uint256 claimId, address member);
    /// @dev `insurer` still holds INSURER (it withdraws its own reserve), or has nothing withdrawable to release.
    error ClaimReserveNotReleasable(address insurer, uint256 available);
    /// @dev A constructor argument is the zero address.
    error ClaimZeroAddress(address consortium, address consentRegistry, address recordRegistry, address token);
    /// @dev `insurer` has `available` but `needed` more.
    error ClaimInsufficientReserve(address insurer, uint256 available, uint256 needed);
    /// @dev `beneficiary` has no payout credit.
    error ClaimNoPayout(address beneficiary);

    // ---- insurers (INSURER keys) ----

    /// @notice Issues a policy from the caller's insurer to `holder`.
    /// @param holder the insured person's address (receives payouts)
    /// @param coverage the coverage limit over the policy's life, token base units, 1..2^96-1
    /// @param validFrom first second claims may be submitted
    /// @param validUntil last second claims may be submitted; after `validFrom` and not yet past
    /// @return policyId the new policy's id (1, 2, ...)
    function createPolicy(address holder, uint256 coverage, uint64 validFrom, uint64 validUntil)
        external
        returns (uint256 policyId);

    /// @notice Sets the caller's decision window (for claims submitted from now on) and dual-control threshold
    /// (for approvals from now on). Only the insurer's member address itself may call it.
    /// @param decisionWindow seconds, MIN_DECISION_WINDOW..MAX_DECISION_WINDOW
    /// @param dualControlThreshold approvals of more than this amount need two distinct keys; 0 turns dual
    /// control off
    function setClaimSettings(uint64 decisionWindow, uint256 dualControlThreshold) external;

    /// @notice Moves `amount` tokens from the caller (who approved this contract) into `insurer`'s reserve.
    /// Anyone may fund an active insurer; the reserve grows by what actually arrived.
    function depositReserve(address insurer, uint256 amount) external;

    /// @notice Withdraws `amount` of the caller's insurer's reserve to the insurer's member address. Only the part
    /// that is not owed (`reserve - owed`) can be withdrawn.
    function withdrawReserve(uint256 amount) external;

    /// @notice Releases the withdrawable reserve (`reserve - owed`) of `insurer`, which no longer holds INSURER
    /// (its roles were changed or it was suspended), to the insurer's member address, by a COUNCIL key. What the
    /// insurer owes on approved claims stays and is still paid.
    /// @return amount what was released
    function releaseReserve(address insurer) external returns (uint256 amount);

    // ---- claims ----

    /// @notice Submits a claim on policy `policyId`, by its holder or by a HOSPITAL key on the holder's behalf.
    /// Requires: the policy is in force; `amount` ≤ remaining coverage (`coverage - paid - committed`, so live
    /// claims never promise more than the policy covers); every evidence record is anchored with the holder's
    /// commitment, by a hospital that is an active HOSPITAL member now; the holder consents to the insurer using
    /// all the evidence's data classes for purpose CLAIM; no evidence record backs another live (Submitted,
    /// Escalated, Approved or Paid) claim. A hospital submitting for the holder must have anchored every evidence
    /// record itself, or hold the holder's consent for purpose CLAIM covering the evidence's classes.
    /// @param amount claimed amount, token base units
    /// @param evidence 1..MAX_EVIDENCE anchored records of the holder
    /// @param invoiceHash keccak256 of the invoice number, or zero
    /// @param claimRef keccak256 of the submitter's own claim reference (emitted only, for idempotent retries)
    /// @return claimId the new claim's id (1, 2, ...)
    function submitClaim(
        uint256 policyId,
        uint256 amount,
        Evidence[] calldata evidence,
        bytes32 invoiceHash,
        bytes32 claimRef
    ) external returns (uint256 claimId);

    /// @notice Approves a Submitted claim for `amount` (1..claimed), by a key of the policy's insurer. Above the
    /// insurer's dual-control threshold the first key's call records a pending approval (ClaimApprovalPending)
    /// and a second, distinct key of the same insurer completes it with the same amount.
    function approveClaim(uint256 claimId, uint256 amount) external;

    /// @notice Rejects a Submitted claim with a non-zero reason code, by a key of the policy's insurer. Its
    /// evidence is released and its amount no longer counts against the coverage.
    function rejectClaim(uint256 claimId, uint16 reason) external;

    /// @notice Withdraws a Submitted or Escalated claim, by the holder or a key of the claimant; releases the
    /// evidence.
    function withdrawClaim(uint256 claimId) external;

    /// @notice Escalates a Submitted claim to the council once its decision window is over, by the holder or a
    /// key of the claimant.
    function escalateClaim(uint256 claimId) external;

    /// @notice Approves an Escalated claim for `amount` (1..claimed), by a COUNCIL key of a member that is neither
    /// the claim's claimant nor its insurer.
    function approveEscalated(uint256 claimId, uint256 amount) external;

    /// @notice Rejects an Escalated claim with a non-zero reason code, by a COUNCIL key of a member that is neither
    /// the claim's claimant nor its insurer.
    function rejectEscalated(uint256 claimId, uint16 reason) external;

    /// @notice Pays an Approved claim: its amount moves from the insurer's reserve to the holder's payout credit.
    /// Anyone may call it; it fails while the insurer's reserve is short.
    function payClaim(uint256 claimId) external;

    /// @notice Transfers `beneficiary`'s whole payout credit to `beneficiary`. Anyone may call it (a hospital can
    /// pay the gas for a patient); the tokens only ever go to the beneficiary.
    /// @return amount the amount transferred
    function withdrawPayout(address beneficiary) external returns (uint256 amount);

    // ---- views ----

    /// @notice The purpose code consent must cover for claims: 2 (CLAIM, DESIGN §6.2).
    function CLAIM_PURPOSE() external view returns (uint8);

    /// @notice Most evidence records one claim may carry.
    function MAX_EVIDENCE() external view returns (uint256);

    /// @notice Decision window of an insurer that never set one, in seconds.
    function DEFAULT_DECISION_WINDOW() external view returns (uint64);

    /// @notice Shortest decision window an insurer may set, in seconds.
    function MIN_DECISION_WINDOW() external view returns (uint64);

    /// @notice Longest decision window an insurer may set, in seconds.
    function MAX_DECISION_WINDOW() external view returns (uint64);

    /// @notice Policy `policyId` (all zero if none).
    function getPolicy(uint256 policyId) external view returns (Policy memory);

    /// @notice Claim `claimId` (all zero if none).
    function getClaim(uint256 claimId) external view returns (Claim memory);

    /// @notice Policies ever issued (ids run 1..policyCount).
    function policyCount() external view returns (uint256);

    /// @notice Claims ever submitted (ids run 1..claimCount, in submission order).
    function claimCount() external view returns (uint256);

    /// @notice What policy `policyId` can still cover: `coverage - paid - committed` (0 if none).
    function remainingCoverage(uint256 policyId) external view returns (uint256);

    /// @notice `insurer`'s reserve, debts and claim settings as stored.
    function insurerAccount(address insurer) external view returns (InsurerAccount memory);

    /// @notice The decision window that applies to `insurer`'s next claim, in seconds.
    function decisionWindowOf(address insurer) external view returns (uint64);

    /// @notice What `insurer` could withdraw now: `reserve - owed`, or 0.
    function withdrawableReserve(address insurer) external view returns (uint256);

    /// @notice `beneficiary`'s payout credit waiting to be withdrawn.
    function payoutOf(address beneficiary) external view returns (uint256);

    /// @notice The live claim that record `recordHash` backs, or 0 if the record is free.
    function liveClaimOf(bytes32 recordHash) external view returns (uint256);

    /// @notice The pending first approval of a Submitted claim under dual control: its key and amount (zero if
    /// none).
    function pendingApproval(uint256 claimId) external view returns (address key, uint256 amount);

    /// @notice The settlement token.
    function token() external view returns (address);

    /// @notice The Consortium asked about roles.
    function consortium() external view returns (address);

    /// @notice The ConsentRegistry asked about purpose-CLAIM consent.
    function consentRegistry() external view returns (address);

    /// @notice The RecordRegistry that holds the evidence records.
    function recordRegistry() external view returns (address);
}
