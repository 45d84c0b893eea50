// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Base} from "../utils/Base.sol";
import {Eip712} from "../utils/Eip712.sol";
import {IConsentRegistry} from "../../../interfaces/IConsentRegistry.sol";
import {IConsortium} from "../../../interfaces/IConsortium.sol";
import {ConsentRegistry} from "../../../contracts/ConsentRegistry.sol";
import {ERC1271WalletMock} from "../../../contracts/test/ERC1271WalletMock.sol";

/// @title ConsentUnit
/// @notice ConsentRegistry paths beyond the invariant and signature suites: input validation, consent windows,
/// guardians (including an ERC-1271 guardian), break-glass errors, reviews, overdue queries and views.
contract ConsentUnit is Base {
    uint8 internal constant TREATMENT = 1;
    uint8 internal constant CLAIM = 2;
    uint8 internal constant EMERGENCY = 4;
    uint64 internal constant ALL = (1 << 11) - 1;

    ConsentRegistry internal registry;
    address internal hospital;
    address internal hospitalKey;
    address internal auditor;
    address internal patient;
    uint256 internal patientKey;
    address internal guardian;
    uint256 internal guardianKey;
    address internal stranger;

    function setUp() public {
        vm.warp(T0);
        _deployConsortium(1, 1);
        hospital = _admit("hospital", HOSPITAL | AUDITOR);
        hospitalKey = _operator(hospital, "hospital-key");
        auditor = _admit("auditor", AUDITOR);
        (patient, patientKey) = _actor("patient");
        (guardian, guardianKey) = _actor("guardian");
        stranger = _addr("stranger");
        registry = new ConsentRegistry(consortium);
    }

    function test_constructor_rejectsZeroConsortium() public {
        vm.expectRevert(IConsentRegistry.ConsentZeroAddress.selector);
        new ConsentRegistry(IConsortium(address(0)));
        vm.assertEq(address(registry.consortium()), address(consortium), "consortium");
        vm.assertEq(registry.EMERGENCY_DURATION(), 1 days, "24 h");
        vm.assertEq(registry.REVIEW_PERIOD(), 7 days, "7 days");
    }

    // ---- grant / revoke validation and windows ----

    function test_grant_rejectsBadInput() public {
        vm.startPrank(patient);
        vm.expectRevert(IConsentRegistry.ConsentZeroAddress.selector);
        registry.grant(address(0), TREATMENT, 1, 0, 0);
        vm.expectRevert(abi.encodeWithSelector(IConsentRegistry.ConsentInvalidPurpose.selector, 0));
        registry.grant(hospital, 0, 1, 0, 0);
        vm.expectRevert(abi.encodeWithSelector(IConsentRegistry.ConsentInvalidPurpose.selector, 6));
        registry.grant(hospital, 6, 1, 0, 0);
        vm.expectRevert(abi.encodeWithSelector(IConsentRegistry.ConsentInvalidDataClasses.selector, 0));
        registry.grant(hospital, TREATMENT, 0, 0, 0);
        vm.expectRevert(abi.encodeWithSelector(IConsentRegistry.ConsentInvalidDataClasses.selector, ALL + 1));
        registry.grant(hospital, TREATMENT, ALL + 1, 0, 0);
        vm.expectRevert(abi.encodeWithSelector(IConsentRegistry.ConsentInvalidPeriod.selector, T0 + 10, T0 + 5));
        registry.grant(hospital, TREATMENT, 1, uint64(T0 + 10), uint64(T0 + 5));
        vm.expectRevert(abi.encodeWithSelector(IConsentRegistry.ConsentInvalidPeriod.selector, 0, T0 - 1));
        registry.grant(hospital, TREATMENT, 1, 0, uint64(T0 - 1));
        vm.stopPrank();
    }

    function test_isPermitted_followsTheWindowAndRevocation() public {
        vm.prank(patient);
        registry.grant(hospital, TREATMENT, 0x18, uint64(T0 + 1 days), uint64(T0 + 2 days));
        IConsentRegistry.Consent memory c = registry.getConsent(patient, hospital, TREATMENT);
        vm.assertEq(c.dataClasses, 0x18, "classes");
        vm.assertEq(c.grantedAt, T0, "granted at");
        vm.assertFalse(registry.isPermitted(patient, hospital, TREATMENT, 0x08), "before validFrom");
        vm.warp(T0 + 1 days);
        vm.assertTrue(registry.isPermitted(patient, hospital, TREATMENT, 0x08), "inside the window");
        vm.assertTrue(registry.isPermitted(patient, hospital, TREATMENT, 0x18), "both classes");
        vm.assertFalse(registry.isPermitted(patient, hospital, TREATMENT, 0x19), "a class not granted");
        vm.assertFalse(registry.isPermitted(patient, hospital, TREATMENT, 0), "no class");
        vm.assertFalse(registry.isPermitted(patient, hospital, CLAIM, 0x08), "another purpose");
        vm.assertFalse(registry.isPermitted(patient, stranger, TREATMENT, 0x08), "another grantee");
        vm.warp(T0 + 2 days);
        vm.assertTrue(registry.isPermitted(patient, hospital, TREATMENT, 0x08), "validUntil is inclusive");
        vm.warp(T0 + 2 days + 1);
        vm.assertFalse(registry.isPermitted(patient, hospital, TREATMENT, 0x08), "after validUntil");
    }

    function test_revoke_keepsHistoryAndRegrantClearsIt() public {
        vm.startPrank(patient);
        bytes4 notFound = IConsentRegistry.ConsentNotFound.selector;
        vm.expectRevert(abi.encodeWithSelector(notFound, patient, hospital, TREATMENT));
        registry.revoke(hospital, TREATMENT);
        vm.expectRevert(abi.encodeWithSelector(IConsentRegistry.ConsentInvalidPurpose.selector, 9));
        registry.revoke(hospital, 9);
        registry.grant(hospital, TREATMENT, ALL, 0, 0);
        vm.warp(T0 + 1 hours);
        registry.revoke(hospital, TREATMENT);
        vm.assertEq(registry.getConsent(patient, hospital, TREATMENT).revokedAt, T0 + 1 hours, "revokedAt kept");
        vm.assertFalse(registry.isPermitted(patient, hospital, TREATMENT, 1), "revoked");
        vm.expectPartialRevert(IConsentRegistry.ConsentAlreadyRevoked.selector);
        registry.revoke(hospital, TREATMENT);
        registry.grant(hospital, TREATMENT, 1, 0, 0);
        vm.stopPrank();
        vm.assertEq(registry.getConsent(patient, hospital, TREATMENT).revokedAt, 0, "re-grant clears revocation");
        vm.assertEq(registry.lastRevokedAt(patient, hospital, TREATMENT), T0 + 1 hours, "revocation stays queryable");
        vm.assertTrue(registry.isPermitted(patient, hospital, TREATMENT, 1), "re-granted");
    }

    function test_isPermitted_requiresAnActiveMember() public {
        vm.prank(patient);
        registry.grant(stranger, TREATMENT, ALL, 0, 0); // a grantee need not be a member at grant time
        vm.assertFalse(registry.isPermitted(patient, stranger, TREATMENT, 1), "not a member");
        vm.prank(patient);
        registry.grant(hospital, TREATMENT, ALL, 0, 0);
        _suspend(hospital);
        vm.assertFalse(registry.isPermitted(patient, hospital, TREATMENT, 1), "suspended member");
        vm.assertFalse(registry.isPermitted(patient, hospitalKey, TREATMENT, 1), "an operator key is no grantee");
    }

    // ---- guardians ----

    function test_guardian_lifecycle() public {
        vm.startPrank(patient);
        vm.expectRevert(abi.encodeWithSelector(IConsentRegistry.ConsentInvalidGuardian.selector, address(0), T0 + 1));
        registry.setGuardian(address(0), uint64(T0 + 1));
        vm.expectRevert(abi.encodeWithSelector(IConsentRegistry.ConsentInvalidGuardian.selector, patient, T0 + 1));
        registry.setGuardian(patient, uint64(T0 + 1));
        vm.expectRevert(abi.encodeWithSelector(IConsentRegistry.ConsentInvalidGuardian.selector, guardian, T0));
        registry.setGuardian(guardian, uint64(T0));
        vm.expectRevert(abi.encodeWithSelector(IConsentRegistry.ConsentNoGuardian.selector, patient));
        registry.removeGuardian();
        registry.setGuardian(guardian, uint64(T0 + 1 days));
        vm.stopPrank();
        (address g, uint64 until) = registry.guardianOf(patient);
        vm.assertEq(g, guardian, "guardian");
        vm.assertEq(until, T0 + 1 days, "until");
        vm.assertEq(registry.activeGuardian(patient), guardian, "active");

        vm.startPrank(guardian);
        registry.grantAsGuardian(patient, hospital, TREATMENT, ALL, 0, 0);
        vm.assertTrue(registry.isPermitted(patient, hospital, TREATMENT, ALL), "guardian's grant");
        vm.assertEq(registry.invalidateNonce(patient), 1, "guardian invalidated a nonce");
        registry.revokeAsGuardian(patient, hospital, TREATMENT);
        vm.assertFalse(registry.isPermitted(patient, hospital, TREATMENT, ALL), "guardian's revocation");
        vm.warp(T0 + 1 days + 1);
        vm.assertEq(registry.activeGuardian(patient), address(0), "expired");
        vm.expectPartialRevert(IConsentRegistry.ConsentGuardianExpired.selector);
        registry.grantAsGuardian(patient, hospital, TREATMENT, ALL, 0, 0);
        vm.expectPartialRevert(IConsentRegistry.ConsentGuardianExpired.selector);
        registry.invalidateNonce(patient);
        vm.stopPrank();

        vm.expectRevert(abi.encodeWithSelector(IConsentRegistry.ConsentUnauthorized.selector, stranger, patient));
        vm.prank(stranger);
        registry.revokeAsGuardian(patient, hospital, TREATMENT);
        vm.expectRevert(abi.encodeWithSelector(IConsentRegistry.ConsentUnauthorized.selector, stranger, patient));
        vm.prank(stranger);
        registry.invalidateNonce(patient);
        vm.prank(patient);
        registry.removeGuardian(); // an expired guardian can still be removed
        (g,) = registry.guardianOf(patient);
        vm.assertEq(g, address(0), "removed");
    }

    function test_signature_byContractWalletGuardianAndWrongGuardianKey() public {
        ERC1271WalletMock wallet = new ERC1271WalletMock(guardian);
        vm.prank(patient);
        registry.setGuardian(address(wallet), uint64(T0 + 1 days));
        Eip712.Grant memory g =
            Eip712.Grant(patient, hospital, CLAIM, ALL, 0, 0, registry.nonces(patient), T0 + 1 hours);
        bytes32 digest = Eip712.grantDigest(address(registry), g);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(patientKey == 1 ? 2 : 1, digest); // neither patient nor owner
        vm.expectPartialRevert(IConsentRegistry.ConsentInvalidSignature.selector);
        registry.grantBySig(patient, hospital, CLAIM, ALL, 0, 0, g.deadline, abi.encodePacked(r, s, v));
        (v, r, s) = vm.sign(guardianKey, digest); // the wallet's owner: valid for the wallet guardian
        registry.grantBySig(patient, hospital, CLAIM, ALL, 0, 0, g.deadline, abi.encodePacked(r, s, v));
        vm.assertTrue(registry.isPermitted(patient, hospital, CLAIM, ALL), "granted through the wallet guardian");
    }

    function test_signature_followsAChainIdChange() public {
        bytes32 before = registry.DOMAIN_SEPARATOR();
        Eip712.Grant memory g =
            Eip712.Grant(patient, hospital, CLAIM, ALL, 0, 0, registry.nonces(patient), T0 + 1 hours);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(patientKey, Eip712.grantDigest(address(registry), g));
        bytes memory oldChainSig = abi.encodePacked(r, s, v);
        vm.chainId(block.chainid + 1000); // e.g. a fork: the cached separator no longer applies
        bytes32 afterFork = registry.DOMAIN_SEPARATOR();
        vm.assertTrue(afterFork != before, "separator rebuilt for the new chain");
        vm.assertEq(afterFork, Eip712.domainSeparator(address(registry)), "EIP-712 separator of the new chain id");
        vm.expectPartialRevert(IConsentRegistry.ConsentInvalidSignature.selector);
        registry.grantBySig(patient, hospital, CLAIM, ALL, 0, 0, g.deadline, oldChainSig); // no replay across chains
        (v, r, s) = vm.sign(patientKey, Eip712.grantDigest(address(registry), g));
        registry.grantBySig(patient, hospital, CLAIM, ALL, 0, 0, g.deadline, abi.encodePacked(r, s, v));
        vm.assertTrue(registry.isPermitted(patient, hospital, CLAIM, ALL), "granted on the new chain");
    }

    function test_signature_zeroPatientRejected() public {
        vm.expectRevert(IConsentRegistry.ConsentZeroAddress.selector);
        registry.grantBySig(address(0), hospital, CLAIM, ALL, 0, 0, T0, new bytes(65));
        vm.expectRevert(IConsentRegistry.ConsentZeroAddress.selector);
        registry.revokeBySig(address(0), hospital, CLAIM, T0, new bytes(65));
        vm.expectRevert(abi.encodeWithSelector(IConsentRegistry.ConsentSignatureExpired.selector, T0 - 1, T0));
        registry.revokeBySig(patient, hospital, CLAIM, T0 - 1, new bytes(65));
    }

    // ---- break-glass ----

    function test_openEmergency_rulesAndAccess() public {
        vm.expectRevert(
            abi.encodeWithSelector(IConsentRegistry.EmergencyUnauthorized.selector, stranger, keccak256("HOSPITAL"))
        );
        vm.prank(stranger);
        registry.openEmergency(patient, 1, keccak256("j"));
        vm.startPrank(hospitalKey);
        vm.expectRevert(IConsentRegistry.ConsentZeroAddress.selector);
        registry.openEmergency(address(0), 1, keccak256("j"));
        vm.expectRevert(abi.encodeWithSelector(IConsentRegistry.EmergencyInvalidRequest.selector, 0, keccak256("j")));
        registry.openEmergency(patient, 0, keccak256("j"));
        vm.expectRevert(abi.encodeWithSelector(IConsentRegistry.EmergencyInvalidRequest.selector, 1, bytes32(0)));
        registry.openEmergency(patient, 1, bytes32(0));
        uint256 id = registry.openEmergency(patient, 3, keccak256("j"));
        vm.expectRevert(abi.encodeWithSelector(IConsentRegistry.EmergencyAlreadyOpen.selector, patient, hospital, id));
        registry.openEmergency(patient, 3, keccak256("j"));
        vm.stopPrank();

        (uint256 openId, uint64 expiresAt) = registry.activeEmergency(patient, hospital);
        vm.assertEq(openId, id, "open");
        vm.assertEq(expiresAt, T0 + 1 days, "24 h");
        vm.assertTrue(registry.isPermitted(patient, hospital, EMERGENCY, ALL), "break-glass permits EMERGENCY");
        vm.assertFalse(registry.isPermitted(patient, hospital, EMERGENCY, ALL + 1), "but not invalid classes");
        vm.assertFalse(registry.isPermitted(patient, hospital, TREATMENT, 1), "nor other purposes");
        IConsentRegistry.Opening memory o = registry.getOpening(id);
        vm.assertEq(o.hospital, hospital, "opening hospital");
        vm.assertEq(o.reasonCode, 3, "reason");

        vm.warp(T0 + 1 days);
        (openId,) = registry.activeEmergency(patient, hospital);
        vm.assertEq(openId, 0, "expired after 24 h");
        vm.assertFalse(registry.isPermitted(patient, hospital, EMERGENCY, 1), "no access after expiry");
        vm.prank(hospital);
        vm.assertEq(registry.openEmergency(patient, 3, keccak256("j2")), id + 1, "may reopen after expiry");
    }

    function test_closeEmergency_errors() public {
        vm.prank(hospital);
        uint256 id = registry.openEmergency(patient, 1, keccak256("j"));
        address other = _admit("other", HOSPITAL);
        vm.expectPartialRevert(IConsentRegistry.EmergencyUnauthorized.selector);
        vm.prank(auditor);
        registry.closeEmergency(id);
        vm.expectRevert(abi.encodeWithSelector(IConsentRegistry.EmergencyUnknownOpening.selector, 99));
        vm.prank(hospital);
        registry.closeEmergency(99);
        vm.expectRevert(abi.encodeWithSelector(IConsentRegistry.EmergencyNotOpener.selector, id, other));
        vm.prank(other);
        registry.closeEmergency(id);
        vm.prank(hospitalKey);
        registry.closeEmergency(id);
        vm.assertFalse(registry.isPermitted(patient, hospital, EMERGENCY, 1), "closed");
        vm.expectRevert(abi.encodeWithSelector(IConsentRegistry.EmergencyNotOpen.selector, id, T0));
        vm.prank(hospital);
        registry.closeEmergency(id);
    }

    function test_review_andOverdue() public {
        vm.startPrank(hospital);
        uint256 a = registry.openEmergency(patient, 1, keccak256("a"));
        uint256 b = registry.openEmergency(guardian, 1, keccak256("b"));
        uint256 c = registry.openEmergency(stranger, 1, keccak256("c"));
        vm.stopPrank();
        vm.assertEq(registry.openingCount(), 3, "openings");
        vm.assertEq(registry.pendingReviewCount(), 3, "pending");
        vm.assertFalse(registry.isOverdue(a), "not overdue yet");

        vm.expectRevert(
            abi.encodeWithSelector(IConsentRegistry.EmergencyUnauthorized.selector, stranger, keccak256("AUDITOR"))
        );
        vm.prank(stranger);
        registry.reviewEmergency(a, true);
        vm.expectRevert(abi.encodeWithSelector(IConsentRegistry.EmergencySelfReview.selector, a, hospital));
        vm.prank(hospital); // holds AUDITOR, but it opened this one
        registry.reviewEmergency(a, true);
        vm.expectRevert(abi.encodeWithSelector(IConsentRegistry.EmergencyUnknownOpening.selector, 42));
        vm.prank(auditor);
        registry.reviewEmergency(42, true);

        vm.prank(auditor);
        registry.reviewEmergency(a, false);
        vm.prank(council[0]);
        registry.reviewEmergency(b, true);
        vm.expectRevert(
            abi.encodeWithSelector(
                IConsentRegistry.EmergencyAlreadyReviewed.selector, a, IConsentRegistry.Review.Unjustified
            )
        );
        vm.prank(council[0]);
        registry.reviewEmergency(a, true);
        vm.assertEq(registry.unjustifiedCount(hospital), 1, "unjustified");
        vm.assertEq(registry.pendingReviewCount(), 1, "one pending");
        vm.assertEq(registry.getOpening(a).reviewer, auditor, "reviewer");

        vm.warp(T0 + 7 days + 1);
        vm.assertTrue(registry.isOverdue(c), "unreviewed past 7 days");
        vm.assertFalse(registry.isOverdue(a), "reviewed");
        uint256[] memory ids = registry.overdueOpenings(0, 10);
        vm.assertEq(ids.length, 1, "one overdue");
        vm.assertEq(ids[0], c, "overdue id");
        vm.assertEq(registry.overdueOpenings(1, 2).length, 0, "page without overdue");
        vm.assertEq(registry.overdueOpenings(3, 1).length, 1, "last page");
        vm.assertEq(registry.overdueOpenings(4, 10).length, 0, "past the end");
        vm.expectRevert(abi.encodeWithSelector(IConsentRegistry.EmergencyUnknownOpening.selector, 4));
        registry.isOverdue(4);
        vm.expectRevert(abi.encodeWithSelector(IConsentRegistry.EmergencyUnknownOpening.selector, 0));
        registry.getOpening(0);
    }
}
