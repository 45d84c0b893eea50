// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {IERC5267} from "@openzeppelin/contracts/interfaces/IERC5267.sol";
import {IConsortium} from "./IConsortium.sol";

/// @title IConsentRegistry
/// @notice Patients' consent to consortium members, per (patient, grantee, purpose), and break-glass
/// emergency access. Stores only addresses, purpose codes, data-class bitmaps, times, nonces, reason codes and
/// a hash of each emergency justification: no health data and nothing that describes a patient beyond the
/// address the patient controls. Every change is an event, so the full history (grants, updates,
/// revocations, guardians, emergencies, reviews) can be rebuilt from logs; nothing is ever deleted from
/// history.
/// @dev Codes (DESIGN §6.2): purpose 1 TREATMENT, 2 CLAIM, 3 RESEARCH, 4 EMERGENCY, 5 PUBLIC_HEALTH (0 and > 5
/// invalid); data class = bit index 0..10 of a `uint64` bitmap (SUMMARY .. INFECTIOUS_DISEASE), higher bits
/// invalid. A grantee is a consortium member address (not an operator key).
///
/// Signed consent (DESIGN §6.4, EIP-712 domain `name = "MedChain ConsentRegistry"`, `version = "1"`, chainId,
/// verifyingContract = this registry):
/// `ConsentGrant(address patient,address grantee,uint8 purpose,uint64 dataClasses,uint64 validFrom,uint64 validUntil,uint256 nonce,uint256 deadline)`
/// `ConsentRevoke(address patient,address grantee,uint8 purpose,uint256 nonce,uint256 deadline)`
/// `nonce` must equal `nonces(patient)` and is consumed on use; `deadline` is inclusive and checked first.
/// The message always names the patient; the signature may come from the patient or from the patient's
/// guardian while the guardianship lasts. It is checked against the patient first (ECDSA, then ERC-1271
/// `isValidSignature` for a contract wallet), then against the active guardian the same way. ECDSA
/// signatures are the 65-byte `r || s || v` form with low `s` (malleable high-`s` copies and signatures that
/// recover to the zero address are rejected).
interface IConsentRegistry is IERC5267 {
    /// @notice One consent. All fields in one storage slot (16 + 48 + 48 + 64 + 64 = 240 bits), so
    /// `isPermitted` reads a single slot.
    /// @dev Granting again overwrites the classes and period and sets `grantedAt`; `revokedAt` then reads 0
    /// again (it is the revocation of the current grant), but the time of the latest revocation stays in
    /// storage and is returned by `lastRevokedAt` (every revocation is also a ConsentRevoked event).
    /// `dataClasses` is stored in 16 bits because only bits 0..10 are valid; the stamps are block times in
    /// 48 bits (enough until the year 8,000,000) so that both fit beside the two user-chosen `uint64` times.
    struct Consent {
        uint16 dataClasses; // granted data classes (bitmap, bits 0..10)
        uint48 grantedAt; // block time of the latest grant or update; 0 = never granted
        uint48 revokedAt; // block time of the current grant's revocation; 0 = not revoked
        uint64 validFrom; // first second the consent applies
        uint64 validUntil; // last second the consent applies (inclusive); 0 = no end
    }

    /// @notice Outcome of a council/auditor review of a break-glass opening.
    enum Review {
        Pending, // not reviewed yet
        Justified,
        Unjustified
    }

    /// @notice One break-glass opening. Access for purpose EMERGENCY lasts from `openedAt` until just before
    /// `expiresAt` (at most EMERGENCY_DURATION; earlier if the hospital closed it).
    struct Opening {
        address patient; // slot 0: 20 + 8 + 1 + 1 bytes
        uint64 openedAt;
        uint8 reasonCode; // hospital's reason code (non-zero; meaning agreed off chain)
        Review review;
        address hospital; // slot 1: 20 + 8 bytes — the member institution that opened it
        uint64 expiresAt; // first second without access
        address reviewer; // slot 2: 20 + 8 bytes — the council/auditor member that reviewed it
        uint64 reviewedAt;
        bytes32 justificationHash; // slot 3: hash of the off-chain justification document
    }

    // ---- events ----

