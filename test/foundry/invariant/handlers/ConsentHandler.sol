// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ModelHandler} from "./ModelHandler.sol";
import {Eip712} from "../../utils/Eip712.sol";
import {IConsentRegistry} from "../../../../interfaces/IConsentRegistry.sol";
import {ConsentRegistry} from "../../../../contracts/ConsentRegistry.sol";

/// @title ConsentHandler
/// @notice Drives the real ConsentRegistry (and the real Consortium behind it) with bounded random actions:
/// direct, guardian and EIP-712-signed grants and revocations, guardians, nonce invalidation, break-glass
/// open/close/review, membership suspension and time. It keeps a ghost model of every consent, guardian, nonce
/// and emergency access; each action first predicts from the model whether the call must succeed and records a
/// violation when the registry disagrees (forge ignores reverts in handlers, so violations are counted and
/// asserted by an invariant instead).
contract ConsentHandler is ModelHandler {
    uint8 internal constant EMERGENCY = 4;
    uint64 internal constant ALL_CLASSES = (1 << 11) - 1;
    uint64 internal constant DAY = 1 days;

    struct Model {
        bool exists;
        bool revoked;
        uint16 classes;
        uint64 validFrom;
        uint64 validUntil;
    }

    struct GhostOpening {
        address patient;
        address hospital;
        uint64 openedAt;
        uint64 expiresAt;
        bool reviewed;
    }

    /// @dev One signed or direct grant request, decoded from fuzz seeds.
    struct Request {
        address patient;
        address grantee;
        uint8 purpose;
        uint64 classes;
        uint64 validFrom;
        uint64 validUntil;
    }

    ConsentRegistry public registry;

    address public h0; // HOSPITAL | AUDITOR member (may not review its own openings)
    address public h1; // HOSPITAL member, acts through an operator key; suspended and reinstated at random
    address public h1Key;
    address public insurer; // INSURER member; suspended and reinstated at random
    address public auditor; // AUDITOR member
    address public stranger; // never a member

    address[] public patients;
    uint256[] internal _patientKeys;
    address[] public guardians;
    uint256[] internal _guardianKeys;
    address[] public grantees;
    address[] internal _emergencyKeys;
    address[] internal _reviewers;
    uint256 internal _strangerKey;

    mapping(address patient => mapping(address grantee => mapping(uint8 purpose => Model))) internal _model;
    mapping(address patient => address) public ghostGuardian;
    mapping(address patient => uint64) public ghostGuardianUntil;
    mapping(address patient => uint256) public ghostNonce;
    mapping(address patient => mapping(address hospital => uint64 expiresAt)) public ghostAccess;
    mapping(address member => bool) public ghostSuspended;
    GhostOpening[] internal _openings;
    Request[] internal _granted; // every successful grant, for revocation targets
    uint256 public ghostPending;
    mapping(address hospital => uint256) public ghostUnjustified;

    uint256 public calls; // handler actions so far (the invariants rotate their per-patient checks on it)

    constructor() {
        vm.warp(T0);
        _deployConsortium(3, 2);
        h0 = _admit("hospital0", HOSPITAL | AUDITOR);
        h1 = _admit("hospital1", HOSPITAL);
        h1Key = _operator(h1, "hospital1-key");
        insurer = _admit("insurer", INSURER);
        auditor = _admit("auditor", AUDITOR);
        (stranger, _strangerKey) = _actor("stranger");
        registry = new ConsentRegistry(consortium);
        for (uint256 i = 0; i < 3; ++i) {
            (address p, uint256 pk) = _actor(string.concat("patient", vm.toString(i)));
            patients.push(p);
            _patientKeys.push(pk);
            (address g, uint256 gk) = _actor(string.concat("guardian", vm.toString(i)));
            guardians.push(g);
            _guardianKeys.push(gk);
        }
        grantees = _list(h0, h1, insurer, stranger);
        _emergencyKeys = _list(h0, h1Key, h1, auditor);
        _reviewers = _list(council[0], auditor, h0, h1Key);
    }

    modifier counted() {
        ++calls;
        _;
    }

    // ---- actions: consent ----

    function grant(uint256 seed) external counted {
        Request memory r = _request(seed);
        bool expected = _grantValid(r);
        vm.prank(r.patient);
        try registry.grant(r.grantee, r.purpose, r.classes, r.validFrom, r.validUntil) {
            _onGrant(r, expected, "grant");
        } catch {
            _expectFailure(expected, "grant");
        }
    }

    function grantBySig(uint256 seed, uint8 signerChoice, uint32 deadlineOffset) external counted {
        Request memory r = _request(seed);
        (address signer, uint256 key) = _signer(r.patient, signerChoice);
        uint256 deadline = _now() + (deadlineOffset % (2 * DAY)) - 1 hours;
        bytes32 digest = Eip712.grantDigest(
            address(registry),
            Eip712.Grant(
                r.patient, r.grantee, r.purpose, r.classes, r.validFrom, r.validUntil, ghostNonce[r.patient], deadline
            )
        );
        bytes memory sig = _sign(key, digest);
        bool expected = deadline >= _now() && _mayActFor(signer, r.patient) && _grantValid(r);
        try registry.grantBySig(r.patient, r.grantee, r.purpose, r.classes, r.validFrom, r.validUntil, deadline, sig) {
            ++ghostNonce[r.patient];
            _onGrant(r, expected, "grantBySig");
        } catch {
            _expectFailure(expected, "grantBySig");
        }
    }

    function grantAsGuardian(uint256 seed, uint8 guardianChoice) external counted {
        Request memory r = _request(seed);
        address caller = _guardianCandidate(r.patient, guardianChoice);
        bool expected = _isActiveGuardian(caller, r.patient) && _grantValid(r);
        vm.prank(caller);
        try registry.grantAsGuardian(r.patient, r.grantee, r.purpose, r.classes, r.validFrom, r.validUntil) {
            _onGrant(r, expected, "grantAsGuardian");
        } catch {
            _expectFailure(expected, "grantAsGuardian");
        }
    }

    function revoke(uint256 seed) external counted {
        Request memory r = _revokeRequest(seed);
        bool expected = _revokeValid(r);
        vm.prank(r.patient);
        try registry.revoke(r.grantee, r.purpose) {
            _onRevoke(r, expected, "revoke");
        } catch {
            _expectFailure(expected, "revoke");
        }
    }

    function revokeBySig(uint256 seed, uint8 signerChoice, uint32 deadlineOffset) external counted {
        Request memory r = _revokeRequest(seed);
        (address signer, uint256 key) = _signer(r.patient, signerChoice);
        uint256 deadline = _now() + (deadlineOffset % (2 * DAY)) - 1 hours;
        bytes32 digest =
            Eip712.revokeDigest(address(registry), r.patient, r.grantee, r.purpose, ghostNonce[r.patient], deadline);
        bool expected = deadline >= _now() && _mayActFor(signer, r.patient) && _revokeValid(r);
        try registry.revokeBySig(r.patient, r.grantee, r.purpose, deadline, _sign(key, digest)) {
            ++ghostNonce[r.patient];
            _onRevoke(r, expected, "revokeBySig");
        } catch {
            _expectFailure(expected, "revokeBySig");
        }
    }

    function revokeAsGuardian(uint256 seed, uint8 guardianChoice) external counted {
        Request memory r = _revokeRequest(seed);
        address caller = _guardianCandidate(r.patient, guardianChoice);
        bool expected = _isActiveGuardian(caller, r.patient) && _revokeValid(r);
        vm.prank(caller);
        try registry.revokeAsGuardian(r.patient, r.grantee, r.purpose) {
            _onRevoke(r, expected, "revokeAsGuardian");
        } catch {
            _expectFailure(expected, "revokeAsGuardian");
        }
    }

    // ---- actions: guardians and nonces ----

    function setGuardian(uint8 patientChoice, uint8 guardianChoice, uint32 untilOffset) external counted {
        address patient = patients[patientChoice % patients.length];
        address guardian = guardians[guardianChoice % guardians.length];
        uint64 until = _now() + uint64(untilOffset % (3 * DAY));
        bool expected = until > _now();
        vm.prank(patient);
        try registry.setGuardian(guardian, until) {
            _expectSuccess(expected, "setGuardian");
            (ghostGuardian[patient], ghostGuardianUntil[patient]) = (guardian, until);
        } catch {
            _expectFailure(expected, "setGuardian");
        }
    }

    function removeGuardian(uint8 patientChoice) external counted {
        address patient = patients[patientChoice % patients.length];
        bool expected = ghostGuardian[patient] != address(0);
        vm.prank(patient);
        try registry.removeGuardian() {
            _expectSuccess(expected, "removeGuardian");
            (ghostGuardian[patient], ghostGuardianUntil[patient]) = (address(0), 0);
        } catch {
            _expectFailure(expected, "removeGuardian");
        }
    }

    function invalidateNonce(uint8 patientChoice, uint8 callerChoice) external counted {
        address patient = patients[patientChoice % patients.length];
        address caller = callerChoice % 2 == 0 ? patient : _guardianCandidate(patient, callerChoice / 2);
        bool expected = caller == patient || _isActiveGuardian(caller, patient);
        vm.prank(caller);
        try registry.invalidateNonce(patient) returns (uint256 next) {
            _expectSuccess(expected, "invalidateNonce");
            ++ghostNonce[patient];
            _check(next == ghostNonce[patient], "invalidateNonce returned a wrong nonce");
        } catch {
            _expectFailure(expected, "invalidateNonce");
        }
    }

    // ---- actions: break-glass ----

    function openEmergency(uint8 patientChoice, uint8 keyChoice, uint8 reasonCode) external counted {
        address patient = patients[patientChoice % patients.length];
        address key = _emergencyKeys[keyChoice % _emergencyKeys.length];
        address hospital = _hospitalOf(key);
        reasonCode = reasonCode % 16; // 0 is invalid
        bool expected = hospital != address(0) && reasonCode != 0 && ghostAccess[patient][hospital] <= _now();
        vm.prank(key);
        try registry.openEmergency(patient, reasonCode, keccak256(abi.encode(reasonCode, _now()))) returns (
            uint256 id
        ) {
            _expectSuccess(expected, "openEmergency");
            _check(id == _openings.length + 1, "opening ids must run 1, 2, ...");
            uint64 expiresAt = _now() + 1 days;
            _openings.push(GhostOpening(patient, hospital, _now(), expiresAt, false));
            ghostAccess[patient][hospital] = expiresAt;
            ++ghostPending;
        } catch {
            _expectFailure(expected, "openEmergency");
        }
    }

    function closeEmergency(uint256 openingChoice, uint8 keyChoice) external counted {
        if (_openings.length == 0) return;
        // mostly one of the three latest openings (older ones have usually expired) ...
        uint256 id = openingChoice % 4 == 0
            ? 1 + openingChoice % _openings.length
            : _openings.length - (openingChoice / 4) % (_openings.length < 3 ? _openings.length : 3);
        GhostOpening storage o = _openings[id - 1];
        // ... and mostly a key of the opening hospital
        address key = _emergencyKeys[keyChoice % _emergencyKeys.length];
        if (keyChoice % 4 != 0) key = o.hospital == h0 ? h0 : h1Key;
        address hospital = _hospitalOf(key);
        bool expected = hospital != address(0) && hospital == o.hospital && o.expiresAt > _now();
        vm.prank(key);
        try registry.closeEmergency(id) {
            _expectSuccess(expected, "closeEmergency");
            o.expiresAt = _now();
            ghostAccess[o.patient][o.hospital] = 0;
        } catch {
            _expectFailure(expected, "closeEmergency");
        }
    }

    function reviewEmergency(uint256 openingChoice, uint8 reviewerChoice, bool justified) external counted {
        if (_openings.length == 0) return;
        uint256 id = 1 + openingChoice % _openings.length;
        GhostOpening storage o = _openings[id - 1];
        address reviewer = _reviewers[reviewerChoice % _reviewers.length];
        address member = _reviewerMember(reviewer);
        bool expected = member != address(0) && !o.reviewed && member != o.hospital;
        vm.prank(reviewer);
        try registry.reviewEmergency(id, justified) {
            _expectSuccess(expected, "reviewEmergency");
            o.reviewed = true;
            --ghostPending;
            if (!justified) ++ghostUnjustified[o.hospital];
        } catch {
            _expectFailure(expected, "reviewEmergency");
        }
    }

    // ---- actions: environment ----

    function warp(uint32 secondsAhead) external counted {
        uint256 step = secondsAhead % 10 == 0 ? secondsAhead % (10 * DAY) : secondsAhead % (2 * DAY);
        vm.warp(block.timestamp + step);
    }

    /// @dev Suspends or reinstates hospital1 or the insurer through the council's 2-of-3 governance.
    function toggleMember(bool pickInsurer) external counted {
        address member = pickInsurer ? insurer : h1;
        if (ghostSuspended[member]) _reinstate(member);
        else _suspend(member);
        ghostSuspended[member] = !ghostSuspended[member];
        ++succeeded["toggleMember"];
    }

    // ---- model (read by the invariants) ----

    /// @notice What `isPermitted` must answer, from the ghost model alone.
    function modelPermits(address patient, address grantee, uint8 purpose, uint64 classes) public view returns (bool) {
        Model memory m = _model[patient][grantee][purpose];
        uint64 t = _now();
        bool consent = classes != 0 && m.exists && !m.revoked && (uint64(m.classes) & classes) == classes
            && m.validFrom <= t && (m.validUntil == 0 || t <= m.validUntil);
        bool emergency =
            purpose == EMERGENCY && classes != 0 && classes <= ALL_CLASSES && ghostAccess[patient][grantee] > t;
        return (consent || emergency) && _isActive(grantee);
    }

    function modelClasses(address patient, address grantee, uint8 purpose) external view returns (uint64) {
        return _model[patient][grantee][purpose].classes;
    }

    function patientCount() external view returns (uint256) {
        return patients.length;
    }

    function granteeCount() external view returns (uint256) {
        return grantees.length;
    }

    function openingCount() external view returns (uint256) {
        return _openings.length;
    }

    function patientKey(uint256 i) external view returns (uint256) {
        return _patientKeys[i];
    }

    // ---- internal: seeds to requests ----

    /// @dev Mostly valid requests, with a fair share of each invalid kind (bad purpose, bad classes, bad period).
    function _request(uint256 seed) internal view returns (Request memory r) {
        r.patient = patients[seed % patients.length];
        r.grantee = grantees[(seed >> 8) % grantees.length];
        uint256 p = (seed >> 16) % 32;
        r.purpose = p == 0 ? 0 : (p == 1 ? 6 : uint8(1 + p % 5));
        uint256 c = (seed >> 24) % 64;
        r.classes = c == 0 ? 0 : (c == 1 ? uint64(1) << 11 : uint64(1 + (seed >> 32) % ALL_CLASSES));
        if (c == 2) r.classes = ALL_CLASSES;
        uint64 t = _now();
        r.validFrom = (seed >> 48) % 4 == 0 ? 0 : t - 1 days + uint64((seed >> 56) % (3 * DAY));
        uint256 u = (seed >> 88) % 8;
        if (u == 0) r.validUntil = 0;
        else if (u == 1) r.validUntil = t - 1; // already past: invalid
        else r.validUntil = (r.validFrom > t ? r.validFrom : t) + uint64((seed >> 96) % (4 * DAY));
        if (u == 2 && r.validFrom > 0) r.validUntil = r.validFrom - 1; // before validFrom: invalid
    }

    /// @dev Three times in four a consent that was granted (so revocations mostly hit live consents), else any
    /// request.
    function _revokeRequest(uint256 seed) internal view returns (Request memory r) {
        r = _request(seed);
        if (seed % 4 == 0 || _granted.length == 0) return r;
        Request storage g = _granted[(seed >> 128) % _granted.length];
        (r.patient, r.grantee, r.purpose) = (g.patient, g.grantee, g.purpose);
    }

    function _grantValid(Request memory r) internal view returns (bool) {
        return r.grantee != address(0) && r.purpose >= 1 && r.purpose <= 5 && r.classes != 0 && r.classes <= ALL_CLASSES
            && (r.validUntil == 0 || (r.validUntil >= r.validFrom && r.validUntil >= _now()));
    }

    function _revokeValid(Request memory r) internal view returns (bool) {
        Model storage m = _model[r.patient][r.grantee][r.purpose];
        return r.purpose >= 1 && r.purpose <= 5 && m.exists && !m.revoked;
    }

    // ---- internal: model updates ----

    function _onGrant(Request memory r, bool expected, string memory action) internal {
        _expectSuccess(expected, action);
        _model[r.patient][r.grantee][r.purpose] = Model(true, false, uint16(r.classes), r.validFrom, r.validUntil);
        _granted.push(r);
    }

    function _onRevoke(Request memory r, bool expected, string memory action) internal {
        _expectSuccess(expected, action);
        _model[r.patient][r.grantee][r.purpose].revoked = true;
    }

    // ---- internal: actors ----

    /// @dev 0: the patient, 1: its current guardian (or guardian0), 2: a stranger, 3: another guardian.
    function _signer(address patient, uint8 choice) internal view returns (address, uint256) {
        uint256 i = _patientIndex(patient);
        choice %= 4;
        if (choice == 0) return (patient, _patientKeys[i]);
        if (choice == 2) return (stranger, _strangerKey);
        address g = _guardianCandidate(patient, choice == 1 ? 0 : 1);
        for (uint256 j = 0; j < guardians.length; ++j) {
            if (guardians[j] == g) return (g, _guardianKeys[j]);
        }
        revert("unreachable");
    }

    /// @dev Even choice: the patient's current guardian (guardian0 if none); odd: the next guardian in the list.
    function _guardianCandidate(address patient, uint8 choice) internal view returns (address) {
        address current = ghostGuardian[patient];
        if (choice % 2 == 0) return current == address(0) ? guardians[0] : current;
        for (uint256 j = 0; j < guardians.length; ++j) {
            if (guardians[j] == current) return guardians[(j + 1) % guardians.length];
        }
        return guardians[1];
    }

    function _mayActFor(address signer, address patient) internal view returns (bool) {
        return signer == patient || _isActiveGuardian(signer, patient);
    }

    function _isActiveGuardian(address account, address patient) internal view returns (bool) {
        return account == ghostGuardian[patient] && ghostGuardianUntil[patient] >= _now();
    }

    function _patientIndex(address patient) internal view returns (uint256) {
        for (uint256 i = 0; i < patients.length; ++i) {
            if (patients[i] == patient) return i;
        }
        revert("unknown patient");
    }

    /// @dev The HOSPITAL member a key acts for, per the model (zero if none or suspended).
    function _hospitalOf(address key) internal view returns (address) {
        if (key == h0) return h0;
        if ((key == h1 || key == h1Key) && !ghostSuspended[h1]) return h1;
        return address(0);
    }

    /// @dev The COUNCIL (else AUDITOR) member a key acts for, per the model.
    function _reviewerMember(address key) internal view returns (address) {
        if (key == council[0] || key == auditor || key == h0) return key;
        return address(0); // h1Key: HOSPITAL only
    }

    function _isActive(address member) internal view returns (bool) {
        return (member == h0 || member == h1 || member == insurer) && !ghostSuspended[member];
    }

    function _sign(uint256 key, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }
}
