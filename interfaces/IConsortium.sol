// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title IConsortium
/// @notice The consortium's member and role registry with k-of-n council governance.
/// Stores only institutions' public data: member addresses, role bitmaps, names, endpoint URIs, status,
/// operator keys and governance proposals. Nothing about patients is stored here.
/// @dev Roles are `keccak256("<NAME>")` ids (see contracts/libraries/Roles.sol); internally each member holds
/// a `uint32` bitmap with one bit per role (`roleBit`). A member institution is identified by its member
/// address for ever; staff act through operator keys that the member adds, rotates and removes. Roles are
/// checked on the acting key: an operator key has exactly its member's roles while the member is Active.
///
/// Operator keys join in two transactions, so that no address becomes a key without its own consent (issue
/// 12 item 2): the active member offers the key (`offerOperator`), then the key itself accepts
/// (`acceptOperator`, sent from the key). A transaction from the key was chosen over an EIP-712 signature
/// because it works for every kind of account (EOA or contract wallet), needs no new signed format, and
/// cannot be replayed: the offer is consumed on acceptance. An offer registers nothing, so offering an
/// address (say, one awaiting admission) does not block it. The council removes any member's key through a
/// `RemoveOperator` proposal (k-of-n, like every other membership change: a single council key cannot strip
/// institutions of their staff keys; an urgent case is covered by `Suspend`, which strips every key of the
/// member at once).
///
/// Counting approvals (issue 12 item 1): a proposal keeps the list of members whose approval was recorded
/// (the proposer first). `execute` counts only those that are active COUNCIL members at that moment, so the
/// approval of a member suspended (or stripped of COUNCIL) after approving no longer counts. The loops are
/// bounded: the council holds at most `maxCouncil()` (16) active members, and a proposal records at most
/// `maxCouncil()` approvals.
interface IConsortium {
    enum MemberStatus {
        None, // not a member
        Active,
        Suspended
    }

    enum ProposalKind {
        None,
        Admit, // target joins with roles `value`, name and uri from the proposal
        Suspend, // target loses every role at once (all its keys)
        Reinstate, // a suspended target becomes active again
        SetRoles, // target's role bitmap becomes `value`
        SetThreshold, // the council threshold becomes `value`
        RemoveOperator // operator key `target` is removed from whichever member holds it
    }

    enum ProposalStatus {
        None,
        Pending,
        Executed,
        Cancelled
    }

    struct Member {
        uint32 roles; // role bitmap (bit per role, see roleBit)
        MemberStatus status;
        uint64 admittedAt;
        uint64 updatedAt; // last status or role change
        uint32 operatorCount; // active operator keys
        string name; // public institution name
        string uri; // public off-chain endpoint (FHIR server, EPCIS repository, ...)
    }

    struct Proposal {
        ProposalKind kind;
        ProposalStatus status;
        uint16 approvals; // distinct council members whose approval was recorded (see countedApprovals)
        uint32 value; // roles for Admit/SetRoles, new threshold for SetThreshold
        uint64 createdAt;
        uint64 expiresAt; // approvals and execution refused after this time
        address target; // member concerned (zero for SetThreshold)
        address proposer; // council member that proposed
        string name; // Admit only
        string uri; // Admit only
    }

    // ---- events ----
    event MemberAdmitted(address indexed member, uint32 roles, string name, string uri);
    event MemberSuspended(address indexed member, uint256 indexed proposalId);
    event MemberReinstated(address indexed member, uint256 indexed proposalId);
    event MemberRolesChanged(address indexed member, uint32 previousRoles, uint32 roles);
    event MemberProfileUpdated(address indexed member, string name, string uri);
    /// @notice `member` offered `key` a place as its operator key (replacing `replaces`, zero for none).
    event OperatorOffered(address indexed member, address indexed key, address indexed replaces);
    event OperatorOfferWithdrawn(address indexed member, address indexed key);
    event OperatorAdded(address indexed member, address indexed key);
    event OperatorRemoved(address indexed member, address indexed key);
    event ThresholdChanged(uint256 previousThreshold, uint256 threshold);
    event ProposalCreated(
        uint256 indexed proposalId,
        ProposalKind kind,
        address indexed target,
        uint32 value,
        address indexed proposer,
        uint64 expiresAt
    );
    event ProposalApproved(uint256 indexed proposalId, address indexed member, uint256 approvals);
    event ProposalExecuted(uint256 indexed proposalId, address indexed executor);
    event ProposalCancelled(uint256 indexed proposalId, address indexed member);

    // ---- errors ----
    /// @dev `account` does not hold `role` (or its member is not active).
    error ConsortiumUnauthorized(address account, bytes32 role);
    error ConsortiumZeroAddress();
    error ConsortiumUnknownMember(address member);
    error ConsortiumAlreadyRegistered(address account);
    error ConsortiumUnexpectedMemberStatus(address member, MemberStatus current, MemberStatus expected);
    error ConsortiumInvalidRoles(uint32 roles);
    error ConsortiumInvalidThreshold(uint256 threshold, uint256 councilCount);
    error ConsortiumInvalidProposal(ProposalKind kind, address target, uint32 value);
    error ConsortiumUnknownProposal(uint256 proposalId);
    error ConsortiumUnexpectedProposalStatus(uint256 proposalId, ProposalStatus current, ProposalStatus expected);
    error ConsortiumProposalExpired(uint256 proposalId, uint64 expiresAt);
    error ConsortiumAlreadyApproved(uint256 proposalId, address member);
    error ConsortiumInsufficientApprovals(uint256 proposalId, uint256 approvals, uint256 threshold);
    error ConsortiumNotProposer(uint256 proposalId, address account);
    error ConsortiumNotOperator(address key, address member);
    /// @dev `member` has no open offer for `key`.
    error ConsortiumNoOperatorOffer(address member, address key);
    /// @dev The change would make the active council larger than `max` (see maxCouncil).
    error ConsortiumCouncilFull(uint256 max);
    /// @dev Proposal `proposalId` already holds the most approvals a proposal records (`max`).
    error ConsortiumTooManyApprovals(uint256 proposalId, uint256 max);