    /// @notice Consent granted or updated (the new classes and period replace the old ones).
    /// @dev `purpose` is not indexed: filter by patient or grantee (a topic costs 119 gas more than a data word
    /// on every grant and revocation, the suite's most frequent writes).
    event ConsentGranted(
        address indexed patient,
        address indexed grantee,
        uint8 purpose,
        uint64 dataClasses,
        uint64 validFrom,
        uint64 validUntil
    );

    /// @notice Consent revoked (the record stays, with `revokedAt` set).
    event ConsentRevoked(address indexed patient, address indexed grantee, uint8 purpose);

    /// @notice The patient's nonce `nonce` was consumed without use: signatures made for it are void.
    event NonceInvalidated(address indexed patient, uint256 nonce);

    /// @notice Emitted right after a ConsentGranted, ConsentRevoked or NonceInvalidated that `guardian`
    /// (not the patient) authorised, directly or by signature. Absent when the patient acted itself, so the
    /// common path pays for no extra log data.
    event GuardianActed(address indexed patient, address indexed guardian);

    /// @notice `patient` appointed `guardian` until `until` (inclusive), replacing any previous guardian.
    event GuardianSet(address indexed patient, address indexed guardian, uint64 until);

    /// @notice `patient` removed `guardian`.
    event GuardianRemoved(address indexed patient, address indexed guardian);

    /// @notice A hospital opened break-glass access to `patient`'s data for purpose EMERGENCY.
    /// `operator` is the key that acted for the `hospital` member.
    event EmergencyOpened(
        uint256 indexed openingId,
        address indexed patient,
        address indexed hospital,
        uint8 reasonCode,
        bytes32 justificationHash,
        uint64 expiresAt,
        address operator
    );

    /// @notice The opening hospital ended an emergency access before its expiry.
    event EmergencyClosed(uint256 indexed openingId, address indexed patient, address indexed hospital);

    /// @notice A council or auditor member reviewed an opening.
    event EmergencyReviewed(
        uint256 indexed openingId,
        address indexed patient,
        address indexed hospital,
        Review review,
        address reviewer
    );

    // ---- errors ----

    /// @dev A zero address was given where an account is required.
    error ConsentZeroAddress();
    /// @dev `purpose` is 0 or above 5.
    error ConsentInvalidPurpose(uint8 purpose);
    /// @dev `dataClasses` is empty or sets a bit above 10.
    error ConsentInvalidDataClasses(uint64 dataClasses);
    /// @dev `validUntil` is before `validFrom`, or already past.
    error ConsentInvalidPeriod(uint64 validFrom, uint64 validUntil);
    /// @dev No consent was ever granted for (patient, grantee, purpose).
    error ConsentNotFound(address patient, address grantee, uint8 purpose);
    /// @dev The consent was already revoked at `revokedAt`.
    error ConsentAlreadyRevoked(address patient, address grantee, uint8 purpose, uint64 revokedAt);
    /// @dev `account` may not act for `patient` (it is neither the patient nor its guardian).
    error ConsentUnauthorized(address account, address patient);
    /// @dev The signature's deadline has passed.
    error ConsentSignatureExpired(uint256 deadline, uint256 timestamp);
    /// @dev The signature is from neither the patient nor an active guardian; `recovered` is the ECDSA
    /// signer (zero if none could be recovered).
    error ConsentInvalidSignature(address patient, address recovered);
    /// @dev `guardian`'s guardianship of `patient` ended at `until`.
    error ConsentGuardianExpired(address patient, address guardian, uint64 until);
    /// @dev `guardian` cannot be appointed until `until` (zero, the patient itself, or `until` not in the future).
    error ConsentInvalidGuardian(address guardian, uint64 until);
    /// @dev `patient` has no guardian.
    error ConsentNoGuardian(address patient);
    /// @dev `account` does not hold `role` in the consortium.
    error EmergencyUnauthorized(address account, bytes32 role);
    /// @dev A break-glass opening needs a non-zero reason code and justification hash.
    error EmergencyInvalidRequest(uint8 reasonCode, bytes32 justificationHash);
    /// @dev `hospital` already has open access to `patient` through `openingId`.
    error EmergencyAlreadyOpen(address patient, address hospital, uint256 openingId);
    /// @dev No opening has id `openingId`.
    error EmergencyUnknownOpening(uint256 openingId);
    /// @dev The opening's access already ended at `expiresAt`.
    error EmergencyNotOpen(uint256 openingId, uint64 expiresAt);
    /// @dev `member` is not the hospital that made the opening.
    error EmergencyNotOpener(uint256 openingId, address member);
    /// @dev The opening was already reviewed (`review`).
    error EmergencyAlreadyReviewed(uint256 openingId, Review review);
    /// @dev A member may not review its own opening.
    error EmergencySelfReview(uint256 openingId, address member);

