// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IConsortium} from "../interfaces/IConsortium.sol";
import {Roles} from "./libraries/Roles.sol";

/// @title Consortium
/// @notice The consortium's member and role registry with k-of-n council governance. Stores institutions'
/// public data only (member addresses, role bitmaps, names, endpoint URIs, status, operator keys, proposals);
/// nothing about patients.
/// @dev Hot path: every account (member address or operator key) has one packed `Account` slot. A member's
/// slot points at itself and holds its roles and status, so a role check on a member address is one SLOAD;
/// an operator key's slot points at its member, whose slot is the second read. Suspending a member therefore
/// strips every one of its keys at once. Cold data (names, URIs, times) lives in `_profiles`.
contract Consortium is IConsortium {
    /// @dev One storage slot: 20 + 4 + 1 + 4 = 29 bytes. For an operator key only `member` is set.
    struct Account {
        address member; // the member this account acts for (itself for a member address)
        uint32 roles; // member slot only: role bitmap
        MemberStatus status; // member slot only
        uint32 operatorCount; // member slot only: active operator keys
    }

    /// @dev Cold member data: slot 0 holds both times (8 + 8 bytes), then the two strings.
    struct Profile {
        uint64 admittedAt;
        uint64 updatedAt;
        string name;
        string uri;
    }

    uint64 private constant _PROPOSAL_LIFETIME = 7 days;

    mapping(address account => Account) private _accounts;
    mapping(address member => Profile) private _profiles;
    mapping(uint256 proposalId => Proposal) private _proposals;
    mapping(uint256 proposalId => mapping(address member => bool)) private _approvedBy;

    // one slot: 8 + 4 + 4 bytes
    uint64 private _proposalCount;
    uint32 private _threshold;
    uint32 private _councilCount;

    /// @dev Thrown by the constructor when `council` and `names` differ in length.
    error ConsortiumLengthMismatch(uint256 councilLength, uint256 namesLength);

    /// @param council the founding council members (each admitted Active with COUNCIL)
    /// @param names their public names, in the same order
    /// @param threshold_ approvals needed to execute a proposal, 1..council.length
    constructor(address[] memory council, string[] memory names, uint256 threshold_) {
        if (council.length != names.length) revert ConsortiumLengthMismatch(council.length, names.length);
        for (uint256 i = 0; i < council.length; ++i) {
            _checkNewAccount(council[i]);
            _admit(council[i], Roles.bit(Roles.COUNCIL), names[i], "");
        }
        if (threshold_ == 0 || threshold_ > council.length) {
            revert ConsortiumInvalidThreshold(threshold_, council.length);
        }
        _setThreshold(threshold_);
    }

    /// @dev The sender must be a member address (any status but None).
    modifier onlyMember() {
        _checkMember(msg.sender);
        _;
    }

    // ---- governance ----

    /// @inheritdoc IConsortium
    function propose(ProposalKind kind, address target, uint32 value, string calldata name, string calldata uri)
        external
        returns (uint256)
    {
        address member = _checkRole(msg.sender, Roles.COUNCIL);
        if (kind != ProposalKind.Admit && (bytes(name).length != 0 || bytes(uri).length != 0)) {
            revert ConsortiumInvalidProposal(kind, target, value);
        }
        _checkProposal(kind, target, value);
        uint256 proposalId = ++_proposalCount;
        uint64 expiresAt = _time() + _PROPOSAL_LIFETIME;
        _proposals[proposalId] =
            Proposal(kind, ProposalStatus.Pending, 0, value, _time(), expiresAt, target, member, name, uri);
        emit ProposalCreated(proposalId, kind, target, value, member, expiresAt);
        _approve(proposalId, member);
        return proposalId;
    }

    /// @inheritdoc IConsortium
    function approve(uint256 proposalId) external {
        address member = _checkRole(msg.sender, Roles.COUNCIL);
        _checkOpen(proposalId);
        if (_approvedBy[proposalId][member]) revert ConsortiumAlreadyApproved(proposalId, member);
        _approve(proposalId, member);
    }

    /// @inheritdoc IConsortium
    function execute(uint256 proposalId) external {
        address member = _checkRole(msg.sender, Roles.COUNCIL);
        Proposal storage p = _checkOpen(proposalId);
        if (p.approvals < _threshold) revert ConsortiumInsufficientApprovals(proposalId, p.approvals, _threshold);
        _checkProposal(p.kind, p.target, p.value);
        p.status = ProposalStatus.Executed;
        _apply(proposalId, p);
        emit ProposalExecuted(proposalId, member);
    }

    /// @inheritdoc IConsortium
    function cancel(uint256 proposalId) external {
        Proposal storage p = _checkPending(proposalId);
        address member = _accounts[msg.sender].member;
        if (member == address(0) || member != p.proposer) revert ConsortiumNotProposer(proposalId, msg.sender);
        p.status = ProposalStatus.Cancelled;
        emit ProposalCancelled(proposalId, member);
    }

    // ---- member self-service ----

    /// @inheritdoc IConsortium
    function addOperator(address key) external onlyMember {
        _addOperator(msg.sender, key);
    }

    /// @inheritdoc IConsortium
    function removeOperator(address key) external onlyMember {
        _removeOperator(msg.sender, key);
    }

    /// @inheritdoc IConsortium
    function rotateOperator(address oldKey, address newKey) external onlyMember {
        _removeOperator(msg.sender, oldKey);
        _addOperator(msg.sender, newKey);
    }

    /// @inheritdoc IConsortium
    function updateProfile(string calldata name, string calldata uri) external onlyMember {
        Profile storage profile = _profiles[msg.sender];
        profile.name = name;
        profile.uri = uri;
        emit MemberProfileUpdated(msg.sender, name, uri);
    }

    // ---- views ----

    /// @inheritdoc IConsortium
    function isAuthorized(address account, bytes32 role) external view returns (bool) {
        return authorizedMember(account, role) != address(0);
    }

    /// @inheritdoc IConsortium
    function authorizedMember(address account, bytes32 role) public view returns (address) {
        Account storage acc = _accounts[account]; // one packed slot, read in place
        if (acc.member != account) {
            if (acc.member == address(0)) return address(0);
            acc = _accounts[acc.member];
        }
        if (acc.status != MemberStatus.Active || acc.roles & Roles.bit(role) == 0) return address(0);
        return acc.member;
    }

    /// @inheritdoc IConsortium
    function isActiveMember(address member) external view returns (bool) {
        Account storage acc = _accounts[member]; // one packed slot, read in place
        return acc.member == member && acc.status == MemberStatus.Active;
    }

    /// @inheritdoc IConsortium
    function memberOf(address account) external view returns (address) {
        return _accounts[account].member;
    }

    /// @inheritdoc IConsortium
    /// @dev An address that is not a member (unknown, or an operator key) gives an all-zero record
    /// (status None).
    function getMember(address member) external view returns (Member memory) {
        Account memory acc = _accounts[member];
        if (acc.member != member || acc.status == MemberStatus.None) return _emptyMember();
        Profile storage profile = _profiles[member];
        return Member(
            acc.roles, acc.status, profile.admittedAt, profile.updatedAt, acc.operatorCount, profile.name, profile.uri
        );
    }

    /// @inheritdoc IConsortium
    /// @dev An unknown id gives an all-zero record (status None).
    function getProposal(uint256 proposalId) external view returns (Proposal memory) {
        return _proposals[proposalId];
    }

    /// @inheritdoc IConsortium
    function hasApproved(uint256 proposalId, address member) external view returns (bool) {
        return _approvedBy[proposalId][member];
    }

    /// @inheritdoc IConsortium
    function proposalCount() external view returns (uint256) {
        return _proposalCount;
    }

    /// @inheritdoc IConsortium
    function threshold() external view returns (uint256) {
        return _threshold;
    }

    /// @inheritdoc IConsortium
    function councilCount() external view returns (uint256) {
        return _councilCount;
    }

    /// @inheritdoc IConsortium
    function proposalLifetime() external pure returns (uint64) {
        return _PROPOSAL_LIFETIME;
    }

    /// @inheritdoc IConsortium
    function roleBit(bytes32 role) external pure returns (uint32) {
        return Roles.bit(role);
    }

    // ---- internal: checks ----

    /// @dev Reverts unless `account` holds `role` with an Active member; returns that member.
    function _checkRole(address account, bytes32 role) private view returns (address member) {
        member = authorizedMember(account, role);
        if (member == address(0)) revert ConsortiumUnauthorized(account, role);
    }

    /// @dev Reverts unless `account` is a member address (any status but None).
    function _checkMember(address account) private view {
        Account storage acc = _accounts[account];
        if (acc.member != account || acc.status == MemberStatus.None) revert ConsortiumUnknownMember(account);
    }

    /// @dev Reverts unless `account` is non-zero and registered nowhere (neither member nor operator key).
    function _checkNewAccount(address account) private view {
        if (account == address(0)) revert ConsortiumZeroAddress();
        if (_accounts[account].member != address(0)) revert ConsortiumAlreadyRegistered(account);
    }

    /// @dev Reverts unless `roles` is non-zero and has known bits only.
    function _checkRoles(uint32 roles) private pure {
        if (roles == 0 || roles & ~Roles.ALL != 0) revert ConsortiumInvalidRoles(roles);
    }

    /// @dev Reverts unless `target` is a member address whose status is `expected`.
    function _checkStatus(address target, MemberStatus expected) private view returns (Account storage acc) {
        _checkMember(target);
        acc = _accounts[target];
        if (acc.status != expected) revert ConsortiumUnexpectedMemberStatus(target, acc.status, expected);
    }

    /// @dev Reverts if the council would shrink below the threshold (or to zero).
    function _checkCouncilSize(uint256 newCouncilCount) private view {
        if (newCouncilCount < _threshold) revert ConsortiumInvalidThreshold(_threshold, newCouncilCount);
    }

    /// @dev Validates a proposal against the current state; run at proposal and again at execution.
    function _checkProposal(ProposalKind kind, address target, uint32 value) private view {
        if (kind == ProposalKind.Admit) _checkAdmit(target, value);
        else if (kind == ProposalKind.Suspend) _checkStatusChange(kind, target, value);
        else if (kind == ProposalKind.Reinstate) _checkStatusChange(kind, target, value);
        else if (kind == ProposalKind.SetRoles) _checkSetRoles(target, value);
        else if (kind == ProposalKind.SetThreshold) _checkSetThreshold(target, value);
        else revert ConsortiumInvalidProposal(kind, target, value);
    }

    /// @dev Admit: a new, non-zero account and a valid role bitmap.
    function _checkAdmit(address target, uint32 roles) private view {
        _checkNewAccount(target);
        _checkRoles(roles);
    }

    /// @dev Suspend needs an Active target, Reinstate a Suspended one; a suspension must leave the council
    /// at least `threshold` strong.
    function _checkStatusChange(ProposalKind kind, address target, uint32 value) private view {
        if (value != 0) revert ConsortiumInvalidProposal(kind, target, value);
        bool suspend = kind == ProposalKind.Suspend;
        Account storage acc = _checkStatus(target, suspend ? MemberStatus.Active : MemberStatus.Suspended);
        if (suspend && _isCouncil(acc.roles)) _checkCouncilSize(_councilCount - 1);
    }

    /// @dev SetRoles: a member target, a valid bitmap that changes something, and no council shrink below
    /// the threshold.
    function _checkSetRoles(address target, uint32 roles) private view {
        _checkRoles(roles);
        _checkMember(target);
        Account storage acc = _accounts[target];
        if (acc.roles == roles) revert ConsortiumInvalidProposal(ProposalKind.SetRoles, target, roles);
        if (acc.status == MemberStatus.Active && _isCouncil(acc.roles) && !_isCouncil(roles)) {
            _checkCouncilSize(_councilCount - 1);
        }
    }

    /// @dev SetThreshold: no target, a new value in 1..councilCount.
    function _checkSetThreshold(address target, uint32 value) private view {
        if (target != address(0) || value == _threshold) {
            revert ConsortiumInvalidProposal(ProposalKind.SetThreshold, target, value);
        }
        if (value == 0 || value > _councilCount) revert ConsortiumInvalidThreshold(value, _councilCount);
    }

    /// @dev Reverts unless proposal `proposalId` exists and is Pending.
    function _checkPending(uint256 proposalId) private view returns (Proposal storage p) {
        p = _proposals[proposalId];
        if (p.status == ProposalStatus.None) revert ConsortiumUnknownProposal(proposalId);
        if (p.status != ProposalStatus.Pending) {
            revert ConsortiumUnexpectedProposalStatus(proposalId, p.status, ProposalStatus.Pending);
        }
    }

    /// @dev Reverts unless proposal `proposalId` is Pending and not expired.
    function _checkOpen(uint256 proposalId) private view returns (Proposal storage p) {
        p = _checkPending(proposalId);
        if (_time() > p.expiresAt) revert ConsortiumProposalExpired(proposalId, p.expiresAt);
    }

    // ---- internal: workers ----

    /// @dev Records `member`'s approval of `proposalId`.
    function _approve(uint256 proposalId, address member) private {
        _approvedBy[proposalId][member] = true;
        uint16 approvals = ++_proposals[proposalId].approvals;
        emit ProposalApproved(proposalId, member, approvals);
    }

    /// @dev Carries out an approved, re-validated proposal.
    function _apply(uint256 proposalId, Proposal storage p) private {
        ProposalKind kind = p.kind;
        if (kind == ProposalKind.Admit) _admit(p.target, p.value, p.name, p.uri);
        else if (kind == ProposalKind.Suspend) _setStatus(proposalId, p.target, MemberStatus.Suspended);
        else if (kind == ProposalKind.Reinstate) _setStatus(proposalId, p.target, MemberStatus.Active);
        else if (kind == ProposalKind.SetRoles) _setRoles(p.target, p.value);
        else _setThreshold(p.value);
    }

    /// @dev Registers `member` as Active with `roles` (caller checked that it is new and the roles valid).
    function _admit(address member, uint32 roles, string memory name, string memory uri) private {
        _accounts[member] = Account(member, roles, MemberStatus.Active, 0);
        _profiles[member] = Profile(_time(), _time(), name, uri);
        if (_isCouncil(roles)) ++_councilCount;
        emit MemberAdmitted(member, roles, name, uri);
    }

    /// @dev Moves `member` to `status` (Active <-> Suspended, checked by the caller) and keeps councilCount.
    function _setStatus(uint256 proposalId, address member, MemberStatus status) private {
        Account storage acc = _accounts[member];
        acc.status = status;
        _profiles[member].updatedAt = _time();
        bool active = status == MemberStatus.Active;
        if (_isCouncil(acc.roles)) _councilCount = active ? _councilCount + 1 : _councilCount - 1;
        if (active) emit MemberReinstated(member, proposalId);
        else emit MemberSuspended(member, proposalId);
    }

    /// @dev Replaces `member`'s role bitmap and keeps councilCount.
    function _setRoles(address member, uint32 roles) private {
        Account storage acc = _accounts[member];
        uint32 previous = acc.roles;
        acc.roles = roles;
        _profiles[member].updatedAt = _time();
        if (acc.status == MemberStatus.Active && _isCouncil(previous) != _isCouncil(roles)) {
            _councilCount = _isCouncil(roles) ? _councilCount + 1 : _councilCount - 1;
        }
        emit MemberRolesChanged(member, previous, roles);
    }

    function _setThreshold(uint256 newThreshold) private {
        uint256 previous = _threshold;
        _threshold = uint32(newThreshold);
        emit ThresholdChanged(previous, newThreshold);
    }

    function _addOperator(address member, address key) private {
        _checkNewAccount(key);
        _accounts[key].member = member;
        ++_accounts[member].operatorCount;
        emit OperatorAdded(member, key);
    }

    /// @dev The key's slot is cleared, so it holds no role and may later be registered again.
    function _removeOperator(address member, address key) private {
        if (key == member || _accounts[key].member != member) revert ConsortiumNotOperator(key, member);
        delete _accounts[key];
        --_accounts[member].operatorCount;
        emit OperatorRemoved(member, key);
    }

    function _isCouncil(uint32 roles) private pure returns (bool) {
        return roles & Roles.bit(Roles.COUNCIL) != 0;
    }

    function _time() private view returns (uint64) {
        return uint64(block.timestamp);
    }

    function _emptyMember() private pure returns (Member memory empty) {}
}