    // ---- governance (COUNCIL keys) ----

    /// @notice Proposes a membership, key or threshold change; the proposer's member approves it at once.
    /// @param kind what to change
    /// @param target the member concerned (zero for SetThreshold; the operator key for RemoveOperator)
    /// @param value roles bitmap (Admit, SetRoles) or new threshold (SetThreshold); 0 otherwise
    /// @param name institution name (Admit only, else empty)
    /// @param uri institution endpoint URI (Admit only, else empty)
    /// @return proposalId the new proposal's id (1, 2, ...)
    function propose(ProposalKind kind, address target, uint32 value, string calldata name, string calldata uri)
        external
        returns (uint256 proposalId);

    /// @notice Approves a pending, unexpired proposal on behalf of the caller's council member.
    /// Each council member approves once, whichever of its keys it uses.
    function approve(uint256 proposalId) external;

    /// @notice Executes a pending, unexpired proposal that has at least `threshold()` approvals from members
    /// who are active COUNCIL now (`countedApprovals`); approvals of members suspended or stripped of
    /// COUNCIL since do not count. Bounded: at most `maxCouncil()` recorded approvals are read.
    function execute(uint256 proposalId) external;

    /// @notice Cancels a pending proposal. A key of the proposing member may always; any active COUNCIL key
    /// may once the proposer is no longer an active COUNCIL member (so a suspended member's proposal can be
    /// stopped). Anyone else reverts with ConsortiumNotProposer.
    function cancel(uint256 proposalId) external;

    // ---- member self-service (the member address itself) ----

    /// @notice Offers `key` a place as a staff key acting with the caller's roles; it joins only when the key
    /// itself calls `acceptOperator(caller)`. With `replaces` non-zero (one of the caller's keys) this is a
    /// rotation: acceptance removes `replaces` in the same transaction. Only an Active member address may
    /// offer; `key` must not be registered anywhere. A new offer to the same key replaces the old one.
    function offerOperator(address key, address replaces) external;

    /// @notice Sent by the offered key: accepts `member`'s open offer and joins as its operator key (removing
    /// the key the offer replaces, if any). `member` must still be Active and the key still unregistered.
    function acceptOperator(address member) external;

    /// @notice Withdraws the caller's open offer to `key` (a member address, any status).
    function withdrawOperatorOffer(address key) external;

    /// @notice Removes one of the caller's operator keys (a member address, any status: removing only takes
    /// power away); the key keeps no role from then on.
    function removeOperator(address key) external;

    /// @notice Updates the caller's public name and endpoint URI; only an Active member address may.
    function updateProfile(string calldata name, string calldata uri) external;

    // ---- views ----

    /// @notice True if `account` (a member address or one of its operator keys) holds `role` and its member
    /// is Active. The one question other contracts ask.
    function isAuthorized(address account, bytes32 role) external view returns (bool);

    /// @notice The member that `account` acts for if it holds `role` and the member is Active, else zero.
    /// Lets a contract check a role and learn the institution in one call.
    function authorizedMember(address account, bytes32 role) external view returns (address);

    /// @notice True if `member` is a member address (not an operator key) whose status is Active. One read.
    function isActiveMember(address member) external view returns (bool);

    /// @notice The member behind `account` (itself, or the member of an operator key), whatever its status;
    /// zero if `account` is unknown.
    function memberOf(address account) external view returns (address);

    /// @notice A member's record.
    function getMember(address member) external view returns (Member memory);

    /// @notice A proposal's record.
    function getProposal(uint256 proposalId) external view returns (Proposal memory);

    /// @notice Whether council member `member`'s approval of proposal `proposalId` is recorded.
    function hasApproved(uint256 proposalId, address member) external view returns (bool);

    /// @notice The members whose approvals of `proposalId` are recorded, the proposer first (at most
    /// `maxCouncil()`).
    function approvers(uint256 proposalId) external view returns (address[] memory);

    /// @notice The recorded approvals of `proposalId` that count now: those of active COUNCIL members.
    function countedApprovals(uint256 proposalId) external view returns (uint256);

    /// @notice `member`'s open offer to `key`: whether there is one, and the key it would replace (or zero).
    function operatorOffer(address member, address key) external view returns (bool offered, address replaces);

    /// @notice Number of proposals ever made (ids run 1..proposalCount).
    function proposalCount() external view returns (uint256);

    /// @notice Approvals needed to execute a proposal.
    function threshold() external view returns (uint256);

    /// @notice Active members holding COUNCIL.
    function councilCount() external view returns (uint256);

    /// @notice The most active COUNCIL members there can be (16), which bounds approval counting.
    function maxCouncil() external pure returns (uint256);

    /// @notice Seconds a proposal stays open.
    function proposalLifetime() external view returns (uint64);

    /// @notice The bitmap bit of a role id (0 for an unknown id).
    function roleBit(bytes32 role) external pure returns (uint32);
}