    // ---- consent: patient ----

    /// @notice Grants (or replaces) the caller's consent to `grantee` for `purpose`.
    /// @dev Reverts with ConsentZeroAddress, ConsentInvalidPurpose, ConsentInvalidDataClasses or
    /// ConsentInvalidPeriod. Granting again replaces the classes and the period and ends a revocation (whose
    /// time stays readable through `lastRevokedAt`).
    /// The grantee need not be a member now; `isPermitted` checks membership at the time of use.
    /// @param grantee the member institution receiving consent
    /// @param purpose purpose code 1..5
    /// @param dataClasses non-empty bitmap of data classes (bits 0..10)
    /// @param validFrom first second the consent applies (0 = at once)
    /// @param validUntil last second the consent applies, inclusive; 0 = no end; else ≥ validFrom and ≥ now
    function grant(address grantee, uint8 purpose, uint64 dataClasses, uint64 validFrom, uint64 validUntil)
        external;

    /// @notice Revokes the caller's consent to `grantee` for `purpose`, keeping the record (`revokedAt`).
    /// @dev Reverts with ConsentInvalidPurpose, ConsentNotFound or ConsentAlreadyRevoked.
    /// @param grantee the member institution whose consent ends
    /// @param purpose purpose code 1..5
    function revoke(address grantee, uint8 purpose) external;

    /// @notice Consumes `patient`'s current nonce, voiding every signature made for it.
    /// @dev Callable by the patient or its active guardian (else ConsentUnauthorized /
    /// ConsentGuardianExpired). Signatures are only ever valid for the current nonce, so the tooling's
    /// outstanding signatures all die at once; one signed in advance for a later nonce needs one call per nonce.
    /// @param patient the patient whose nonce to consume
    /// @return the patient's new nonce
    function invalidateNonce(address patient) external returns (uint256);

    // ---- consent: guardian ----

    /// @notice Grants consent for `patient` as its active guardian (same rules as `grant`); emits
    /// ConsentGranted then GuardianActed.
    /// @dev Reverts with ConsentUnauthorized if the caller is not the patient's guardian, or
    /// ConsentGuardianExpired after the guardianship ended, then as `grant`.
    /// @param patient the patient the caller is guardian of
    /// @param grantee the member institution receiving consent
    /// @param purpose purpose code 1..5
    /// @param dataClasses non-empty bitmap of data classes (bits 0..10)
    /// @param validFrom first second the consent applies (0 = at once)
    /// @param validUntil last second the consent applies, inclusive; 0 = no end
    function grantAsGuardian(
        address patient,
        address grantee,
        uint8 purpose,
        uint64 dataClasses,
        uint64 validFrom,
        uint64 validUntil
    ) external;

    /// @notice Revokes consent for `patient` as its active guardian (same rules as `revoke`); emits
    /// ConsentRevoked then GuardianActed.
    /// @param patient the patient the caller is guardian of
    /// @param grantee the member institution whose consent ends
    /// @param purpose purpose code 1..5
    function revokeAsGuardian(address patient, address grantee, uint8 purpose) external;

    // ---- consent: signatures (relayed by anyone) ----

