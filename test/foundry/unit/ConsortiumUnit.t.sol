// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Base} from "../utils/Base.sol";
import {IConsortium} from "../../../interfaces/IConsortium.sol";
import {Consortium} from "../../../contracts/Consortium.sol";

/// @title ConsortiumUnit
/// @notice Focused Consortium tests for the paths the invariant suites do not reach (constructor checks, every
/// proposal validation, approval/execution/cancellation errors, operator keys, profile, views), so that forge
/// coverage of the production contract stays at or above the issue-#8 bar (95% lines and branches).
contract ConsortiumUnit is Base {
    IConsortium.ProposalKind internal constant ADMIT = IConsortium.ProposalKind.Admit;
    IConsortium.ProposalKind internal constant SUSPEND = IConsortium.ProposalKind.Suspend;
    IConsortium.ProposalKind internal constant REINSTATE = IConsortium.ProposalKind.Reinstate;
    IConsortium.ProposalKind internal constant SET_ROLES = IConsortium.ProposalKind.SetRoles;
    IConsortium.ProposalKind internal constant SET_THRESHOLD = IConsortium.ProposalKind.SetThreshold;
    IConsortium.ProposalKind internal constant REMOVE_OPERATOR = IConsortium.ProposalKind.RemoveOperator;

    address internal hospital;
    address internal stranger;

    function setUp() public {
        vm.warp(T0);
        _deployConsortium(3, 2);
        hospital = _admit("hospital", HOSPITAL);
        stranger = _addr("stranger");
    }

    // ---- constructor ----

    function test_constructor_rejectsBadArguments() public {
        address[] memory two = new address[](2);
        (two[0], two[1]) = (_addr("a"), _addr("b"));
        string[] memory oneName = new string[](1);
        string[] memory twoNames = new string[](2);
        vm.expectRevert(abi.encodeWithSelector(Consortium.ConsortiumLengthMismatch.selector, 2, 1));
        new Consortium(two, oneName, 1);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumInvalidThreshold.selector, 0, 2));
        new Consortium(two, twoNames, 0);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumInvalidThreshold.selector, 3, 2));
        new Consortium(two, twoNames, 3);
        two[1] = two[0];
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumAlreadyRegistered.selector, two[0]));
        new Consortium(two, twoNames, 1);
        two[1] = address(0);
        vm.expectRevert(IConsortium.ConsortiumZeroAddress.selector);
        new Consortium(two, twoNames, 1);
        address[] memory seventeen = new address[](17);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumCouncilFull.selector, 16));
        new Consortium(seventeen, new string[](17), 1);
    }

    function test_constructor_admitsTheCouncil() public view {
        vm.assertEq(consortium.councilCount(), 3, "council count");
        vm.assertEq(consortium.threshold(), 2, "threshold");
        IConsortium.Member memory m = consortium.getMember(council[1]);
        vm.assertEq(m.roles, COUNCIL, "council roles");
        vm.assertEq(uint8(m.status), uint8(IConsortium.MemberStatus.Active), "council status");
        vm.assertEq(m.admittedAt, T0, "admitted at");
    }

    // ---- propose: validation ----

    function test_propose_byNonCouncilReverts() public {
        vm.expectRevert(
            abi.encodeWithSelector(IConsortium.ConsortiumUnauthorized.selector, hospital, keccak256("COUNCIL"))
        );
        vm.prank(hospital);
        consortium.propose(ADMIT, stranger, HOSPITAL, "x", "");
    }

    function test_propose_validatesEachKind() public {
        _proposeReverts(SUSPEND, hospital, 0, "name", IConsortium.ConsortiumInvalidProposal.selector);
        _proposeReverts(ADMIT, address(0), HOSPITAL, "", IConsortium.ConsortiumZeroAddress.selector);
        _proposeReverts(ADMIT, hospital, HOSPITAL, "", IConsortium.ConsortiumAlreadyRegistered.selector);
        _proposeReverts(ADMIT, stranger, 0, "", IConsortium.ConsortiumInvalidRoles.selector);
        _proposeReverts(ADMIT, stranger, 1 << 7, "", IConsortium.ConsortiumInvalidRoles.selector);
        _proposeReverts(SUSPEND, hospital, 1, "", IConsortium.ConsortiumInvalidProposal.selector);
        _proposeReverts(SUSPEND, stranger, 0, "", IConsortium.ConsortiumUnknownMember.selector);
        _proposeReverts(REINSTATE, hospital, 0, "", IConsortium.ConsortiumUnexpectedMemberStatus.selector);
        _proposeReverts(SET_ROLES, hospital, 0, "", IConsortium.ConsortiumInvalidRoles.selector);
        _proposeReverts(SET_ROLES, stranger, HOSPITAL, "", IConsortium.ConsortiumUnknownMember.selector);
        _proposeReverts(SET_ROLES, hospital, HOSPITAL, "", IConsortium.ConsortiumInvalidProposal.selector);
        _proposeReverts(SET_THRESHOLD, hospital, 1, "", IConsortium.ConsortiumInvalidProposal.selector);
        _proposeReverts(SET_THRESHOLD, address(0), 2, "", IConsortium.ConsortiumInvalidProposal.selector);
        _proposeReverts(SET_THRESHOLD, address(0), 0, "", IConsortium.ConsortiumInvalidThreshold.selector);
        _proposeReverts(SET_THRESHOLD, address(0), 4, "", IConsortium.ConsortiumInvalidThreshold.selector);
        _proposeReverts(IConsortium.ProposalKind.None, hospital, 0, "", IConsortium.ConsortiumInvalidProposal.selector);
        address key = _operator(hospital, "hospital-key");
        _proposeReverts(REMOVE_OPERATOR, key, 1, "", IConsortium.ConsortiumInvalidProposal.selector);
        _proposeReverts(REMOVE_OPERATOR, stranger, 0, "", IConsortium.ConsortiumNotOperator.selector);
        _proposeReverts(REMOVE_OPERATOR, hospital, 0, "", IConsortium.ConsortiumNotOperator.selector);
    }

    function test_propose_keepsTheCouncilAtOrBelowTheCap() public {
        for (uint256 i = 3; i < 16; ++i) {
            _admit(string.concat("council", vm.toString(i)), COUNCIL);
        }
        vm.assertEq(consortium.councilCount(), consortium.maxCouncil(), "full council");
        _proposeReverts(ADMIT, stranger, COUNCIL, "", IConsortium.ConsortiumCouncilFull.selector);
        _proposeReverts(SET_ROLES, hospital, HOSPITAL | COUNCIL, "", IConsortium.ConsortiumCouncilFull.selector);
        _suspend(council[2]);
        _admit("council16", COUNCIL);
        _proposeReverts(REINSTATE, council[2], 0, "", IConsortium.ConsortiumCouncilFull.selector);
    }

    function test_propose_keepsTheCouncilAtOrAboveThreshold() public {
        _govern(SET_THRESHOLD, address(0), 3, "");
        _proposeReverts(SUSPEND, council[2], 0, "", IConsortium.ConsortiumInvalidThreshold.selector);
        _proposeReverts(SET_ROLES, council[2], HOSPITAL, "", IConsortium.ConsortiumInvalidThreshold.selector);
        // a council member keeping COUNCIL among new roles is fine
        _govern(SET_ROLES, council[2], COUNCIL | AUDITOR, "");
        vm.assertEq(consortium.councilCount(), 3, "still three");
    }

    function test_propose_recordsAndAutoApproves() public {
        vm.prank(council[0]);
        uint256 id = consortium.propose(ADMIT, stranger, INSURER, "Insurer", "https://insurer.example");
        IConsortium.Proposal memory p = consortium.getProposal(id);
        vm.assertEq(uint8(p.kind), uint8(ADMIT), "kind");
        vm.assertEq(uint8(p.status), uint8(IConsortium.ProposalStatus.Pending), "status");
        vm.assertEq(p.approvals, 1, "approvals");
        vm.assertEq(p.expiresAt, T0 + consortium.proposalLifetime(), "expiry");
        vm.assertEq(p.proposer, council[0], "proposer");
        vm.assertTrue(consortium.hasApproved(id, council[0]), "proposer approved");
        vm.assertEq(consortium.proposalCount(), id, "count");
    }

    // ---- approve / execute / cancel ----

    function test_approve_errors() public {
        vm.prank(council[0]);
        uint256 id = consortium.propose(ADMIT, stranger, INSURER, "", "");
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumAlreadyApproved.selector, id, council[0]));
        vm.prank(council[0]);
        consortium.approve(id);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumUnknownProposal.selector, id + 1));
        vm.prank(council[1]);
        consortium.approve(id + 1);
        vm.expectRevert(
            abi.encodeWithSelector(IConsortium.ConsortiumUnauthorized.selector, hospital, keccak256("COUNCIL"))
        );
        vm.prank(hospital);
        consortium.approve(id);
        vm.warp(T0 + consortium.proposalLifetime() + 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IConsortium.ConsortiumProposalExpired.selector, id, uint64(T0 + consortium.proposalLifetime())
            )
        );
        vm.prank(council[1]);
        consortium.approve(id);
    }

    function test_execute_needsThresholdAndRevalidates() public {
        vm.prank(council[0]);
        uint256 id = consortium.propose(ADMIT, stranger, INSURER, "", "");
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumInsufficientApprovals.selector, id, 1, 2));
        vm.prank(council[0]);
        consortium.execute(id);
        vm.prank(council[1]);
        consortium.approve(id);
        _operator(hospital, "stranger"); // the target got registered meanwhile (as a key, with its consent)
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumAlreadyRegistered.selector, stranger));
        vm.prank(council[1]);
        consortium.execute(id);
    }

    function test_execute_everyKind() public {
        address insurer = _admit("insurer", INSURER);
        vm.assertTrue(consortium.isAuthorized(insurer, keccak256("INSURER")), "admitted");
        _suspend(insurer);
        vm.assertFalse(consortium.isActiveMember(insurer), "suspended");
        _proposeReverts(SUSPEND, insurer, 0, "", IConsortium.ConsortiumUnexpectedMemberStatus.selector);
        _reinstate(insurer);
        vm.assertTrue(consortium.isActiveMember(insurer), "reinstated");
        _govern(SET_ROLES, insurer, INSURER | AUDITOR, "");
        vm.assertTrue(consortium.isAuthorized(insurer, keccak256("AUDITOR")), "new role");
        _govern(SET_THRESHOLD, address(0), 3, "");
        vm.assertEq(consortium.threshold(), 3, "threshold");
        address key = _operator(insurer, "insurer-key");
        _govern(REMOVE_OPERATOR, key, 0, "");
        vm.assertEq(consortium.memberOf(key), address(0), "key removed by the council");
    }

    function test_execute_countsOnlyActiveCouncilApprovals() public {
        vm.prank(council[1]);
        uint256 id = consortium.propose(ADMIT, stranger, COUNCIL, "", "");
        _suspend(council[1]);
        vm.prank(council[2]);
        consortium.approve(id);
        vm.assertEq(consortium.getProposal(id).approvals, 2, "recorded");
        vm.assertEq(consortium.countedApprovals(id), 1, "counted");
        vm.assertEq(consortium.approvers(id)[0], council[1], "proposer first");
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumInsufficientApprovals.selector, id, 1, 2));
        vm.prank(council[0]);
        consortium.execute(id);
        vm.prank(council[0]); // the proposer is no longer active COUNCIL: any council member may cancel
        consortium.cancel(id);
        vm.assertEq(uint8(consortium.getProposal(id).status), uint8(IConsortium.ProposalStatus.Cancelled), "cancelled");
    }

    function test_approve_recordsAtMostMaxCouncilApprovals() public {
        _govern(SET_THRESHOLD, address(0), 1, "");
        for (uint256 i = 3; i < 16; ++i) {
            _admit(string.concat("council", vm.toString(i)), COUNCIL);
        }
        vm.prank(council[0]);
        uint256 id = consortium.propose(ADMIT, stranger, INSURER, "", "");
        for (uint256 i = 1; i < 16; ++i) {
            address member = i < 3 ? council[i] : _addr(string.concat("council", vm.toString(i)));
            vm.prank(member);
            consortium.approve(id);
        }
        _govern(SET_ROLES, council[2], AUDITOR, "");
        address late = _admit("council16", COUNCIL);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumTooManyApprovals.selector, id, 16));
        vm.prank(late);
        consortium.approve(id);
    }

    function test_councilCount_followsSuspensionAndRoles() public {
        address extra = _admit("council3", COUNCIL);
        vm.assertEq(consortium.councilCount(), 4, "admitted council");
        _suspend(extra);
        vm.assertEq(consortium.councilCount(), 3, "suspended council");
        _govern(SET_ROLES, extra, HOSPITAL, ""); // a suspended member's roles change without touching the count
        vm.assertEq(consortium.councilCount(), 3, "suspended member's roles");
        _govern(SET_ROLES, extra, COUNCIL, "");
        _reinstate(extra);
        vm.assertEq(consortium.councilCount(), 4, "reinstated council");
        _govern(SET_ROLES, extra, AUDITOR, "");
        vm.assertEq(consortium.councilCount(), 3, "council role removed");
        _govern(SET_ROLES, hospital, HOSPITAL | COUNCIL, "");
        vm.assertEq(consortium.councilCount(), 4, "council role added");
    }

    function test_cancel() public {
        vm.prank(council[0]);
        uint256 id = consortium.propose(ADMIT, stranger, INSURER, "", "");
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumNotProposer.selector, id, council[1]));
        vm.prank(council[1]);
        consortium.cancel(id);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumNotProposer.selector, id, stranger));
        vm.prank(stranger);
        consortium.cancel(id);
        address key = _operator(council[0], "council0-key");
        vm.prank(key); // a key of the proposing member may cancel
        consortium.cancel(id);
        vm.assertEq(uint8(consortium.getProposal(id).status), uint8(IConsortium.ProposalStatus.Cancelled), "cancelled");
        vm.expectRevert(
            abi.encodeWithSelector(
                IConsortium.ConsortiumUnexpectedProposalStatus.selector,
                id,
                IConsortium.ProposalStatus.Cancelled,
                IConsortium.ProposalStatus.Pending
            )
        );
        vm.prank(council[0]);
        consortium.cancel(id);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumUnknownProposal.selector, 99));
        vm.prank(council[0]);
        consortium.cancel(99);
    }

    // ---- operators and profile ----

    function test_operators_offerAcceptRotateRemove() public {
        address k1 = _operator(hospital, "k1");
        address k2 = _addr("k2");
        vm.assertEq(consortium.authorizedMember(k1, keccak256("HOSPITAL")), hospital, "key acts for member");
        vm.assertEq(consortium.memberOf(k1), hospital, "memberOf key");
        vm.assertFalse(consortium.isActiveMember(k1), "a key is not a member");
        vm.assertEq(consortium.getMember(k1).admittedAt, 0, "a key has no member record");
        vm.startPrank(hospital);
        vm.expectRevert(IConsortium.ConsortiumZeroAddress.selector);
        consortium.offerOperator(address(0), address(0));
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumAlreadyRegistered.selector, k1));
        consortium.offerOperator(k1, address(0));
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumNotOperator.selector, stranger, hospital));
        consortium.offerOperator(k2, stranger);
        consortium.offerOperator(k2, k1); // rotation: k1 goes when k2 accepts
        vm.stopPrank();
        (bool offered, address replaces) = consortium.operatorOffer(hospital, k2);
        vm.assertTrue(offered && replaces == k1, "open rotation offer");
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumNoOperatorOffer.selector, hospital, stranger));
        vm.prank(stranger);
        consortium.acceptOperator(hospital);
        vm.prank(k2);
        consortium.acceptOperator(hospital);
        vm.startPrank(hospital);
        vm.assertEq(consortium.memberOf(k1), address(0), "old key gone");
        vm.assertEq(consortium.getMember(hospital).operatorCount, 1, "operator count");
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumNotOperator.selector, k1, hospital));
        consortium.removeOperator(k1);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumNotOperator.selector, hospital, hospital));
        consortium.removeOperator(hospital);
        consortium.removeOperator(k2);
        vm.stopPrank();
        vm.assertEq(consortium.getMember(hospital).operatorCount, 0, "no operators");
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumUnknownMember.selector, stranger));
        vm.prank(stranger);
        consortium.offerOperator(k1, address(0));
    }

    function test_operatorOffer_withdrawAndSuspension() public {
        address k1 = _addr("k1");
        vm.prank(hospital);
        consortium.offerOperator(k1, address(0));
        vm.prank(hospital);
        consortium.withdrawOperatorOffer(k1);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumNoOperatorOffer.selector, hospital, k1));
        vm.prank(hospital);
        consortium.withdrawOperatorOffer(k1);
        vm.prank(hospital);
        consortium.offerOperator(k1, address(0));
        _suspend(hospital);
        vm.expectRevert(
            abi.encodeWithSelector(
                IConsortium.ConsortiumUnexpectedMemberStatus.selector,
                hospital,
                IConsortium.MemberStatus.Suspended,
                IConsortium.MemberStatus.Active
            )
        );
        vm.prank(k1);
        consortium.acceptOperator(hospital);
        vm.expectRevert(
            abi.encodeWithSelector(
                IConsortium.ConsortiumUnexpectedMemberStatus.selector,
                hospital,
                IConsortium.MemberStatus.Suspended,
                IConsortium.MemberStatus.Active
            )
        );
        vm.prank(hospital);
        consortium.offerOperator(_addr("k2"), address(0));
    }

    function test_operatorOfSuspendedMember_losesItsRoles() public {
        address key = _operator(hospital, "hospital-key");
        _suspend(hospital);
        vm.assertEq(consortium.authorizedMember(key, keccak256("HOSPITAL")), address(0), "suspended member's key");
        vm.assertFalse(consortium.isAuthorized(hospital, keccak256("HOSPITAL")), "suspended member");
        vm.prank(hospital); // a suspended member can still remove its keys (only takes power away)
        consortium.removeOperator(key);
    }

    function test_updateProfile() public {
        vm.prank(hospital);
        consortium.updateProfile("Renamed", "https://fhir.example");
        IConsortium.Member memory m = consortium.getMember(hospital);
        vm.assertEq(keccak256(bytes(m.name)), keccak256("Renamed"), "name");
        vm.assertEq(keccak256(bytes(m.uri)), keccak256("https://fhir.example"), "uri");
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumUnknownMember.selector, stranger));
        vm.prank(stranger);
        consortium.updateProfile("x", "y");
        _suspend(hospital);
        vm.expectRevert(
            abi.encodeWithSelector(
                IConsortium.ConsortiumUnexpectedMemberStatus.selector,
                hospital,
                IConsortium.MemberStatus.Suspended,
                IConsortium.MemberStatus.Active
            )
        );
        vm.prank(hospital);
        consortium.updateProfile("x", "y");
    }

    // ---- views ----

    function test_roleBits() public view {
        string[7] memory names =
            ["COUNCIL", "HOSPITAL", "INSURER", "MANUFACTURER", "DISTRIBUTOR", "PHARMACY", "AUDITOR"];
        for (uint256 i = 0; i < names.length; ++i) {
            vm.assertEq(consortium.roleBit(keccak256(bytes(names[i]))), uint32(1) << uint32(i), names[i]);
        }
        vm.assertEq(consortium.roleBit(keccak256("PATIENT")), 0, "unknown role");
        vm.assertFalse(consortium.isAuthorized(hospital, keccak256("PATIENT")), "unknown role never authorized");
    }

    function test_views_unknownAccounts() public view {
        vm.assertEq(consortium.getMember(stranger).admittedAt, 0, "unknown member");
        vm.assertEq(consortium.getProposal(12345).proposer, address(0), "unknown proposal");
        vm.assertEq(consortium.authorizedMember(stranger, keccak256("HOSPITAL")), address(0), "stranger");
        vm.assertEq(consortium.memberOf(stranger), address(0), "memberOf stranger");
    }

    // ---- helpers ----

    function _proposeReverts(
        IConsortium.ProposalKind kind,
        address target,
        uint32 value,
        string memory name,
        bytes4 selector
    ) internal {
        vm.expectPartialRevert(selector);
        vm.prank(council[0]);
        consortium.propose(kind, target, value, name, "");
    }
}
