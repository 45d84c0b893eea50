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
        SetThreshold // the council threshold becomes `value`
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
        uint16 approvals; // distinct council members that approved
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

    // ---- governance (COUNCIL keys) ----

    /// @notice Proposes a membership or threshold change; the proposer's member approves it at once.
    /// @param kind what to change
    /// @param target the member concerned (zero for SetThreshold)
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

    /// @notice Executes a pending proposal that has at least `threshold()` approvals and has not expired.
    function execute(uint256 proposalId) external;

    /// @notice Cancels a pending proposal; only a key of the proposing member may.
    function cancel(uint256 proposalId) external;

    // ---- member self-service (the member address itself) ----

    /// @notice Adds a staff key acting with the caller's roles. The key must not be registered anywhere.
    function addOperator(address key) external;

    /// @notice Removes one of the caller's operator keys; the key keeps no role from then on.
    function removeOperator(address key) external;

    /// @notice Replaces operator key `oldKey` by `newKey` in one step (key rotation); history stays in events.
    function rotateOperator(address oldKey, address newKey) external;

    /// @notice Updates the caller's public name and endpoint URI.
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

    /// @notice Whether council member `member` approved proposal `proposalId`.
    function hasApproved(uint256 proposalId, address member) external view returns (bool);

    /// @notice Number of proposals ever made (ids run 1..proposalCount).
    function proposalCount() external view returns (uint256);

    /// @notice Approvals needed to execute a proposal.
    function threshold() external view returns (uint256);

    /// @notice Active members holding COUNCIL.
    function councilCount() external view returns (uint256);

    /// @notice Seconds a proposal stays open.
    function proposalLifetime() external view returns (uint64);

    /// @notice The bitmap bit of a role id (0 for an unknown id).
    function roleBit(bytes32 role) external pure returns (uint32);
}