    /// @notice Grants consent with an EIP-712 `ConsentGrant` signature by the patient or its guardian,
    /// using and consuming nonce `nonces(patient)`.
    /// @dev Checks in order: deadline (ConsentSignatureExpired), signer (ConsentZeroAddress for a zero
    /// patient, ConsentInvalidSignature, ConsentGuardianExpired), then the `grant` rules. A guardian's signature
    /// also emits GuardianActed.
    /// @param patient the patient the message names (the consent's owner, whoever signed)
    /// @param grantee the member institution receiving consent
    /// @param purpose purpose code 1..5
    /// @param dataClasses non-empty bitmap of data classes (bits 0..10)
    /// @param validFrom first second the consent applies (0 = at once)
    /// @param validUntil last second the consent applies, inclusive; 0 = no end
    /// @param deadline last second (inclusive) the signature may be used
    /// @param signature 65-byte `r || s || v` ECDSA signature, or any bytes an ERC-1271 wallet accepts
    function grantBySig(
        address patient,
        address grantee,
        uint8 purpose,
        uint64 dataClasses,
        uint64 validFrom,
        uint64 validUntil,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /// @notice Revokes consent with an EIP-712 `ConsentRevoke` signature by the patient or its guardian,
    /// using and consuming nonce `nonces(patient)`. Same checks as `grantBySig`, then the `revoke` rules.
    /// @param patient the patient the message names
    /// @param grantee the member institution whose consent ends
    /// @param purpose purpose code 1..5
    /// @param deadline last second (inclusive) the signature may be used
    /// @param signature 65-byte `r || s || v` ECDSA signature, or any bytes an ERC-1271 wallet accepts
    function revokeBySig(address patient, address grantee, uint8 purpose, uint256 deadline, bytes calldata signature)
        external;

    // ---- guardians ----

    /// @notice Appoints `guardian` to act for the caller until `until` (inclusive), replacing any previous one.
    /// @dev Reverts with ConsentInvalidGuardian for the zero address, the caller itself or `until` ≤ now.
    /// @param guardian the account (EOA or ERC-1271 wallet) that may grant and revoke for the caller
    /// @param until last second (inclusive) the guardian may act
    function setGuardian(address guardian, uint64 until) external;

    /// @notice Removes the caller's guardian (ConsentNoGuardian if there is none, even an expired one).
    function removeGuardian() external;

    // ---- break-glass ----

    /// @notice Opens emergency access (purpose EMERGENCY, every data class) to `patient` for the caller's
    /// hospital for EMERGENCY_DURATION. The caller must hold HOSPITAL (a member or operator key).
    /// @dev Reverts with EmergencyUnauthorized, ConsentZeroAddress, EmergencyInvalidRequest or
    /// EmergencyAlreadyOpen (one open access per patient and hospital).
    /// @param patient the patient whose data the hospital needs in the emergency
    /// @param reasonCode non-zero reason code
    /// @param justificationHash hash of the off-chain justification (never the justification itself)
    /// @return openingId the new opening's id (1, 2, ...)
    function openEmergency(address patient, uint8 reasonCode, bytes32 justificationHash)
        external
        returns (uint256 openingId);

    /// @notice Ends an open emergency access early; only a HOSPITAL key of the opening member may.
    /// @dev Reverts with EmergencyUnauthorized, EmergencyUnknownOpening, EmergencyNotOpener or EmergencyNotOpen.
    /// @param openingId the opening to end
    function closeEmergency(uint256 openingId) external;

    /// @notice Records the review of an opening, once. The caller must hold COUNCIL or AUDITOR and may not
    /// review its own member's opening.
    /// @dev Reverts with EmergencyUnauthorized (role reported: AUDITOR), EmergencyUnknownOpening,
    /// EmergencyAlreadyReviewed or EmergencySelfReview.
    /// @param openingId the opening reviewed
    /// @param justified true = Justified, false = Unjustified (counts against the hospital)
    function reviewEmergency(uint256 openingId, bool justified) external;

    // ---- views ----

    /// @notice True if `patient` currently permits `grantee` to use `dataClasses` for `purpose`: every
    /// requested class is granted (`dataClasses` non-empty), now is within [validFrom, validUntil] (validUntil
    /// 0 = no end), the consent is not revoked, and `grantee` is an active consortium member. For purpose
    /// EMERGENCY it is also true (for any valid classes) while a break-glass opening by `grantee` for
    /// `patient` is open. Invalid purposes or classes give false, never a revert.
    /// @param patient the patient whose data is asked for
    /// @param grantee the member institution asking (a member address, not an operator key)
    /// @param purpose purpose code
    /// @param dataClasses bitmap of the data classes needed (all must be covered)
    /// @return whether the use is permitted now
    function isPermitted(address patient, address grantee, uint8 purpose, uint64 dataClasses)
        external
        view
        returns (bool);

    /// @notice The stored consent for (patient, grantee, purpose); all zero if never granted.
    /// @param patient the patient
    /// @param grantee the member institution
    /// @param purpose purpose code
    /// @return the consent record (see `Consent`)
    function getConsent(address patient, address grantee, uint8 purpose) external view returns (Consent memory);

    /// @notice Block time of the latest revocation of (patient, grantee, purpose), kept when consent is granted
    /// again (`getConsent` then shows the new, unrevoked grant); 0 if it was never revoked.
    /// @param patient the patient
    /// @param grantee the member institution
    /// @param purpose purpose code
    /// @return the latest revocation's block time, or 0
    function lastRevokedAt(address patient, address grantee, uint8 purpose) external view returns (uint64);

    /// @notice `patient`'s guardian and the last second of the guardianship (zeros if none). May have expired.
    /// @param patient the patient
    /// @return guardian the appointed guardian (zero if none)
    /// @return until the guardianship's last second (inclusive)
    function guardianOf(address patient) external view returns (address guardian, uint64 until);

    /// @notice `patient`'s guardian if the guardianship lasts now, else zero.
    /// @param patient the patient
    /// @return the guardian who may act now, or the zero address
    function activeGuardian(address patient) external view returns (address);

    /// @notice The next unused signature nonce of `patient` (OpenZeppelin Nonces).
    /// @param patient the patient
    /// @return the nonce the next ConsentGrant/ConsentRevoke signature must carry
    function nonces(address patient) external view returns (uint256);

    /// @notice The EIP-712 domain separator for this chain and registry.
    function DOMAIN_SEPARATOR() external view returns (bytes32);

    /// @notice keccak256 of the ConsentGrant type string (DESIGN §6.4).
    function CONSENT_GRANT_TYPEHASH() external view returns (bytes32);

    /// @notice keccak256 of the ConsentRevoke type string (DESIGN §6.4).
    function CONSENT_REVOKE_TYPEHASH() external view returns (bytes32);

    /// @notice Longest break-glass access, in seconds (24 h).
    function EMERGENCY_DURATION() external view returns (uint64);

    /// @notice Seconds after opening within which an opening should be reviewed (7 days); later it is overdue.
    function REVIEW_PERIOD() external view returns (uint64);

    /// @notice The consortium asked about roles and membership.
    function consortium() external view returns (IConsortium);

    /// @notice An opening's record (EmergencyUnknownOpening if `openingId` does not exist).
    /// @param openingId the opening
    /// @return the opening (see `Opening`)
    function getOpening(uint256 openingId) external view returns (Opening memory);

    /// @notice Number of openings ever made; ids run 1..openingCount().
    function openingCount() external view returns (uint256);

    /// @notice Openings not reviewed yet (whether overdue or not).
    function pendingReviewCount() external view returns (uint256);

    /// @notice Openings by `hospital` reviewed as unjustified.
    /// @param hospital the member institution
    /// @return how many of its openings were reviewed as unjustified
    function unjustifiedCount(address hospital) external view returns (uint256);

    /// @notice The open emergency access of `hospital` to `patient`: its opening id and first second without
    /// access; (0, 0) if none is open now.
    /// @param patient the patient
    /// @param hospital the member institution
    /// @return openingId the open opening's id, or 0
    /// @return expiresAt the first second without access, or 0
    function activeEmergency(address patient, address hospital)
        external
        view
        returns (uint256 openingId, uint64 expiresAt);

    /// @notice True if the opening is unreviewed and more than REVIEW_PERIOD has passed since it was opened.
    /// Reverts with EmergencyUnknownOpening for an unknown id.
    /// @param openingId the opening
    /// @return whether its review is overdue
    function isOverdue(uint256 openingId) external view returns (bool);

    /// @notice The overdue openings among ids `fromId` .. `fromId + count - 1` (clipped to existing ids).
    /// Page through 1..openingCount() off chain; the scan is bounded by `count`.
    /// @param fromId first id to look at (0 is read as 1)
    /// @param count how many ids to look at
    /// @return the overdue ids found, ascending
    function overdueOpenings(uint256 fromId, uint256 count) external view returns (uint256[] memory);
}
