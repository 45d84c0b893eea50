// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {Base} from "../utils/Base.sol";
import {Vm} from "../utils/Vm.sol";
import {IConsentRegistry} from "../../../interfaces/IConsentRegistry.sol";
import {IConsortium} from "../../../interfaces/IConsortium.sol";
import {IRecordRegistry} from "../../../interfaces/IRecordRegistry.sol";
import {IClaimsManager} from "../../../interfaces/IClaimsManager.sol";
import {ConsentRegistry} from "../../../contracts/ConsentRegistry.sol";
import {RecordRegistry} from "../../../contracts/RecordRegistry.sol";
import {ClaimsManager} from "../../../contracts/ClaimsManager.sol";
import {SettlementToken} from "../../../contracts/test/SettlementToken.sol";
import {ReentrantToken} from "../../../contracts/test/ReentrantToken.sol";

/// @title ClaimsUnit
/// @notice ClaimsManager paths beyond the invariant suite: every validation error of policies, settings, reserves,
/// submissions, decisions, escalations and payouts; dual control corner cases; re-entrancy through a malicious
/// token; views; the council's release of a former insurer's reserve and its impartiality on escalated claims;
/// evidence from inactive hospitals and hospitals submitting records they did not anchor.
contract ClaimsUnit is Base {
    uint8 internal constant CLAIM = 2;
    uint64 internal constant ALL = (1 << 11) - 1;

    ConsentRegistry internal consent;
    RecordRegistry internal records;
    SettlementToken internal token;
    ClaimsManager internal claims;
    address internal hospital;
    address internal hospitalKey;
    address internal insurer;
    address internal key1;
    address internal key2;
    address internal otherInsurer;
    address internal patient;
    address internal stranger;
    uint256 internal policyId;
    uint256 internal nextRecord;

    function setUp() public {
        vm.warp(T0);
        _deployConsortium(1, 1);
        hospital = _admit("hospital", HOSPITAL);
        hospitalKey = _operator(hospital, "hospital-key");
        insurer = _admit("insurer", INSURER);
        key1 = _operator(insurer, "insurer-key1");
        key2 = _operator(insurer, "insurer-key2");
        otherInsurer = _admit("otherInsurer", INSURER);
        patient = _addr("patient");
        stranger = _addr("stranger");
        consent = new ConsentRegistry(consortium);
        records = new RecordRegistry(consortium, consent);
        token = new SettlementToken();
        claims = new ClaimsManager(consortium, consent, records, token);
        vm.prank(patient);
        consent.grant(insurer, CLAIM, ALL, 0, 0);
        _fund(insurer, 10_000);
        vm.prank(key1);
        policyId = claims.createPolicy(patient, 5_000, uint64(T0), uint64(T0 + 365 days));
    }

    // ---- policies, settings, reserves ----

    function test_createPolicy_validation() public {
        vm.expectPartialRevert(IClaimsManager.ClaimUnauthorized.selector);
        vm.prank(hospital);
        claims.createPolicy(patient, 1, uint64(T0), uint64(T0 + 1));
        uint64 t = uint64(T0);
        _createPolicyReverts(address(0), 1, t, t + 1);
        _createPolicyReverts(patient, 0, t, t + 1);
        _createPolicyReverts(patient, uint256(type(uint96).max) + 1, t, t + 1);
        _createPolicyReverts(patient, 1, t + 1, t + 1);
        _createPolicyReverts(patient, 1, t - 10, t - 1);
        IClaimsManager.Policy memory p = claims.getPolicy(policyId);
        vm.assertEq(p.holder, patient, "holder");
        vm.assertEq(p.insurer, insurer, "insurer member, not key");
        vm.assertEq(p.coverage, 5_000, "coverage");
        vm.assertEq(claims.policyCount(), 1, "policy count");
        vm.assertEq(claims.remainingCoverage(policyId), 5_000, "remaining");
    }

    function test_setClaimSettings_validation() public {
        vm.expectRevert(abi.encodeWithSelector(IClaimsManager.ClaimSettingsNotMember.selector, key1, insurer));
        vm.prank(key1);
        claims.setClaimSettings(1 days, 0);
        vm.startPrank(insurer);
        vm.expectRevert(abi.encodeWithSelector(IClaimsManager.ClaimInvalidDecisionWindow.selector, 1 days - 1));
        claims.setClaimSettings(1 days - 1, 0);
        vm.expectRevert(abi.encodeWithSelector(IClaimsManager.ClaimInvalidDecisionWindow.selector, 365 days + 1));
        claims.setClaimSettings(365 days + 1, 0);
        vm.expectPartialRevert(IClaimsManager.ClaimInvalidThreshold.selector);
        claims.setClaimSettings(1 days, uint256(type(uint96).max) + 1);
        vm.assertEq(claims.decisionWindowOf(insurer), claims.DEFAULT_DECISION_WINDOW(), "default window");
        claims.setClaimSettings(2 days, 100);
        vm.stopPrank();
        vm.assertEq(claims.decisionWindowOf(insurer), 2 days, "window");
        vm.assertEq(claims.insurerAccount(insurer).dualControlThreshold, 100, "threshold");
    }

    function test_reserve_depositAndWithdraw() public {
        vm.expectRevert(abi.encodeWithSelector(IClaimsManager.ClaimInvalidAmount.selector, 0));
        claims.depositReserve(insurer, 0);
        vm.expectRevert(abi.encodeWithSelector(IClaimsManager.ClaimInvalidInsurer.selector, key1));
        claims.depositReserve(key1, 1); // deposits go to member addresses
        vm.expectRevert(abi.encodeWithSelector(IClaimsManager.ClaimInvalidInsurer.selector, hospital));
        claims.depositReserve(hospital, 1);
        vm.startPrank(key2);
        vm.expectRevert(abi.encodeWithSelector(IClaimsManager.ClaimInvalidAmount.selector, 0));
        claims.withdrawReserve(0);
        vm.expectRevert(
            abi.encodeWithSelector(IClaimsManager.ClaimInsufficientReserve.selector, insurer, 10_000, 10_001)
        );
        claims.withdrawReserve(10_001);
        claims.withdrawReserve(4_000);
        vm.stopPrank();
        vm.assertEq(token.balanceOf(insurer), 4_000, "to the member address");
        vm.assertEq(claims.withdrawableReserve(insurer), 6_000, "withdrawable");
        vm.expectPartialRevert(IClaimsManager.ClaimUnauthorized.selector);
        vm.prank(stranger);
        claims.withdrawReserve(1);
    }

    function test_constructor_rejectsZeroAddresses() public {
        IConsortium c = consortium;
        IConsentRegistry cr = consent;
        IRecordRegistry rr = records;
        IERC20 t = token;
        _constructorReverts(IConsortium(address(0)), cr, rr, t);
        _constructorReverts(c, IConsentRegistry(address(0)), rr, t);
        _constructorReverts(c, cr, IRecordRegistry(address(0)), t);
        _constructorReverts(c, cr, rr, IERC20(address(0)));
    }

    // ---- reserve release (council, former insurers only) ----

    function test_releaseReserve_onlyForAFormerInsurer() public {
        vm.expectRevert(abi.encodeWithSelector(IClaimsManager.ClaimUnauthorized.selector, key1, keccak256("COUNCIL")));
        vm.prank(key1);
        claims.releaseReserve(insurer);
        vm.expectRevert(abi.encodeWithSelector(IClaimsManager.ClaimReserveNotReleasable.selector, insurer, 10_000));
        vm.prank(council[0]);
        claims.releaseReserve(insurer); // still an insurer: it withdraws its own reserve
        vm.expectRevert(abi.encodeWithSelector(IClaimsManager.ClaimReserveNotReleasable.selector, stranger, 0));
        vm.prank(council[0]);
        claims.releaseReserve(stranger); // nothing to release

        uint256 id = _submit(300);
        vm.prank(key1);
        claims.approveClaim(id, 300); // owed: stays in the ledger for the holder
        _suspend(insurer);
        vm.recordLogs();
        vm.prank(council[0]);
        vm.assertEq(claims.releaseReserve(insurer), 9_700, "released: reserve - owed");
        Vm.Log[] memory logs = vm.getRecordedLogs();
        bytes32 topic = keccak256("ReserveReleased(address,address,uint256,uint256)");
        uint256 found;
        for (uint256 i = 0; i < logs.length; ++i) {
            if (logs[i].emitter != address(claims) || logs[i].topics[0] != topic) continue;
            ++found;
            vm.assertEq(logs[i].topics[1], bytes32(uint256(uint160(insurer))), "insurer topic");
            vm.assertEq(logs[i].topics[2], bytes32(uint256(uint160(council[0]))), "by topic");
            (uint256 amount, uint256 reserve) = abi.decode(logs[i].data, (uint256, uint256));
            vm.assertEq(amount, 9_700, "event amount");
            vm.assertEq(reserve, 300, "event reserve");
        }
        vm.assertEq(found, 1, "one ReserveReleased");
        vm.assertEq(token.balanceOf(insurer), 9_700, "to the insurer's member address");
        vm.assertEq(claims.insurerAccount(insurer).reserve, 300, "owed stays");
        vm.assertEq(claims.withdrawableReserve(insurer), 0, "nothing left to release");
        vm.expectRevert(abi.encodeWithSelector(IClaimsManager.ClaimReserveNotReleasable.selector, insurer, 0));
        vm.prank(council[0]);
        claims.releaseReserve(insurer);
        claims.payClaim(id); // the approved claim is still paid from what stayed
        vm.assertEq(claims.payoutOf(patient), 300, "holder paid");
        vm.assertEq(claims.insurerAccount(insurer).reserve, 0, "reserve used up");
    }

    function test_releaseReserve_afterTheInsurerRoleIsRemoved() public {
        _fund(otherInsurer, 500);
        _govern(IConsortium.ProposalKind.SetRoles, otherInsurer, HOSPITAL, ""); // active, but no longer INSURER
        vm.assertTrue(consortium.isActiveMember(otherInsurer), "still an active member");
        vm.prank(council[0]);
        vm.assertEq(claims.releaseReserve(otherInsurer), 500, "released");
        vm.assertEq(token.balanceOf(otherInsurer), 500, "returned");
        vm.assertEq(claims.insurerAccount(otherInsurer).reserve, 0, "empty");
    }

    // ---- submission ----

    function test_submitClaim_validation() public {
        IClaimsManager.Evidence[] memory ev = _evidence(1);
        _submitReverts(patient, 99, 100, ev, IClaimsManager.ClaimPolicyNonexistent.selector);
        _submitReverts(stranger, policyId, 100, ev, IClaimsManager.ClaimUnauthorizedSubmitter.selector);
        _submitReverts(patient, policyId, 0, ev, IClaimsManager.ClaimInvalidAmount.selector);
        uint256 tooBig = uint256(type(uint96).max) + 1;
        _submitReverts(patient, policyId, tooBig, ev, IClaimsManager.ClaimInvalidAmount.selector);
        _submitReverts(patient, policyId, 5_001, ev, IClaimsManager.ClaimCoverageExceeded.selector);
        _submitReverts(
            patient, policyId, 100, new IClaimsManager.Evidence[](0), IClaimsManager.ClaimInvalidEvidenceCount.selector
        );
        _submitReverts(
            patient, policyId, 100, new IClaimsManager.Evidence[](33), IClaimsManager.ClaimInvalidEvidenceCount.selector
        );
        IClaimsManager.Evidence[] memory foreign = new IClaimsManager.Evidence[](1);
        foreign[0] = IClaimsManager.Evidence(keccak256("nope"), keccak256("salt"), 3);
        _submitReverts(patient, policyId, 100, foreign, IClaimsManager.ClaimEvidenceNotAnchored.selector);
        IClaimsManager.Evidence[] memory twice = new IClaimsManager.Evidence[](2);
        (twice[0], twice[1]) = (ev[0], ev[0]);
        _submitReverts(patient, policyId, 100, twice, IClaimsManager.ClaimEvidenceAlreadyClaimed.selector);
        vm.prank(patient);
        consent.revoke(insurer, CLAIM);
        _submitReverts(patient, policyId, 100, ev, IClaimsManager.ClaimConsentMissing.selector);
    }

    function test_submitClaim_policyWindow() public {
        vm.prank(key1);
        uint256 later = claims.createPolicy(patient, 100, uint64(T0 + 1 days), uint64(T0 + 2 days));
        IClaimsManager.Evidence[] memory ev = _evidence(1);
        _submitReverts(patient, later, 10, ev, IClaimsManager.ClaimPolicyInactive.selector);
        vm.warp(T0 + 2 days + 1);
        _submitReverts(patient, later, 10, ev, IClaimsManager.ClaimPolicyInactive.selector);
    }

    function test_submitClaim_byHospitalKey_andDuplicateGuard() public {
        IClaimsManager.Evidence[] memory ev = _evidence(2);
        vm.prank(hospitalKey);
        uint256 id = claims.submitClaim(policyId, 300, ev, bytes32(0), keccak256("ref"));
        IClaimsManager.Claim memory c = claims.getClaim(id);
        vm.assertEq(c.claimant, hospital, "claimant is the hospital member");
        vm.assertEq(c.decideBy, T0 + 30 days, "default window");
        vm.assertEq(claims.liveClaimOf(ev[1].recordHash), id, "evidence locked");
        vm.assertEq(claims.remainingCoverage(policyId), 4_700, "committed");
        vm.assertEq(claims.claimCount(), 1, "claim count");
        _submitReverts(patient, policyId, 100, ev, IClaimsManager.ClaimEvidenceAlreadyClaimed.selector);
        vm.prank(key1);
        claims.rejectClaim(id, 7);
        vm.assertEq(claims.liveClaimOf(ev[1].recordHash), 0, "released by rejection");
        vm.assertEq(claims.getClaim(id).reason, 7, "reason");
        vm.prank(patient);
        claims.submitClaim(policyId, 100, ev, bytes32(0), bytes32(0)); // the evidence is free again
    }

    function test_submitClaim_rejectsAnUnknownDataClass() public {
        IClaimsManager.Evidence[] memory ev = new IClaimsManager.Evidence[](1);
        ev[0] = IClaimsManager.Evidence(keccak256("record-x"), keccak256("salt-x"), 11);
        vm.expectRevert(
            abi.encodeWithSelector(IClaimsManager.ClaimInvalidEvidenceClass.selector, keccak256("record-x"), 11)
        );
        vm.prank(patient);
        claims.submitClaim(policyId, 100, ev, bytes32(0), bytes32(0));
        ev[0].dataClass = type(uint8).max;
        vm.expectRevert(
            abi.encodeWithSelector(
                IClaimsManager.ClaimInvalidEvidenceClass.selector, keccak256("record-x"), type(uint8).max
            )
        );
        vm.prank(patient);
        claims.submitClaim(policyId, 100, ev, bytes32(0), bytes32(0));
    }

    function test_submitClaim_refusesEvidenceOfAnInactiveHospital() public {
        IClaimsManager.Evidence[] memory ev = _evidence(2);
        _suspend(hospital);
        vm.expectRevert(
            abi.encodeWithSelector(IClaimsManager.ClaimEvidenceHospitalInactive.selector, ev[0].recordHash, hospital)
        );
        vm.prank(patient);
        claims.submitClaim(policyId, 100, ev, bytes32(0), bytes32(0));
        _reinstate(hospital);
        _govern(IConsortium.ProposalKind.SetRoles, hospital, AUDITOR, ""); // active, but no longer HOSPITAL
        vm.expectRevert(
            abi.encodeWithSelector(IClaimsManager.ClaimEvidenceHospitalInactive.selector, ev[0].recordHash, hospital)
        );
        vm.prank(patient);
        claims.submitClaim(policyId, 100, ev, bytes32(0), bytes32(0));
        _govern(IConsortium.ProposalKind.SetRoles, hospital, HOSPITAL, "");
        vm.prank(patient);
        uint256 id = claims.submitClaim(policyId, 100, ev, bytes32(0), bytes32(0));
        vm.assertEq(claims.liveClaimOf(ev[1].recordHash), id, "accepted once HOSPITAL again");
    }

    function test_submitClaim_mixedHospitals_eachMustBeActive() public {
        address second = _admit("secondHospital", HOSPITAL);
        IClaimsManager.Evidence[] memory ev = new IClaimsManager.Evidence[](3);
        ev[0] = _evidenceBy(hospital, 100);
        ev[1] = _evidenceBy(second, 101);
        ev[2] = _evidenceBy(hospital, 102);
        _suspend(second);
        vm.expectRevert(
            abi.encodeWithSelector(IClaimsManager.ClaimEvidenceHospitalInactive.selector, ev[1].recordHash, second)
        );
        vm.prank(patient);
        claims.submitClaim(policyId, 100, ev, bytes32(0), bytes32(0));
        _reinstate(second);
        vm.prank(patient);
        claims.submitClaim(policyId, 100, ev, bytes32(0), bytes32(0));
        vm.assertEq(claims.claimCount(), 1, "submitted");
    }

    function test_submitClaim_hospitalWithRecordsItDidNotAnchor_needsTheHoldersConsent() public {
        address second = _admit("secondHospital", HOSPITAL);
        address secondKey = _operator(second, "secondHospital-key");
        IClaimsManager.Evidence[] memory ev = new IClaimsManager.Evidence[](2);
        ev[0] = _evidenceBy(second, 200); // its own record
        ev[1] = _evidenceBy(hospital, 201); // another hospital's record
        uint64 classes = (uint64(1) << ev[0].dataClass) | (uint64(1) << ev[1].dataClass);
        vm.expectRevert(
            abi.encodeWithSelector(IClaimsManager.ClaimSubmitterNotPermitted.selector, second, patient, classes)
        );
        vm.prank(secondKey);
        claims.submitClaim(policyId, 100, ev, bytes32(0), bytes32(0));
        vm.prank(patient);
        consent.grant(second, CLAIM, uint64(1) << ev[0].dataClass, 0, 0); // not every class: still refused
        vm.expectRevert(
            abi.encodeWithSelector(IClaimsManager.ClaimSubmitterNotPermitted.selector, second, patient, classes)
        );
        vm.prank(secondKey);
        claims.submitClaim(policyId, 100, ev, bytes32(0), bytes32(0));
        vm.prank(patient);
        consent.grant(second, CLAIM, classes, 0, 0);
        vm.prank(secondKey);
        uint256 id = claims.submitClaim(policyId, 100, ev, bytes32(0), bytes32(0));
        vm.assertEq(claims.getClaim(id).claimant, second, "the submitting hospital is the claimant");
        vm.assertEq(claims.liveClaimOf(ev[1].recordHash), id, "evidence locked");
    }

    function test_submitClaim_holderNeedsNoSubmitterConsent() public {
        IClaimsManager.Evidence[] memory ev = new IClaimsManager.Evidence[](1);
        ev[0] = _evidenceBy(_admit("secondHospital", HOSPITAL), 300);
        vm.prank(patient); // the holder submits records of any active hospital without a CLAIM grant to it
        uint256 id = claims.submitClaim(policyId, 100, ev, bytes32(0), bytes32(0));
        vm.assertEq(claims.getClaim(id).claimant, patient, "holder is the claimant");
    }

    // ---- decisions ----

    function test_approve_validationAndDualControl() public {
        vm.prank(insurer);
        claims.setClaimSettings(1 days, 500);
        uint256 id = _submit(1_000);
        vm.expectRevert(abi.encodeWithSelector(IClaimsManager.ClaimNonexistent.selector, 99));
        vm.prank(key1);
        claims.approveClaim(99, 1);
        vm.expectRevert(
            abi.encodeWithSelector(IClaimsManager.ClaimNotPolicyInsurer.selector, id, otherInsurer, insurer)
        );
        vm.prank(otherInsurer);
        claims.approveClaim(id, 1);
        vm.expectRevert(abi.encodeWithSelector(IClaimsManager.ClaimInvalidApprovalAmount.selector, id, 0, 1_000));
        vm.prank(key1);
        claims.approveClaim(id, 0);
        vm.expectRevert(abi.encodeWithSelector(IClaimsManager.ClaimInvalidApprovalAmount.selector, id, 1_001, 1_000));
        vm.prank(key1);
        claims.approveClaim(id, 1_001);

        vm.prank(key1);
        claims.approveClaim(id, 900); // above 500: pending
        (address k, uint256 amount) = claims.pendingApproval(id);
        vm.assertEq(k, key1, "pending key");
        vm.assertEq(amount, 900, "pending amount");
        vm.expectRevert(abi.encodeWithSelector(IClaimsManager.ClaimDualControlSameKey.selector, id, key1));
        vm.prank(key1);
        claims.approveClaim(id, 900);
        vm.expectRevert(abi.encodeWithSelector(IClaimsManager.ClaimDualControlAmountMismatch.selector, id, 900, 800));
        vm.prank(key2);
        claims.approveClaim(id, 800);
        vm.prank(insurer);
        consortium.removeOperator(key1); // the first key lost its authority: the next approval starts over
        vm.prank(key2);
        claims.approveClaim(id, 800);
        (k, amount) = claims.pendingApproval(id);
        vm.assertEq(k, key2, "new pending key");
        vm.prank(insurer); // the member address is a key too
        claims.approveClaim(id, 800);
        vm.assertEq(uint8(claims.getClaim(id).status), uint8(IClaimsManager.ClaimStatus.Approved), "approved");
        vm.assertEq(claims.getClaim(id).amount, 800, "approved amount");
        (k,) = claims.pendingApproval(id);
        vm.assertEq(k, address(0), "no pending once approved");
        vm.assertEq(claims.insurerAccount(insurer).owed, 800, "owed");
        vm.assertEq(claims.remainingCoverage(policyId), 4_200, "unapproved rest released");
        vm.expectPartialRevert(IClaimsManager.ClaimUnexpectedStatus.selector);
        vm.prank(key2);
        claims.approveClaim(id, 800);
        vm.expectPartialRevert(IClaimsManager.ClaimUnexpectedStatus.selector);
        vm.prank(key2);
        claims.rejectClaim(id, 1);
    }

    function test_reject_needsAReason() public {
        uint256 id = _submit(100);
        vm.expectRevert(abi.encodeWithSelector(IClaimsManager.ClaimInvalidReason.selector, 0));
        vm.prank(key1);
        claims.rejectClaim(id, 0);
    }

    function test_withdraw_and_escalation() public {
        uint256 id = _submit(100);
        vm.expectRevert(abi.encodeWithSelector(IClaimsManager.ClaimNotClaimant.selector, id, stranger));
        vm.prank(stranger);
        claims.withdrawClaim(id);
        vm.expectRevert(abi.encodeWithSelector(IClaimsManager.ClaimNotClaimant.selector, id, hospitalKey));
        vm.prank(hospitalKey); // the patient submitted it, not the hospital
        claims.escalateClaim(id);
        vm.expectRevert(abi.encodeWithSelector(IClaimsManager.ClaimDecisionWindowOpen.selector, id, T0 + 30 days));
        vm.prank(patient);
        claims.escalateClaim(id);
        vm.warp(T0 + 30 days + 1);
        vm.prank(patient);
        claims.escalateClaim(id);
        vm.expectPartialRevert(IClaimsManager.ClaimUnauthorized.selector);
        vm.prank(key1);
        claims.approveEscalated(id, 50);
        vm.expectPartialRevert(IClaimsManager.ClaimUnexpectedStatus.selector);
        vm.prank(key1); // the insurer can no longer decide it
        claims.approveClaim(id, 50);
        vm.prank(patient);
        claims.withdrawClaim(id); // an escalated claim can still be withdrawn
        vm.assertEq(uint8(claims.getClaim(id).status), uint8(IClaimsManager.ClaimStatus.Withdrawn), "withdrawn");
        vm.assertEq(claims.remainingCoverage(policyId), 5_000, "released");
        vm.expectPartialRevert(IClaimsManager.ClaimUnexpectedStatus.selector);
        vm.prank(patient);
        claims.withdrawClaim(id);

        uint256 id2 = _submit(200);
        vm.warp(block.timestamp + 31 days);
        vm.prank(patient);
        claims.escalateClaim(id2);
        vm.expectRevert(abi.encodeWithSelector(IClaimsManager.ClaimInvalidReason.selector, 0));
        vm.prank(council[0]);
        claims.rejectEscalated(id2, 0);
        vm.prank(council[0]);
        claims.rejectEscalated(id2, 4);
        vm.assertEq(uint8(claims.getClaim(id2).status), uint8(IClaimsManager.ClaimStatus.Rejected), "council rejected");
    }

    function test_hospitalClaimant_withdrawsThroughItsKey() public {
        IClaimsManager.Evidence[] memory ev = _evidence(1);
        vm.prank(hospital);
        uint256 id = claims.submitClaim(policyId, 100, ev, bytes32(0), bytes32(0));
        vm.prank(hospitalKey);
        claims.withdrawClaim(id);
        vm.assertEq(uint8(claims.getClaim(id).status), uint8(IClaimsManager.ClaimStatus.Withdrawn), "withdrawn");
    }

    function test_escalated_councilClaimantMayNotDecide() public {
        _govern(IConsortium.ProposalKind.SetRoles, council[0], COUNCIL | HOSPITAL, "");
        IClaimsManager.Evidence[] memory ev = new IClaimsManager.Evidence[](1);
        ev[0] = _evidenceBy(council[0], 400);
        vm.prank(council[0]);
        uint256 id = claims.submitClaim(policyId, 100, ev, bytes32(0), bytes32(0));
        vm.warp(T0 + 31 days);
        vm.prank(council[0]);
        claims.escalateClaim(id);
        vm.expectRevert(abi.encodeWithSelector(IClaimsManager.ClaimCouncilConflict.selector, id, council[0]));
        vm.prank(council[0]);
        claims.approveEscalated(id, 100);
        vm.expectRevert(abi.encodeWithSelector(IClaimsManager.ClaimCouncilConflict.selector, id, council[0]));
        vm.prank(council[0]);
        claims.rejectEscalated(id, 3);
        address other = _admit("council-b", COUNCIL);
        vm.prank(other);
        claims.approveEscalated(id, 60);
        vm.assertEq(uint8(claims.getClaim(id).status), uint8(IClaimsManager.ClaimStatus.Approved), "approved");
        vm.assertEq(claims.getClaim(id).amount, 60, "amount");
    }

    function test_escalated_councilInsurerMayNotDecide() public {
        address both = _admit("council-insurer", COUNCIL | INSURER);
        address bothKey = _operator(both, "council-insurer-key");
        vm.prank(patient);
        consent.grant(both, CLAIM, ALL, 0, 0);
        vm.prank(bothKey);
        uint256 pid = claims.createPolicy(patient, 1_000, uint64(T0), uint64(T0 + 365 days));
        IClaimsManager.Evidence[] memory ev = _evidence(1);
        vm.prank(patient);
        uint256 id = claims.submitClaim(pid, 100, ev, bytes32(0), bytes32(0));
        vm.warp(T0 + 31 days);
        vm.prank(patient);
        claims.escalateClaim(id);
        vm.expectRevert(abi.encodeWithSelector(IClaimsManager.ClaimCouncilConflict.selector, id, both));
        vm.prank(bothKey); // a key of the insurer member: the member decides
        claims.rejectEscalated(id, 3);
        vm.expectRevert(abi.encodeWithSelector(IClaimsManager.ClaimCouncilConflict.selector, id, both));
        vm.prank(both);
        claims.approveEscalated(id, 100);
        vm.prank(council[0]);
        claims.rejectEscalated(id, 3);
        vm.assertEq(uint8(claims.getClaim(id).status), uint8(IClaimsManager.ClaimStatus.Rejected), "rejected");
        vm.assertEq(claims.getClaim(id).reason, 3, "reason");
    }

    // ---- payment ----

    function test_pay_needsReserve_andPayoutGoesToTheHolder() public {
        vm.prank(key2);
        claims.withdrawReserve(9_950); // 50 left
        uint256 id = _submit(100);
        vm.expectPartialRevert(IClaimsManager.ClaimUnexpectedStatus.selector);
        claims.payClaim(id);
        vm.prank(key1);
        claims.approveClaim(id, 100);
        vm.assertEq(claims.withdrawableReserve(insurer), 0, "owed exceeds reserve: nothing withdrawable");
        vm.expectRevert(abi.encodeWithSelector(IClaimsManager.ClaimInsufficientReserve.selector, insurer, 50, 100));
        claims.payClaim(id);
        _fund(insurer, 50);
        vm.prank(stranger);
        claims.payClaim(id);
        vm.assertEq(claims.payoutOf(patient), 100, "credit");
        vm.assertEq(claims.getPolicy(policyId).paid, 100, "paid");
        vm.assertEq(claims.liveClaimOf(_evidenceAt(0).recordHash), id, "paid claims keep their evidence");
        vm.expectPartialRevert(IClaimsManager.ClaimUnexpectedStatus.selector);
        claims.payClaim(id);
        vm.expectRevert(abi.encodeWithSelector(IClaimsManager.ClaimNoPayout.selector, stranger));
        claims.withdrawPayout(stranger);
        vm.prank(hospital);
        vm.assertEq(claims.withdrawPayout(patient), 100, "withdrawn");
        vm.assertEq(token.balanceOf(patient), 100, "to the holder");
        vm.assertEq(claims.payoutOf(patient), 0, "credit used");
    }

    function test_approveEscalated_thenPay() public {
        uint256 id = _submit(400);
        vm.warp(T0 + 31 days);
        vm.prank(patient);
        claims.escalateClaim(id);
        vm.expectRevert(abi.encodeWithSelector(IClaimsManager.ClaimInvalidApprovalAmount.selector, id, 401, 400));
        vm.prank(council[0]);
        claims.approveEscalated(id, 401);
        vm.prank(council[0]);
        claims.approveEscalated(id, 300);
        vm.assertEq(claims.insurerAccount(insurer).owed, 300, "insurer owes the council's amount");
        claims.payClaim(id);
        vm.assertEq(claims.payoutOf(patient), 300, "paid");
    }

    // ---- re-entrancy ----

    function test_withdrawPayout_reentryIsBlocked() public {
        ReentrantToken evil = new ReentrantToken();
        ClaimsManager cm = new ClaimsManager(consortium, consent, records, IERC20(address(evil)));
        evil.mint(address(this), 1_000);
        evil.approve(address(cm), 1_000);
        cm.depositReserve(insurer, 1_000);
        vm.prank(key1);
        uint256 pid = cm.createPolicy(patient, 500, uint64(T0), uint64(T0 + 1 days));
        IClaimsManager.Evidence[] memory ev = _evidence(1);
        vm.prank(patient);
        uint256 id = cm.submitClaim(pid, 200, ev, bytes32(0), bytes32(0));
        vm.prank(key1);
        cm.approveClaim(id, 200);
        cm.payClaim(id);
        evil.arm(address(cm), abi.encodeCall(ClaimsManager.withdrawPayout, (patient)), false);
        cm.withdrawPayout(patient);
        vm.assertEq(evil.attempts(), 1, "re-entry attempted");
        vm.assertEq(evil.successes(), 0, "re-entry failed");
        vm.assertEq(
            keccak256(evil.lastError()),
            keccak256(abi.encodeWithSelector(ReentrancyGuard.ReentrancyGuardReentrantCall.selector)),
            "blocked by the guard"
        );
        vm.assertEq(evil.balanceOf(patient), 200, "paid once");
        vm.assertEq(evil.balanceOf(address(cm)), 800, "books intact");
    }

    // ---- views ----

    function test_views() public view {
        vm.assertEq(claims.token(), address(token), "token");
        vm.assertEq(claims.consortium(), address(consortium), "consortium");
        vm.assertEq(claims.consentRegistry(), address(consent), "consent");
        vm.assertEq(claims.recordRegistry(), address(records), "records");
        vm.assertEq(claims.CLAIM_PURPOSE(), CLAIM, "purpose");
        vm.assertEq(claims.MAX_EVIDENCE(), 32, "max evidence");
        vm.assertEq(claims.MIN_DECISION_WINDOW(), 1 days, "min window");
        vm.assertEq(claims.MAX_DECISION_WINDOW(), 365 days, "max window");
        vm.assertEq(claims.getClaim(42).claimant, address(0), "unknown claim");
        vm.assertEq(claims.remainingCoverage(42), 0, "unknown policy");
        vm.assertEq(claims.liveClaimOf(keccak256("free")), 0, "free record");
        (address k,) = claims.pendingApproval(42);
        vm.assertEq(k, address(0), "no pending");
    }

    // ---- helpers ----

    function _fund(address member, uint256 amount) internal {
        token.mint(address(this), amount);
        token.approve(address(claims), amount);
        claims.depositReserve(member, amount);
    }

    /// @dev `n` fresh records of the patient, anchored by the hospital.
    function _evidence(uint256 n) internal returns (IClaimsManager.Evidence[] memory ev) {
        ev = new IClaimsManager.Evidence[](n);
        for (uint256 i = 0; i < n; ++i) {
            ev[i] = _evidenceAt(nextRecord++);
            bytes32 commitment = keccak256(abi.encode(patient, ev[i].salt));
            bytes32 leaf = records.recordLeaf(ev[i].recordHash, commitment, ev[i].dataClass);
            vm.prank(hospital); // after the recordLeaf call: a prank applies to the next call
            records.anchor(ev[i].recordHash, leaf);
        }
    }

    function _evidenceAt(uint256 i) internal pure returns (IClaimsManager.Evidence memory) {
        // one salt per record (DESIGN §6.3 v2)
        return
            IClaimsManager.Evidence(keccak256(abi.encode("record", i)), keccak256(abi.encode("salt", i)), uint8(i % 11));
    }

    function _evidenceBy(address anchorer, uint256 i) internal returns (IClaimsManager.Evidence memory item) {
        item = _evidenceAt(i);
        bytes32 commitment = keccak256(abi.encode(patient, item.salt));
        bytes32 leaf = records.recordLeaf(item.recordHash, commitment, item.dataClass);
        vm.prank(anchorer);
        records.anchor(item.recordHash, leaf);
    }

    function _constructorReverts(IConsortium c, IConsentRegistry cr, IRecordRegistry rr, IERC20 t) internal {
        vm.expectRevert(
            abi.encodeWithSelector(
                IClaimsManager.ClaimZeroAddress.selector, address(c), address(cr), address(rr), address(t)
            )
        );
        new ClaimsManager(c, cr, rr, t);
    }

    function _submit(uint256 amount) internal returns (uint256 id) {
        IClaimsManager.Evidence[] memory ev = _evidence(1);
        vm.prank(patient);
        id = claims.submitClaim(policyId, amount, ev, bytes32(0), bytes32(0));
    }

    function _createPolicyReverts(address holder, uint256 coverage, uint64 validFrom, uint64 validUntil) internal {
        vm.expectPartialRevert(IClaimsManager.ClaimInvalidPolicy.selector);
        vm.prank(key1);
        claims.createPolicy(holder, coverage, validFrom, validUntil);
    }

    function _submitReverts(
        address by,
        uint256 id,
        uint256 amount,
        IClaimsManager.Evidence[] memory ev,
        bytes4 selector
    ) internal {
        vm.expectPartialRevert(selector);
        vm.prank(by);
        claims.submitClaim(id, amount, ev, bytes32(0), bytes32(0));
    }
}
