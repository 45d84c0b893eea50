// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {IClaimsManager} from "../interfaces/IClaimsManager.sol";
import {IConsentRegistry} from "../interfaces/IConsentRegistry.sol";
import {IConsortium} from "../interfaces/IConsortium.sol";
import {IRecordRegistry} from "../interfaces/IRecordRegistry.sol";
import {Codes} from "./libraries/Codes.sol";
import {Roles} from "./libraries/Roles.sol";

/// @title ClaimsManager
/// @notice One shared claims ledger for every insurer: policies, reserves, consent-gated claims backed by anchored
/// records, a duplicate-claim guard across insurers, dual control, council escalation and pull payouts. Stores
/// addresses, amounts, times, status and reason codes only (see IClaimsManager); never health data.
/// @dev Gas shape of `submitClaim`: two claim slots, one guard slot per evidence record, one policy slot update.
/// The guard is released lazily: `_evidenceClaim[recordHash]` keeps the last claim id and a record is free again
/// when that claim is Rejected or Withdrawn, so releasing evidence costs nothing and needs no evidence list.
contract ClaimsManager is IClaimsManager, ReentrancyGuard {
    using SafeERC20 for IERC20;

    /// @dev First key's half of a dual-control approval; one slot (20 + 12 bytes).
    struct PendingApproval {
        address key;
        uint96 amount;
    }

    /// @inheritdoc IClaimsManager
    uint8 public constant CLAIM_PURPOSE = Codes.CLAIM;
    /// @inheritdoc IClaimsManager
    uint256 public constant MAX_EVIDENCE = 32;
    /// @inheritdoc IClaimsManager
    uint64 public constant DEFAULT_DECISION_WINDOW = 30 days;
    /// @inheritdoc IClaimsManager
    uint64 public constant MIN_DECISION_WINDOW = 1 days;
    /// @inheritdoc IClaimsManager
    uint64 public constant MAX_DECISION_WINDOW = 365 days;

    IConsortium private immutable _consortium;
    IConsentRegistry private immutable _consentRegistry;
    IRecordRegistry private immutable _recordRegistry;
    IERC20 private immutable _token;

    mapping(uint256 policyId => Policy) private _policies;
    mapping(uint256 claimId => Claim) private _claims;
    mapping(address insurer => InsurerAccount) private _insurers;
    mapping(address beneficiary => uint256) private _payouts;
    mapping(bytes32 recordHash => uint256 claimId) private _evidenceClaim;
    mapping(uint256 claimId => PendingApproval) private _pending;

    // one slot: 8 + 8 bytes
    uint64 private _policyCount;
    uint64 private _claimCount;

    constructor(
        IConsortium consortium_,
        IConsentRegistry consentRegistry_,
        IRecordRegistry recordRegistry_,
        IERC20 token_
    ) {
        if (
            address(consortium_) == address(0) || address(consentRegistry_) == address(0)
                || address(recordRegistry_) == address(0) || address(token_) == address(0)
        ) {
            revert ClaimZeroAddress(
                address(consortium_), address(consentRegistry_), address(recordRegistry_), address(token_)
            );
        }
        _consortium = consortium_;
        _consentRegistry = consentRegistry_;
        _recordRegistry = recordRegistry_;
        _token = token_;
    }

    // ---- insurers ----

    /// @inheritdoc IClaimsManager
    function createPolicy(address holder, uint256 coverage, uint64 validFrom, uint64 validUntil)
        external
        returns (uint256 policyId)
    {
        address insurer = _checkRole(msg.sender, Roles.INSURER);
        bool validAmount = coverage != 0 && coverage <= type(uint96).max;
        if (holder == address(0) || !validAmount || validFrom >= validUntil || validUntil < _time()) {
            revert ClaimInvalidPolicy(holder, coverage, validFrom, validUntil);
        }
        policyId = ++_policyCount;
        _policies[policyId] = Policy(holder, uint96(coverage), insurer, 0, 0, validFrom, validUntil);
        emit PolicyCreated(policyId, insurer, holder, coverage, validFrom, validUntil, msg.sender);
    }

    /// @inheritdoc IClaimsManager
    function setClaimSettings(uint64 decisionWindow, uint256 dualControlThreshold) external {
        address insurer = _checkRole(msg.sender, Roles.INSURER);
        if (insurer != msg.sender) revert ClaimSettingsNotMember(msg.sender, insurer);
        if (decisionWindow < MIN_DECISION_WINDOW || decisionWindow > MAX_DECISION_WINDOW) {
            revert ClaimInvalidDecisionWindow(decisionWindow);
        }
        if (dualControlThreshold > type(uint96).max) revert ClaimInvalidThreshold(dualControlThreshold);
        InsurerAccount storage account = _insurers[insurer];
        account.decisionWindow = decisionWindow;
        account.dualControlThreshold = uint96(dualControlThreshold);
        emit ClaimSettingsChanged(insurer, decisionWindow, dualControlThreshold);
    }

    /// @inheritdoc IClaimsManager
    /// @dev Credits what actually arrived (balance difference), so a fee-charging token cannot break
    /// `balance == reserves + payouts`. Guarded: the token call is the only interaction.
    function depositReserve(address insurer, uint256 amount) external nonReentrant {
        if (amount == 0) revert ClaimInvalidAmount(amount);
        if (_consortium.authorizedMember(insurer, Roles.INSURER) != insurer) revert ClaimInvalidInsurer(insurer);
        uint256 balanceBefore = _token.balanceOf(address(this));
        _token.safeTransferFrom(msg.sender, address(this), amount);
        uint256 received = _token.balanceOf(address(this)) - balanceBefore;
        InsurerAccount storage account = _insurers[insurer];
        account.reserve = SafeCast.toUint128(account.reserve + received);
        emit ReserveDeposited(insurer, msg.sender, received, account.reserve);
    }

    /// @inheritdoc IClaimsManager
    function withdrawReserve(uint256 amount) external nonReentrant {
        address insurer = _checkRole(msg.sender, Roles.INSURER);
        InsurerAccount storage account = _insurers[insurer];
        uint256 available = _withdrawable(account);
        if (amount == 0) revert ClaimInvalidAmount(amount);
        if (amount > available) revert ClaimInsufficientReserve(insurer, available, amount);
        account.reserve -= uint128(amount); // amount <= reserve - owed <= reserve
        emit ReserveWithdrawn(insurer, msg.sender, amount, account.reserve);
        _token.safeTransfer(insurer, amount);
    }

    /// @inheritdoc IClaimsManager
    function releaseReserve(address insurer) external nonReentrant returns (uint256 amount) {
        _checkRole(msg.sender, Roles.COUNCIL);
        InsurerAccount storage account = _insurers[insurer];
        amount = _withdrawable(account);
        if (amount == 0 || _consortium.authorizedMember(insurer, Roles.INSURER) == insurer) {
            revert ClaimReserveNotReleasable(insurer, amount);
        }
        account.reserve -= uint128(amount); // amount = reserve - owed
        emit ReserveReleased(insurer, msg.sender, amount, account.reserve);
        _token.safeTransfer(insurer, amount);
    }

    // ---- claims ----

    /// @inheritdoc IClaimsManager
    function submitClaim(
        uint256 policyId,
        uint256 amount,
        Evidence[] calldata evidence,
        bytes32 invoiceHash,
        bytes32 claimRef
    ) external returns (uint256 claimId) {
        Policy storage policy = _activePolicy(policyId);
        address claimant = _claimantFor(policyId, policy.holder);
        _commitCoverage(policy, policyId, amount);
        claimId = ++_claimCount;
        uint64 decideBy = _time() + decisionWindowOf(policy.insurer);
        _claims[claimId] = Claim({
            claimant: claimant,
            policyId: uint64(policyId), // policyId <= _policyCount, a uint64
            status: ClaimStatus.Submitted,
            reason: 0,
            amount: uint96(amount), // checked by _commitCoverage
            submittedAt: _time(),
            decideBy: decideBy
        });
        bytes32[] memory recordHashes = _lockEvidence(claimId, policy.holder, policy.insurer, claimant, evidence);
        emit ClaimSubmitted({
            claimId: claimId,
            policyId: policyId,
            insurer: policy.insurer,
            claimant: claimant,
            by: msg.sender,
            amount: amount,
            decideBy: decideBy,
            invoiceHash: invoiceHash,
            claimRef: claimRef,
            recordHashes: recordHashes
        });
    }

    /// @inheritdoc IClaimsManager
    function approveClaim(uint256 claimId, uint256 amount) external {
        Claim storage claim = _existingClaim(claimId);
        address insurer = _checkPolicyInsurer(claimId, claim.policyId);
        _expectStatus(claimId, claim.status, ClaimStatus.Submitted);
        uint96 approved = _approvalAmount(claimId, claim.amount, amount);
        if (_dualControlComplete(claimId, insurer, approved)) {
            _approve(claimId, ClaimStatus.Submitted, insurer, approved);
        }
    }

    /// @inheritdoc IClaimsManager
    function rejectClaim(uint256 claimId, uint16 reason) external {
        Claim storage claim = _existingClaim(claimId);
        address insurer = _checkPolicyInsurer(claimId, claim.policyId);
        _reject(claimId, ClaimStatus.Submitted, insurer, reason);
    }

    /// @inheritdoc IClaimsManager
    function withdrawClaim(uint256 claimId) external {
        Claim storage claim = _existingClaim(claimId);
        _checkClaimant(claimId, claim);
        ClaimStatus from = claim.status == ClaimStatus.Escalated ? ClaimStatus.Escalated : ClaimStatus.Submitted;
        _setStatus(claimId, from, ClaimStatus.Withdrawn);
        _policies[claim.policyId].committed -= claim.amount; // the claimed amount was committed at submission
    }

    /// @inheritdoc IClaimsManager
    function escalateClaim(uint256 claimId) external {
        Claim storage claim = _existingClaim(claimId);
        _checkClaimant(claimId, claim);
        _expectStatus(claimId, claim.status, ClaimStatus.Submitted);
        if (_time() <= claim.decideBy) revert ClaimDecisionWindowOpen(claimId, claim.decideBy);
        _setStatus(claimId, ClaimStatus.Submitted, ClaimStatus.Escalated);
    }

    /// @inheritdoc IClaimsManager
    function approveEscalated(uint256 claimId, uint256 amount) external {
        Claim storage claim = _existingClaim(claimId);
        _checkImpartialCouncil(claimId, claim);
        uint96 approved = _approvalAmount(claimId, claim.amount, amount);
        _approve(claimId, ClaimStatus.Escalated, _policies[claim.policyId].insurer, approved);
    }

    /// @inheritdoc IClaimsManager
    function rejectEscalated(uint256 claimId, uint16 reason) external {
        Claim storage claim = _existingClaim(claimId);
        _checkImpartialCouncil(claimId, claim);
        _reject(claimId, ClaimStatus.Escalated, _policies[claim.policyId].insurer, reason);
    }

    /// @inheritdoc IClaimsManager
    function payClaim(uint256 claimId) external {
        Claim storage claim = _existingClaim(claimId);
        _expectStatus(claimId, claim.status, ClaimStatus.Approved);
        Policy storage policy = _policies[claim.policyId];
        InsurerAccount storage account = _insurers[policy.insurer];
        uint96 amount = claim.amount;
        if (account.reserve < amount) revert ClaimInsufficientReserve(policy.insurer, account.reserve, amount);
        _setStatus(claimId, ClaimStatus.Approved, ClaimStatus.Paid);
        account.reserve -= amount;
        account.owed -= amount; // approval added it
        policy.committed -= amount; // still committed since submission
        policy.paid += amount; // paid + committed <= coverage before, the sum is unchanged
        _payouts[policy.holder] += amount;
        emit ClaimPaid(claimId, policy.insurer, policy.holder, amount);
    }

    /// @inheritdoc IClaimsManager
    function withdrawPayout(address beneficiary) external nonReentrant returns (uint256 amount) {
        amount = _payouts[beneficiary];
        if (amount == 0) revert ClaimNoPayout(beneficiary);
        _payouts[beneficiary] = 0;
        emit PayoutWithdrawn(beneficiary, msg.sender, amount);
        _token.safeTransfer(beneficiary, amount);
    }

    // ---- views ----

    /// @inheritdoc IClaimsManager
    function getPolicy(uint256 policyId) external view returns (Policy memory) {
        return _policies[policyId];
    }

    /// @inheritdoc IClaimsManager
    function getClaim(uint256 claimId) external view returns (Claim memory) {
        return _claims[claimId];
    }

    /// @inheritdoc IClaimsManager
    function policyCount() external view returns (uint256) {
        return _policyCount;
    }

    /// @inheritdoc IClaimsManager
    function claimCount() external view returns (uint256) {
        return _claimCount;
    }

    /// @inheritdoc IClaimsManager
    function remainingCoverage(uint256 policyId) public view returns (uint256) {
        Policy storage policy = _policies[policyId];
        return uint256(policy.coverage) - policy.paid - policy.committed;
    }

    /// @inheritdoc IClaimsManager
    function insurerAccount(address insurer) external view returns (InsurerAccount memory) {
        return _insurers[insurer];
    }

    /// @inheritdoc IClaimsManager
    function decisionWindowOf(address insurer) public view returns (uint64) {
        uint64 window = _insurers[insurer].decisionWindow;
        return window == 0 ? DEFAULT_DECISION_WINDOW : window;
    }

    /// @inheritdoc IClaimsManager
    function withdrawableReserve(address insurer) external view returns (uint256) {
        return _withdrawable(_insurers[insurer]);
    }

    /// @inheritdoc IClaimsManager
    function payoutOf(address beneficiary) external view returns (uint256) {
        return _payouts[beneficiary];
    }

    /// @inheritdoc IClaimsManager
    function liveClaimOf(bytes32 recordHash) public view returns (uint256) {
        uint256 claimId = _evidenceClaim[recordHash];
        if (claimId == 0) return 0;
        ClaimStatus status = _claims[claimId].status;
        return status == ClaimStatus.Rejected || status == ClaimStatus.Withdrawn ? 0 : claimId;
    }

    /// @inheritdoc IClaimsManager
    function pendingApproval(uint256 claimId) external view returns (address key, uint256 amount) {
        if (_claims[claimId].status != ClaimStatus.Submitted) return (address(0), 0);
        PendingApproval memory pending = _pending[claimId];
        return (pending.key, pending.amount);
    }

    /// @inheritdoc IClaimsManager
    function token() external view returns (address) {
        return address(_token);
    }

    /// @inheritdoc IClaimsManager
    function consortium() external view returns (address) {
        return address(_consortium);
    }

    /// @inheritdoc IClaimsManager
    function consentRegistry() external view returns (address) {
        return address(_consentRegistry);
    }

    /// @inheritdoc IClaimsManager
    function recordRegistry() external view returns (address) {
        return address(_recordRegistry);
    }

    // ---- internal: lifecycle ----

    /// @dev The one transition: `claimId` must be `expected`; it becomes `next`.
    function _setStatus(uint256 claimId, ClaimStatus expected, ClaimStatus next) private {
        Claim storage claim = _claims[claimId];
        ClaimStatus current = claim.status;
        _expectStatus(claimId, current, expected);
        claim.status = next;
        emit ClaimStatusChanged(claimId, claim.policyId, next, current, msg.sender);
    }

    function _expectStatus(uint256 claimId, ClaimStatus current, ClaimStatus expected) private pure {
        if (current != expected) revert ClaimUnexpectedStatus(claimId, current, expected);
    }

    /// @dev `expected` → Approved for `amount`: the unapproved rest leaves the policy's commitment and the
    /// approved amount becomes the insurer's debt.
    function _approve(uint256 claimId, ClaimStatus expected, address insurer, uint96 amount) private {
        Claim storage claim = _claims[claimId];
        _setStatus(claimId, expected, ClaimStatus.Approved);
        uint96 claimed = claim.amount;
        claim.amount = amount;
        _policies[claim.policyId].committed -= claimed - amount; // amount <= claimed (checked)
        _insurers[insurer].owed += amount;
        emit ClaimApproved(claimId, claim.policyId, insurer, amount, claimed);
    }

    /// @dev `expected` → Rejected: the claimed amount leaves the commitment; the evidence is free again.
    function _reject(uint256 claimId, ClaimStatus expected, address insurer, uint16 reason) private {
        if (reason == 0) revert ClaimInvalidReason(reason);
        Claim storage claim = _claims[claimId];
        _setStatus(claimId, expected, ClaimStatus.Rejected);
        claim.reason = reason;
        _policies[claim.policyId].committed -= claim.amount;
        emit ClaimRejected(claimId, claim.policyId, insurer, reason);
    }

    /// @dev Dual control. Returns true when the approval may complete now: no dual control for `amount`, or a
    /// second distinct key confirms the pending first approval. Otherwise records the caller's approval as the
    /// pending one (also when the earlier first key has lost its authority since) and returns false.
    function _dualControlComplete(uint256 claimId, address insurer, uint96 amount) private returns (bool) {
        uint96 threshold = _insurers[insurer].dualControlThreshold;
        if (threshold == 0 || amount <= threshold) return true;
        PendingApproval memory pending = _pending[claimId];
        if (pending.key == address(0) || _consortium.authorizedMember(pending.key, Roles.INSURER) != insurer) {
            _pending[claimId] = PendingApproval(msg.sender, amount);
            emit ClaimApprovalPending(claimId, insurer, msg.sender, amount);
            return false;
        }
        if (pending.key == msg.sender) revert ClaimDualControlSameKey(claimId, msg.sender);
        if (pending.amount != amount) revert ClaimDualControlAmountMismatch(claimId, pending.amount, amount);
        delete _pending[claimId];
        return true;
    }

    // ---- internal: submission ----

    /// @dev Checks each evidence record (anchored under the holder's commitment by a hospital that is active now,
    /// not backing a live claim), claims it for `claimId`, then checks consent once for the union of the data
    /// classes: the insurer's, and, when a hospital submits records it did not anchor, the hospital's.
    function _lockEvidence(
        uint256 claimId,
        address holder,
        address insurer,
        address claimant,
        Evidence[] calldata evidence
    ) private returns (bytes32[] memory recordHashes) {
        if (evidence.length == 0 || evidence.length > MAX_EVIDENCE) {
            revert ClaimInvalidEvidenceCount(evidence.length, MAX_EVIDENCE);
        }
        recordHashes = new bytes32[](evidence.length);
        uint64 classes;
        bool allAnchoredByClaimant = true;
        address lastActive = address(0); // evidence usually comes from one hospital: check each once in a row
        for (uint256 i = 0; i < evidence.length; ++i) {
            Evidence calldata item = evidence[i];
            address hospital = _anchoringHospital(holder, item);
            if (hospital != lastActive) {
                if (_consortium.authorizedMember(hospital, Roles.HOSPITAL) != hospital) {
                    revert ClaimEvidenceHospitalInactive(item.recordHash, hospital);
                }
                lastActive = hospital;
            }
            allAnchoredByClaimant = allAnchoredByClaimant && hospital == claimant;
            uint256 liveClaim = liveClaimOf(item.recordHash);
            if (liveClaim != 0) revert ClaimEvidenceAlreadyClaimed(item.recordHash, liveClaim);
            _evidenceClaim[item.recordHash] = claimId;
            recordHashes[i] = item.recordHash;
            classes |= uint64(1) << item.dataClass; // checked 0..10 in _anchoringHospital
        }
        if (!_consentRegistry.isPermitted(holder, insurer, CLAIM_PURPOSE, classes)) {
            revert ClaimConsentMissing(holder, insurer, classes);
        }
        bool hospitalOnBehalf = claimant != holder && !allAnchoredByClaimant;
        if (hospitalOnBehalf && !_consentRegistry.isPermitted(holder, claimant, CLAIM_PURPOSE, classes)) {
            revert ClaimSubmitterNotPermitted(claimant, holder, classes);
        }
    }

    /// @dev The hospital that anchored the evidence record under the holder's commitment, else reverts. DESIGN
    /// §6.3 commitment and §6.5 record key, computed here (same formula as `IRecordRegistry.recordLeaf`) to save
    /// a call per record.
    function _anchoringHospital(address holder, Evidence calldata item) private view returns (address hospital) {
        if (!Codes.isDataClass(item.dataClass)) revert ClaimInvalidEvidenceClass(item.recordHash, item.dataClass);
        bytes32 commitment = keccak256(abi.encode(holder, item.salt));
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(item.recordHash, commitment, item.dataClass))));
        hospital = _recordRegistry.getRecord(leaf).hospital;
        if (hospital == address(0)) revert ClaimEvidenceNotAnchored(item.recordHash, leaf);
    }

    /// @dev Adds `amount` to the policy's commitment if it fits the remaining coverage.
    function _commitCoverage(Policy storage policy, uint256 policyId, uint256 amount) private {
        if (amount == 0 || amount > type(uint96).max) revert ClaimInvalidAmount(amount);
        uint256 remaining = uint256(policy.coverage) - policy.paid - policy.committed;
        if (amount > remaining) revert ClaimCoverageExceeded(policyId, amount, remaining);
        policy.committed += uint96(amount); // committed + amount <= coverage - paid < 2^96
    }

    function _activePolicy(uint256 policyId) private view returns (Policy storage policy) {
        policy = _policies[policyId];
        if (policy.holder == address(0)) revert ClaimPolicyNonexistent(policyId);
        uint64 now_ = _time();
        if (now_ < policy.validFrom || now_ > policy.validUntil) {
            revert ClaimPolicyInactive(policyId, policy.validFrom, policy.validUntil);
        }
    }

    /// @dev The holder submits for itself; a HOSPITAL key submits as its member.
    function _claimantFor(uint256 policyId, address holder) private view returns (address) {
        if (msg.sender == holder) return holder;
        address hospital = _consortium.authorizedMember(msg.sender, Roles.HOSPITAL);
        if (hospital == address(0)) revert ClaimUnauthorizedSubmitter(policyId, msg.sender);
        return hospital;
    }

    // ---- internal: checks and helpers ----

    /// @dev The caller must be a COUNCIL key of a member that is neither the claim's claimant nor its insurer.
    function _checkImpartialCouncil(uint256 claimId, Claim storage claim) private view {
        address member = _checkRole(msg.sender, Roles.COUNCIL);
        if (member == claim.claimant || member == _policies[claim.policyId].insurer) {
            revert ClaimCouncilConflict(claimId, member);
        }
    }

    function _existingClaim(uint256 claimId) private view returns (Claim storage claim) {
        claim = _claims[claimId];
        if (claim.status == ClaimStatus.None) revert ClaimNonexistent(claimId);
    }

    /// @dev The caller's member if the caller holds `role`, else reverts.
    function _checkRole(address account, bytes32 role) private view returns (address member) {
        member = _consortium.authorizedMember(account, role);
        if (member == address(0)) revert ClaimUnauthorized(account, role);
    }

    /// @dev The caller must be a key of the policy's insurer; returns that insurer.
    function _checkPolicyInsurer(uint256 claimId, uint64 policyId) private view returns (address insurer) {
        insurer = _policies[policyId].insurer;
        if (_consortium.authorizedMember(msg.sender, Roles.INSURER) != insurer) {
            revert ClaimNotPolicyInsurer(claimId, msg.sender, insurer);
        }
    }

    /// @dev The holder, or a HOSPITAL key of the member that submitted the claim.
    function _checkClaimant(uint256 claimId, Claim storage claim) private view {
        if (msg.sender == _policies[claim.policyId].holder) return;
        if (_consortium.authorizedMember(msg.sender, Roles.HOSPITAL) != claim.claimant) {
            revert ClaimNotClaimant(claimId, msg.sender);
        }
    }

    function _approvalAmount(uint256 claimId, uint96 claimed, uint256 amount) private pure returns (uint96) {
        if (amount == 0 || amount > claimed) revert ClaimInvalidApprovalAmount(claimId, amount, claimed);
        return uint96(amount);
    }

    function _withdrawable(InsurerAccount storage account) private view returns (uint256) {
        (uint128 reserve, uint128 owed) = (account.reserve, account.owed);
        return reserve > owed ? reserve - owed : 0;
    }

    function _time() private view returns (uint64) {
        return uint64(block.timestamp);
    }
}
