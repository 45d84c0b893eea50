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
/// No inline assembly: nothing here would save the 2% of an operation's gas that the style rule asks for.
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

    /// @dev An open offer of an operator place to a key; one slot (1 + 20 bytes).
    struct OperatorOffer {
        bool open;
        address replaces; // the member's key that acceptance removes (rotation), or zero
    }

    uint64 private constant _PROPOSAL_LIFETIME = 7 days;
    /// @dev Bounds the approval loops: at most this many active COUNCIL members, and at most this many
    /// recorded approvals per proposal.
    uint16 private constant _MAX_COUNCIL = 16;

    mapping(address account => Account) private _accounts;
    mapping(address member => Profile) private _profiles;
    mapping(uint256 proposalId => Proposal) private _proposals;
    /// @dev Recorded approvers of a proposal at index 1 .. approvals-1; index 0 is the proposal's `proposer`
    /// (who approves on proposing), so proposing writes no approver slot.
    mapping(uint256 proposalId => mapping(uint256 index => address member)) private _approvers;
    mapping(address member => mapping(address key => OperatorOffer)) private _offers;

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
        if (council.length > _MAX_COUNCIL) revert ConsortiumCouncilFull(_MAX_COUNCIL);
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

    /// @dev The sender must be an Active member address.
    modifier onlyActiveMember() {
        _checkStatus(msg.sender, MemberStatus.Active);
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
        _approve(proposalId, _proposals[proposalId], member);
        return proposalId;
    }

    /// @inheritdoc IConsortium
    function approve(uint256 proposalId) external {
        address member = _checkRole(msg.sender, Roles.COUNCIL);
        Proposal storage p = _checkOpen(proposalId);
        if (_hasApproved(proposalId, p, member)) revert ConsortiumAlreadyApproved(proposalId, member);
        _approve(proposalId, p, member);
    }

    /// @inheritdoc IConsortium
    function execute(uint256 proposalId) external {
        address member = _checkRole(msg.sender, Roles.COUNCIL);
        Proposal storage p = _checkOpen(proposalId);
        uint256 counted = _countApprovals(proposalId, p, _threshold);
        if (counted < _threshold) revert ConsortiumInsufficientApprovals(proposalId, counted, _threshold);
        _checkProposal(p.kind, p.target, p.value);
        p.status = ProposalStatus.Executed;
        _apply(proposalId, p);
        emit ProposalExecuted(proposalId, member);
    }

    /// @inheritdoc IConsortium
    function cancel(uint256 proposalId) external {
        Proposal storage p = _checkPending(proposalId);
        address member = _accounts[msg.sender].member;
        if (member == address(0) || member != p.proposer) {
            // not the proposer: an active council key, once the proposer is no longer active COUNCIL
            member = authorizedMember(msg.sender, Roles.COUNCIL);
            if (member == address(0) || _isActiveCouncil(p.proposer)) {
                revert ConsortiumNotProposer(proposalId, msg.sender);
            }
        }
        p.status = ProposalStatus.Cancelled;
        emit ProposalCancelled(proposalId, member);
    }

    // ---- member self-service ----

    /// @inheritdoc IConsortium
    function offerOperator(address key, address replaces) external onlyActiveMember {
        _checkNewAccount(key);
        if (replaces != address(0)) _checkOperatorOf(msg.sender, replaces);
        _offers[msg.sender][key] = OperatorOffer(true, replaces);
        emit OperatorOffered(msg.sender, key, replaces);
    }

    /// @inheritdoc IConsortium
    function acceptOperator(address member) external {
        OperatorOffer memory offer = _offers[member][msg.sender];
        if (!offer.open) revert ConsortiumNoOperatorOffer(member, msg.sender);
        _checkStatus(member, MemberStatus.Active);
        delete _offers[member][msg.sender];
        if (offer.replaces != address(0)) _removeOperator(member, offer.replaces);
        _addOperator(member, msg.sender);
    }

    /// @inheritdoc IConsortium
    function withdrawOperatorOffer(address key) external onlyMember {
        if (!_offers[msg.sender][key].open) revert ConsortiumNoOperatorOffer(msg.sender, key);
        delete _offers[msg.sender][key];
        emit OperatorOfferWithdrawn(msg.sender, key);
    }

    /// @inheritdoc IConsortium
    function removeOperator(address key) external onlyMember {
        _removeOperator(msg.sender, key);
    }

    /// @inheritdoc IConsortium
    function updateProfile(string calldata name, string calldata uri) external onlyActiveMember {
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
        return _hasApproved(proposalId, _proposals[proposalId], member);
    }

    /// @inheritdoc IConsortium
    function approvers(uint256 proposalId) external view returns (address[] memory list) {
        Proposal storage p = _proposals[proposalId];
        list = new address[](p.approvals);
        for (uint256 i = 0; i < list.length; ++i) {
            list[i] = _approverAt(proposalId, p, i);
        }
    }

    /// @inheritdoc IConsortium
    function countedApprovals(uint256 proposalId) external view returns (uint256) {
        return _countApprovals(proposalId, _proposals[proposalId], _MAX_COUNCIL);
    }

    /// @inheritdoc IConsortium
    function operatorOffer(address member, address key) external view returns (bool, address) {
        OperatorOffer memory offer = _offers[member][key];
        return (offer.open, offer.replaces);
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
    function maxCouncil() external pure returns (uint256) {
        return _MAX_COUNCIL;
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

    /// @dev Reverts if the active council is already at its cap (it is about to grow by one).
    function _checkCouncilRoom() private view {
        if (_councilCount >= _MAX_COUNCIL) revert ConsortiumCouncilFull(_MAX_COUNCIL);
    }

    /// @dev Reverts unless `key` is one of `member`'s operator keys (not the member address itself).
    function _checkOperatorOf(address member, address key) private view {
        if (key == member || _accounts[key].member != member) revert ConsortiumNotOperator(key, member);
    }

    /// @dev Validates a proposal against the current state; run at proposal and again at execution.
    function _checkProposal(ProposalKind kind, address target, uint32 value) private view {
        if (kind == ProposalKind.Admit) _checkAdmit(target, value);
        else if (kind == ProposalKind.Suspend) _checkStatusChange(kind, target, value);
        else if (kind == ProposalKind.Reinstate) _checkStatusChange(kind, target, value);
        else if (kind == ProposalKind.SetRoles) _checkSetRoles(target, value);
        else if (kind == ProposalKind.SetThreshold) _checkSetThreshold(target, value);
        else if (kind == ProposalKind.RemoveOperator) _checkRemoveOperator(target, value);
        else revert ConsortiumInvalidProposal(kind, target, value);
    }

    /// @dev Admit: a new, non-zero account, a valid role bitmap and, for COUNCIL, room in the council.
    function _checkAdmit(address target, uint32 roles) private view {
        _checkNewAccount(target);
        _checkRoles(roles);
        if (_isCouncil(roles)) _checkCouncilRoom();
    }

    /// @dev RemoveOperator: `key` is some member's operator key; value 0.
    function _checkRemoveOperator(address key, uint32 value) private view {
        if (value != 0) revert ConsortiumInvalidProposal(ProposalKind.RemoveOperator, key, value);
        address member = _accounts[key].member;
        if (member == address(0)) revert ConsortiumNotOperator(key, member);
        _checkOperatorOf(member, key);
    }

    /// @dev Suspend needs an Active target, Reinstate a Suspended one; a suspension must leave the council
    /// at least `threshold` strong, a reinstatement must fit under the council cap.
    function _checkStatusChange(ProposalKind kind, address target, uint32 value) private view {
        if (value != 0) revert ConsortiumInvalidProposal(kind, target, value);
        bool suspend = kind == ProposalKind.Suspend;
        Account storage acc = _checkStatus(target, suspend ? MemberStatus.Active : MemberStatus.Suspended);
        if (!_isCouncil(acc.roles)) return;
        if (suspend) _checkCouncilSize(_councilCount - 1);
        else _checkCouncilRoom();
    }

    /// @dev SetRoles: a member target, a valid bitmap that changes something, no council shrink below the
    /// threshold and no growth over the cap.
    function _checkSetRoles(address target, uint32 roles) private view {
        _checkRoles(roles);
        _checkMember(target);
        Account storage acc = _accounts[target];
        if (acc.roles == roles) revert ConsortiumInvalidProposal(ProposalKind.SetRoles, target, roles);
        if (acc.status != MemberStatus.Active || _isCouncil(acc.roles) == _isCouncil(roles)) return;
        if (_isCouncil(roles)) _checkCouncilRoom();
        else _checkCouncilSize(_councilCount - 1);
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

    /// @dev Records `member`'s approval of `proposalId` (the first one is the proposer's, kept in `proposer`).
    function _approve(uint256 proposalId, Proposal storage p, address member) private {
        uint16 recorded = p.approvals;
        if (recorded == _MAX_COUNCIL) revert ConsortiumTooManyApprovals(proposalId, _MAX_COUNCIL);
        if (recorded != 0) _approvers[proposalId][recorded] = member;
        p.approvals = recorded + 1;
        emit ProposalApproved(proposalId, member, recorded + 1);
    }

    /// @dev The member whose approval is recorded at `index` (0: the proposer).
    function _approverAt(uint256 proposalId, Proposal storage p, uint256 index) private view returns (address) {
        return index == 0 ? p.proposer : _approvers[proposalId][index];
    }

    /// @dev Whether `member`'s approval is recorded; reads at most _MAX_COUNCIL entries.
    function _hasApproved(uint256 proposalId, Proposal storage p, address member) private view returns (bool) {
        uint256 recorded = p.approvals;
        for (uint256 i = 0; i < recorded; ++i) {
            if (_approverAt(proposalId, p, i) == member) return true;
        }
        return false;
    }

    /// @dev Recorded approvals of members that are active COUNCIL now, counted up to `enough` (execution
    /// stops at the threshold); reads at most _MAX_COUNCIL entries.
    function _countApprovals(uint256 proposalId, Proposal storage p, uint256 enough)
        private
        view
        returns (uint256 counted)
    {
        uint256 recorded = p.approvals;
        for (uint256 i = 0; i < recorded && counted < enough; ++i) {
            if (_isActiveCouncil(_approverAt(proposalId, p, i))) ++counted;
        }
    }

    /// @dev Carries out an approved, re-validated proposal.
    function _apply(uint256 proposalId, Proposal storage p) private {
        ProposalKind kind = p.kind;
        if (kind == ProposalKind.Admit) _admit(p.target, p.value, p.name, p.uri);
        else if (kind == ProposalKind.Suspend) _setStatus(proposalId, p.target, MemberStatus.Suspended);
        else if (kind == ProposalKind.Reinstate) _setStatus(proposalId, p.target, MemberStatus.Active);
        else if (kind == ProposalKind.SetRoles) _setRoles(p.target, p.value);
        else if (kind == ProposalKind.RemoveOperator) _removeOperator(_accounts[p.target].member, p.target);
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
        _checkOperatorOf(member, key);
        delete _accounts[key];
        --_accounts[member].operatorCount;
        emit OperatorRemoved(member, key);
    }

    function _isCouncil(uint32 roles) private pure returns (bool) {
        return roles & Roles.bit(Roles.COUNCIL) != 0;
    }

    /// @dev Whether member address `member` is Active and holds COUNCIL (one read of its slot).
    function _isActiveCouncil(address member) private view returns (bool) {
        return authorizedMember(member, Roles.COUNCIL) != address(0);
    }

    function _time() private view returns (uint64) {
        return uint64(block.timestamp);
    }

    function _emptyMember() private pure returns (Member memory empty) {}
}
