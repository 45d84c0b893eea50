// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {IERC5267} from "@openzeppelin/contracts/interfaces/IERC5267.sol";
import {IConsentRegistry} from "../interfaces/IConsentRegistry.sol";
import {IConsortium} from "../interfaces/IConsortium.sol";
import {Codes} from "./libraries/Codes.sol";
import {Roles} from "./libraries/Roles.sol";

/// @title ConsentRegistry
/// @notice Patients' consent per (patient, grantee, purpose), granted directly, by a guardian or by EIP-712
/// signature relayed by anyone; break-glass emergency access with council/auditor review. No health data.
/// @dev Gas shape: a consent is one slot (see IConsentRegistry.Consent), so `isPermitted` costs one cold read
/// here plus the consortium's one-read `isActiveMember`. Signatures are checked ECDSA-first (no call on an EOA
/// patient), then by ERC-1271 with this contract's own `_isValidERC1271` (OpenZeppelin 5.7's SignatureChecker
/// uses MCOPY, and the suite targets shanghai: DESIGN §4).
contract ConsentRegistry is IConsentRegistry, Nonces {
    /// @dev A patient's guardian; one slot (20 + 8 bytes).
    struct Guardianship {
        address guardian;
        uint64 until; // last second (inclusive)
    }

    /// @dev The open break-glass access of a hospital to a patient; one slot (8 + 8 bytes).
    struct Access {
        uint64 openingId;
        uint64 expiresAt; // first second without access
    }

    // keccak256("ConsentGrant(address patient,address grantee,uint8 purpose,uint64 dataClasses,uint64 validFrom,uint64 validUntil,uint256 nonce,uint256 deadline)")
    /// @inheritdoc IConsentRegistry
    bytes32 public constant CONSENT_GRANT_TYPEHASH = keccak256(
        "ConsentGrant(address patient,address grantee,uint8 purpose,uint64 dataClasses,uint64 validFrom,uint64 validUntil,uint256 nonce,uint256 deadline)"
    );
    // keccak256("ConsentRevoke(address patient,address grantee,uint8 purpose,uint256 nonce,uint256 deadline)")
    /// @inheritdoc IConsentRegistry
    bytes32 public constant CONSENT_REVOKE_TYPEHASH =
        keccak256("ConsentRevoke(address patient,address grantee,uint8 purpose,uint256 nonce,uint256 deadline)");

    // EIP-712 domain (DESIGN §6.4). Built here rather than with OpenZeppelin's EIP712, whose MessageHashUtils
    // imports Strings -> Bytes (MCOPY, cancun only); the digest is the same bytes.
    string private constant _NAME = "MedChain ConsentRegistry";
    string private constant _VERSION = "1";
    bytes32 private constant _DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");

    /// @inheritdoc IConsentRegistry
    uint64 public constant EMERGENCY_DURATION = 24 hours;
    /// @inheritdoc IConsentRegistry
    uint64 public constant REVIEW_PERIOD = 7 days;


    // packed consent word (see _consents)
    uint256 private constant _GRANTED_AT_SHIFT = 16;
    uint256 private constant _REVOKED_AT_SHIFT = 64;
    uint256 private constant _VALID_FROM_SHIFT = 112;
    uint256 private constant _VALID_UNTIL_SHIFT = 176;
    uint256 private constant _REVOKED_FLAG = 1 << 240; // the current grant is revoked
    uint256 private constant _MASK16 = type(uint16).max;
    uint256 private constant _MASK48 = type(uint48).max;
    uint256 private constant _MASK64 = type(uint64).max;

    IConsortium private immutable _consortium;
    // the domain separator at deployment, rebuilt if the chain id changes (a fork) or for a delegatecall
    bytes32 private immutable _cachedDomainSeparator;
    uint256 private immutable _cachedChainId;
    address private immutable _cachedThis;

    /// @dev A consent as one packed word (IConsentRegistry.Consent's layout, low bits first): dataClasses
    /// [0, 16), grantedAt [16, 64), revokedAt [64, 112) = the latest revocation (kept when granted again),
    /// validFrom [112, 176), validUntil [176, 240), bit 240 = the current grant is revoked.
    /// Kept as a raw word so a grant is a single SSTORE (Solidity writes a struct field by field) and
    /// `isPermitted` decodes it with a few shifts. Zero = never granted (grantedAt is never 0).
    mapping(address patient => mapping(address grantee => mapping(uint8 purpose => uint256))) private _consents;
    mapping(address patient => Guardianship) private _guardians;
    mapping(address patient => mapping(address hospital => Access)) private _access;
    mapping(uint256 openingId => Opening) private _openings;
    mapping(address hospital => uint256) private _unjustified;

    // one slot: 8 + 8 bytes
    uint64 private _openingCount;
    uint64 private _pendingReviews;

    constructor(IConsortium consortium_) {
        if (address(consortium_) == address(0)) revert ConsentZeroAddress();
        _consortium = consortium_;
        _cachedChainId = block.chainid;
        _cachedThis = address(this);
        _cachedDomainSeparator = _buildDomainSeparator();
    }

    // ---- consent: patient ----

    /// @inheritdoc IConsentRegistry
    function grant(address grantee, uint8 purpose, uint64 dataClasses, uint64 validFrom, uint64 validUntil)
        external
    {
        _grant(msg.sender, grantee, purpose, dataClasses, validFrom, validUntil, msg.sender);
    }

    /// @inheritdoc IConsentRegistry
    function revoke(address grantee, uint8 purpose) external {
        _revoke(msg.sender, grantee, purpose, msg.sender);
    }

    /// @inheritdoc IConsentRegistry
    function invalidateNonce(address patient) external returns (uint256) {
        if (msg.sender != patient) _checkGuardian(patient);
        uint256 nonce = _useNonce(patient);
        emit NonceInvalidated(patient, nonce);
        if (msg.sender != patient) emit GuardianActed(patient, msg.sender);
        return nonce + 1;
    }

    // ---- consent: guardian ----

    /// @inheritdoc IConsentRegistry
    function grantAsGuardian(
        address patient,
        address grantee,
        uint8 purpose,
        uint64 dataClasses,
        uint64 validFrom,
        uint64 validUntil
    ) external {
        _checkGuardian(patient);
        _grant(patient, grantee, purpose, dataClasses, validFrom, validUntil, msg.sender);
    }

    /// @inheritdoc IConsentRegistry
    function revokeAsGuardian(address patient, address grantee, uint8 purpose) external {
        _checkGuardian(patient);
        _revoke(patient, grantee, purpose, msg.sender);
    }

    // ---- consent: signatures ----

    /// @inheritdoc IConsentRegistry
    function grantBySig(
        address patient,
        address grantee,
        uint8 purpose,
        uint64 dataClasses,
        uint64 validFrom,
        uint64 validUntil,
        uint256 deadline,
        bytes calldata signature
    ) external {
        if (block.timestamp > deadline) revert ConsentSignatureExpired(deadline, block.timestamp);
        bytes32 structHash =
            _grantStructHash(patient, grantee, purpose, dataClasses, validFrom, validUntil, deadline);
        address actor = _checkSigner(patient, structHash, signature);
        _grant(patient, grantee, purpose, dataClasses, validFrom, validUntil, actor);
    }

    /// @inheritdoc IConsentRegistry
    function revokeBySig(address patient, address grantee, uint8 purpose, uint256 deadline, bytes calldata signature)
        external
    {
        if (block.timestamp > deadline) revert ConsentSignatureExpired(deadline, block.timestamp);
        bytes32 structHash = keccak256(
            abi.encode(CONSENT_REVOKE_TYPEHASH, patient, grantee, purpose, _useNonce(patient), deadline)
        );
        address actor = _checkSigner(patient, structHash, signature);
        _revoke(patient, grantee, purpose, actor);
    }

    // ---- guardians ----

    /// @inheritdoc IConsentRegistry
    function setGuardian(address guardian, uint64 until) external {
        if (guardian == address(0) || guardian == msg.sender || until <= _time()) {
            revert ConsentInvalidGuardian(guardian, until);
        }
        _guardians[msg.sender] = Guardianship(guardian, until);
        emit GuardianSet(msg.sender, guardian, until);
    }

    /// @inheritdoc IConsentRegistry
    function removeGuardian() external {
        address guardian = _guardians[msg.sender].guardian;
        if (guardian == address(0)) revert ConsentNoGuardian(msg.sender);
        delete _guardians[msg.sender];
        emit GuardianRemoved(msg.sender, guardian);
    }

    // ---- break-glass ----

    /// @inheritdoc IConsentRegistry
    function openEmergency(address patient, uint8 reasonCode, bytes32 justificationHash) external returns (uint256) {
        address hospital = _checkRole(msg.sender, Roles.HOSPITAL);
        if (patient == address(0)) revert ConsentZeroAddress();
        if (reasonCode == 0 || justificationHash == bytes32(0)) {
            revert EmergencyInvalidRequest(reasonCode, justificationHash);
        }
        Access memory open = _access[patient][hospital];
        if (open.expiresAt > _time()) revert EmergencyAlreadyOpen(patient, hospital, open.openingId);
        uint64 openingId = ++_openingCount;
        ++_pendingReviews;
        uint64 expiresAt = _time() + EMERGENCY_DURATION;
        _openings[openingId] = Opening({
            patient: patient,
            openedAt: _time(),
            reasonCode: reasonCode,
            review: Review.Pending,
            hospital: hospital,
            expiresAt: expiresAt,
            reviewer: address(0),
            reviewedAt: 0,
            justificationHash: justificationHash
        });
        _access[patient][hospital] = Access(openingId, expiresAt);
        emit EmergencyOpened(openingId, patient, hospital, reasonCode, justificationHash, expiresAt, msg.sender);
        return openingId;
    }

    /// @inheritdoc IConsentRegistry
    function closeEmergency(uint256 openingId) external {
        address hospital = _checkRole(msg.sender, Roles.HOSPITAL);
        Opening storage opening = _opening(openingId);
        if (opening.hospital != hospital) revert EmergencyNotOpener(openingId, hospital);
        if (opening.expiresAt <= _time()) revert EmergencyNotOpen(openingId, opening.expiresAt);
        opening.expiresAt = _time();
        delete _access[opening.patient][hospital];
        emit EmergencyClosed(openingId, opening.patient, hospital);
    }

    /// @inheritdoc IConsentRegistry
    function reviewEmergency(uint256 openingId, bool justified) external {
        address reviewer = _consortium.authorizedMember(msg.sender, Roles.COUNCIL);
        if (reviewer == address(0)) reviewer = _checkRole(msg.sender, Roles.AUDITOR);
        Opening storage opening = _opening(openingId);
        if (opening.review != Review.Pending) revert EmergencyAlreadyReviewed(openingId, opening.review);
        if (opening.hospital == reviewer) revert EmergencySelfReview(openingId, reviewer);
        Review review = justified ? Review.Justified : Review.Unjustified;
        (opening.review, opening.reviewer, opening.reviewedAt) = (review, reviewer, _time());
        --_pendingReviews; // the opening was pending, so the counter is at least 1
        if (!justified) ++_unjustified[opening.hospital];
        emit EmergencyReviewed(openingId, opening.patient, opening.hospital, review, reviewer);
    }

    // ---- views ----

    /// @inheritdoc IConsentRegistry
    function isPermitted(address patient, address grantee, uint8 purpose, uint64 dataClasses)
        external
        view
        returns (bool)
    {
        if (!_consentPermits(_consents[patient][grantee][purpose], dataClasses)) {
            if (purpose != Codes.EMERGENCY || !_emergencyPermits(patient, grantee, dataClasses)) return false;
        }
        return _isActiveMember(grantee);
    }

    /// @inheritdoc IConsentRegistry
    function getConsent(address patient, address grantee, uint8 purpose) external view returns (Consent memory) {
        uint256 word = _consents[patient][grantee][purpose];
        return Consent({
            dataClasses: uint16(word & _MASK16),
            grantedAt: uint48((word >> _GRANTED_AT_SHIFT) & _MASK48),
            revokedAt: word & _REVOKED_FLAG != 0 ? uint48((word >> _REVOKED_AT_SHIFT) & _MASK48) : 0,
            validFrom: uint64((word >> _VALID_FROM_SHIFT) & _MASK64),
            validUntil: uint64((word >> _VALID_UNTIL_SHIFT) & _MASK64)
        });
    }

    /// @inheritdoc IConsentRegistry
    function lastRevokedAt(address patient, address grantee, uint8 purpose) external view returns (uint64) {
        return uint64((_consents[patient][grantee][purpose] >> _REVOKED_AT_SHIFT) & _MASK48);
    }

    /// @inheritdoc IConsentRegistry
    function guardianOf(address patient) external view returns (address, uint64) {
        Guardianship memory g = _guardians[patient];
        return (g.guardian, g.until);
    }

    /// @inheritdoc IConsentRegistry
    function activeGuardian(address patient) external view returns (address) {
        Guardianship memory g = _guardians[patient];
        return g.until >= _time() ? g.guardian : address(0);
    }

    /// @inheritdoc IConsentRegistry
    function nonces(address patient) public view override(IConsentRegistry, Nonces) returns (uint256) {
        return super.nonces(patient);
    }

    /// @inheritdoc IConsentRegistry
    // solhint-disable-next-line func-name-mixedcase
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparator();
    }

    /// @inheritdoc IERC5267
    function eip712Domain()
        external
        view
        returns (
            bytes1 fields,
            string memory name,
            string memory version,
            uint256 chainId,
            address verifyingContract,
            bytes32 salt,
            uint256[] memory extensions
        )
    {
        // 0x0f: name, version, chainId and verifyingContract are set; no salt, no extensions
        return (hex"0f", _NAME, _VERSION, block.chainid, address(this), bytes32(0), new uint256[](0));
    }

    /// @inheritdoc IConsentRegistry
    function consortium() external view returns (IConsortium) {
        return _consortium;
    }

    /// @inheritdoc IConsentRegistry
    function getOpening(uint256 openingId) external view returns (Opening memory) {
        return _opening(openingId);
    }

    /// @inheritdoc IConsentRegistry
    function openingCount() external view returns (uint256) {
        return _openingCount;
    }

    /// @inheritdoc IConsentRegistry
    function pendingReviewCount() external view returns (uint256) {
        return _pendingReviews;
    }

    /// @inheritdoc IConsentRegistry
    function unjustifiedCount(address hospital) external view returns (uint256) {
        return _unjustified[hospital];
    }

    /// @inheritdoc IConsentRegistry
    function activeEmergency(address patient, address hospital) external view returns (uint256, uint64) {
        Access memory open = _access[patient][hospital];
        return open.expiresAt > _time() ? (uint256(open.openingId), open.expiresAt) : (0, 0);
    }

    /// @inheritdoc IConsentRegistry
    function isOverdue(uint256 openingId) external view returns (bool) {
        return _isOverdue(_opening(openingId));
    }

    /// @inheritdoc IConsentRegistry
    function overdueOpenings(uint256 fromId, uint256 count) external view returns (uint256[] memory ids) {
        uint256 last = _openingCount;
        if (fromId == 0) fromId = 1;
        uint256 span = fromId > last ? 0 : last - fromId + 1;
        if (count < span) span = count;
        ids = new uint256[](span);
        uint256 found;
        for (uint256 id = fromId; id < fromId + span; ++id) {
            if (_isOverdue(_openings[id])) ids[found++] = id;
        }
        // Shrink the array in place to the ids found (found <= span). Measured on 10 openings, 7 overdue: a
        // call costs 51,809 gas this way and 53,138 when copying into a second array (saves 1,329 = 2.5%).
        assembly ("memory-safe") {
            mstore(ids, found)
        }
    }

    // ---- private ----

    /// @dev Validates and stores a grant (replacing any earlier one), then emits ConsentGranted (and
    /// GuardianActed when the actor is not the patient).
    function _grant(
        address patient,
        address grantee,
        uint8 purpose,
        uint64 dataClasses,
        uint64 validFrom,
        uint64 validUntil,
        address actor
    ) private {
        if (grantee == address(0)) revert ConsentZeroAddress();
        unchecked {
            // _checkPurpose inlined (hot path); 0 wraps to 255 and to 2^64 - 1, so one comparison each rejects
            // purpose 0 and > 5, and an empty class bitmap and bits above 10
            if (purpose - 1 >= Codes.MAX_PURPOSE) revert ConsentInvalidPurpose(purpose);
            if (dataClasses - 1 >= Codes.ALL_CLASSES) revert ConsentInvalidDataClasses(dataClasses);
        }
        if (validUntil != 0 && (validUntil < validFrom || validUntil < _time())) {
            revert ConsentInvalidPeriod(validFrom, validUntil);
        }
        // dataClasses <= Codes.ALL_CLASSES fits 16 bits; block time fits 48 bits until the year 8,000,000. The time of
        // the latest revocation stays (history); the revoked flag is cleared for the new grant.
        mapping(uint8 => uint256) storage byPurpose = _consents[patient][grantee];
        uint256 lastRevocation = byPurpose[purpose] & (_MASK48 << _REVOKED_AT_SHIFT);
        byPurpose[purpose] =
            dataClasses |
            (block.timestamp << _GRANTED_AT_SHIFT) |
            lastRevocation |
            (uint256(validFrom) << _VALID_FROM_SHIFT) |
            (uint256(validUntil) << _VALID_UNTIL_SHIFT);
        emit ConsentGranted(patient, grantee, purpose, dataClasses, validFrom, validUntil);
        if (actor != patient) emit GuardianActed(patient, actor);
    }

    /// @dev Marks an existing, unrevoked consent revoked, then emits ConsentRevoked (and GuardianActed when
    /// the actor is not the patient).
    function _revoke(address patient, address grantee, uint8 purpose, address actor) private {
        _checkPurpose(purpose);
        mapping(uint8 => uint256) storage byPurpose = _consents[patient][grantee];
        uint256 word = byPurpose[purpose];
        if (word == 0) revert ConsentNotFound(patient, grantee, purpose);
        if (word & _REVOKED_FLAG != 0) {
            revert ConsentAlreadyRevoked(patient, grantee, purpose, uint64((word >> _REVOKED_AT_SHIFT) & _MASK48));
        }
        // replaces an earlier grant's revocation time (its event stays); fits 48 bits until year 8,000,000
        byPurpose[purpose] =
            (word & ~(_MASK48 << _REVOKED_AT_SHIFT)) |
            (block.timestamp << _REVOKED_AT_SHIFT) |
            _REVOKED_FLAG;
        emit ConsentRevoked(patient, grantee, purpose);
        if (actor != patient) emit GuardianActed(patient, actor);
    }

    /// @dev EIP-712 struct hash of a ConsentGrant, consuming `patient`'s nonce (DESIGN §6.4).
    function _grantStructHash(
        address patient,
        address grantee,
        uint8 purpose,
        uint64 dataClasses,
        uint64 validFrom,
        uint64 validUntil,
        uint256 deadline
    ) private returns (bytes32) {
        return keccak256(
            abi.encode(
                CONSENT_GRANT_TYPEHASH,
                patient,
                grantee,
                purpose,
                dataClasses,
                validFrom,
                validUntil,
                _useNonce(patient),
                deadline
            )
        );
    }

    /// @dev The account that signed the typed data `structHash` for `patient`: the patient (ECDSA, then
    /// ERC-1271), else its guardian (same order), which must still be active. ECDSA goes first so that an EOA
    /// patient costs no EXTCODESIZE; OZ's tryRecover rejects high-s and zero-address results. Nobody holds a
    /// key for a contract wallet's address, so an ECDSA match is always the account's own authority.
    function _checkSigner(address patient, bytes32 structHash, bytes calldata signature)
        private
        view
        returns (address)
    {
        if (patient == address(0)) revert ConsentZeroAddress();
        bytes32 digest = keccak256(abi.encodePacked(hex"1901", _domainSeparator(), structHash));
        (address recovered, , ) = ECDSA.tryRecoverCalldata(digest, signature); // zero on any error
        if (recovered == patient || _isValidERC1271(patient, digest, signature)) {
            return patient;
        }
        Guardianship memory g = _guardians[patient];
        if (
            g.guardian == address(0) ||
            (recovered != g.guardian && !_isValidERC1271(g.guardian, digest, signature))
        ) revert ConsentInvalidSignature(patient, recovered);
        if (g.until < _time()) revert ConsentGuardianExpired(patient, g.guardian, g.until);
        return g.guardian;
    }

    /// @dev ERC-1271: true iff `account` answers `isValidSignature(digest, signature)` with exactly the magic
    /// value (a 32-byte word holding the selector, nothing else). An EOA (no code) answers nothing, a revert
    /// or a short answer is false: the same rule as OpenZeppelin's SignatureChecker, without its MCOPY.
    function _isValidERC1271(address account, bytes32 digest, bytes calldata signature) private view returns (bool) {
        (bool ok, bytes memory answer) = account.staticcall(
            abi.encodeCall(IERC1271.isValidSignature, (digest, signature))
        );
        return ok && answer.length >= 32 && bytes32(answer) == bytes32(IERC1271.isValidSignature.selector);
    }

    function _domainSeparator() private view returns (bytes32) {
        if (address(this) == _cachedThis && block.chainid == _cachedChainId) return _cachedDomainSeparator;
        return _buildDomainSeparator();
    }

    function _buildDomainSeparator() private view returns (bytes32) {
        return keccak256(
            abi.encode(_DOMAIN_TYPEHASH, keccak256(bytes(_NAME)), keccak256(bytes(_VERSION)), block.chainid, address(this))
        );
    }

    /// @dev Reverts unless the caller is `patient`'s guardian and the guardianship lasts now.
    function _checkGuardian(address patient) private view {
        Guardianship memory g = _guardians[patient];
        if (g.guardian != msg.sender) revert ConsentUnauthorized(msg.sender, patient);
        if (g.until < _time()) revert ConsentGuardianExpired(patient, g.guardian, g.until);
    }

    /// @dev The member `account` acts for with `role`; reverts with EmergencyUnauthorized if none.
    function _checkRole(address account, bytes32 role) private view returns (address member) {
        member = _consortium.authorizedMember(account, role);
        if (member == address(0)) revert EmergencyUnauthorized(account, role);
    }

    function _checkPurpose(uint8 purpose) private pure {
        unchecked {
            if (purpose - 1 >= Codes.MAX_PURPOSE) revert ConsentInvalidPurpose(purpose); // 0 wraps to 255
        }
    }

    function _opening(uint256 openingId) private view returns (Opening storage opening) {
        opening = _openings[openingId];
        if (opening.openedAt == 0) revert EmergencyUnknownOpening(openingId);
    }

    /// @dev Every requested class granted (at least one requested), inside the period, not revoked.
    function _consentPermits(uint256 word, uint64 dataClasses) private view returns (bool) {
        uint256 validUntil = (word >> _VALID_UNTIL_SHIFT) & _MASK64; // bit 240 is the revoked flag
        return
            dataClasses != 0 &&
            (word & _MASK16) & dataClasses == dataClasses &&
            word & _REVOKED_FLAG == 0 &&
            (word >> _VALID_FROM_SHIFT) & _MASK64 <= block.timestamp &&
            (validUntil == 0 || block.timestamp <= validUntil);
    }

    /// @dev An open break-glass access of `hospital` to `patient`, for valid classes.
    function _emergencyPermits(address patient, address hospital, uint64 dataClasses) private view returns (bool) {
        return dataClasses != 0 && dataClasses <= Codes.ALL_CLASSES && _access[patient][hospital].expiresAt > _time();
    }

    /// @dev A plain call: the former bare-STATICCALL version saved 234 of 11,724 gas of a true `isPermitted`
    /// (under 2%, so not kept). The consortium is fixed at deployment and its view never reverts.
    function _isActiveMember(address member) private view returns (bool) {
        return _consortium.isActiveMember(member);
    }

    function _isOverdue(Opening storage opening) private view returns (bool) {
        return opening.review == Review.Pending && _time() > opening.openedAt + REVIEW_PERIOD;
    }

    function _time() private view returns (uint64) {
        return uint64(block.timestamp);
    }
}
