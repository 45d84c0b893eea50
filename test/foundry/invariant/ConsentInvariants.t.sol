// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {InvariantBase} from "../utils/Base.sol";
import {IConsentRegistry} from "../../../interfaces/IConsentRegistry.sol";
import {ConsentRegistry} from "../../../contracts/ConsentRegistry.sol";
import {ConsentHandler} from "./handlers/ConsentHandler.sol";

/// @title ConsentInvariants
/// @notice ConsentRegistry invariants under random sequences of ConsentHandler actions:
/// revoked consent never permits; `isPermitted` equals the ghost model for every (patient, grantee, purpose) and
/// class mask; every call succeeded exactly when the model said it should; nonces and review counters match;
/// no break-glass access lasts longer than 24 h.
contract ConsentInvariants is InvariantBase {
    ConsentHandler internal handler;
    ConsentRegistry internal registry;

    function setUp() public {
        handler = new ConsentHandler();
        registry = handler.registry();
        bytes4[] memory selectors = new bytes4[](15);
        selectors[0] = ConsentHandler.grant.selector;
        selectors[1] = ConsentHandler.grantBySig.selector;
        selectors[2] = ConsentHandler.grantAsGuardian.selector;
        selectors[3] = ConsentHandler.revoke.selector;
        selectors[4] = ConsentHandler.revokeBySig.selector;
        selectors[5] = ConsentHandler.revokeAsGuardian.selector;
        selectors[6] = ConsentHandler.setGuardian.selector;
        selectors[7] = ConsentHandler.removeGuardian.selector;
        selectors[8] = ConsentHandler.invalidateNonce.selector;
        selectors[9] = ConsentHandler.openEmergency.selector;
        selectors[10] = ConsentHandler.closeEmergency.selector;
        selectors[11] = ConsentHandler.reviewEmergency.selector;
        selectors[12] = ConsentHandler.warp.selector;
        selectors[13] = ConsentHandler.toggleMember.selector;
        selectors[14] = ConsentHandler.grant.selector; // grants twice as likely: more live consents to break
        _target(address(handler), selectors);
    }

    /// @notice All ConsentRegistry invariants, checked after every handler call. One invariant function means one
    /// fuzz campaign per profile run (forge runs a separate campaign per `invariant_*` function).
    function invariant_consentRegistry() public view {
        _callsMatchModel();
        _revokedConsentNeverPermits();
        _isPermittedMatchesModel();
        _noncesMatchModel();
        _breakGlassBookkeeping();
    }

    /// @notice Every action succeeded or reverted exactly as the ghost model predicted.
    function _callsMatchModel() internal view {
        vm.assertEq(handler.violations(), 0, handler.firstViolation());
    }

    /// @notice A revoked consent never permits anything (only an open break-glass, for EMERGENCY, may).
    function _revokedConsentNeverPermits() internal view {
        _forEachPair(this._checkRevoked);
    }

    /// @notice `isPermitted` answers what the ghost model answers, for the granted classes (no class if none), a
    /// superset of them, every class and an invalid class.
    function _isPermittedMatchesModel() internal view {
        _forEachPair(this._checkModel);
    }

    /// @notice Nonces advance once per used signature or invalidation, never otherwise.
    function _noncesMatchModel() internal view {
        for (uint256 i = 0; i < handler.patientCount(); ++i) {
            address patient = handler.patients(i);
            vm.assertEq(registry.nonces(patient), handler.ghostNonce(patient), "nonce");
        }
    }

    /// @notice Review bookkeeping: pending count and unjustified counts equal the model; openings last ≤ 24 h and
    /// grant nothing once expired.
    function _breakGlassBookkeeping() internal view {
        vm.assertEq(registry.openingCount(), handler.openingCount(), "opening count");
        vm.assertEq(registry.pendingReviewCount(), handler.ghostPending(), "pending reviews");
        vm.assertEq(registry.unjustifiedCount(handler.h0()), handler.ghostUnjustified(handler.h0()), "unjustified h0");
        vm.assertEq(registry.unjustifiedCount(handler.h1()), handler.ghostUnjustified(handler.h1()), "unjustified h1");
        uint256 count = registry.openingCount();
        if (count == 0) return;
        // the latest opening and one more, rotating call by call (a full sweep per call is quadratic)
        uint256[2] memory ids = [count, 1 + handler.calls() % count];
        for (uint256 k = 0; k < 2; ++k) {
            uint256 id = ids[k];
            IConsentRegistry.Opening memory o = registry.getOpening(id);
            vm.assertLe(o.expiresAt, o.openedAt + registry.EMERGENCY_DURATION(), "break-glass longer than 24 h");
            if (block.timestamp >= o.expiresAt) {
                (uint256 open,) = registry.activeEmergency(o.patient, o.hospital);
                vm.assertTrue(open != id, "expired opening still active");
            }
        }
    }

    // ---- checks per (patient, grantee, purpose) ----

    function _checkRevoked(address patient, address grantee, uint8 purpose) external view {
        IConsentRegistry.Consent memory c = registry.getConsent(patient, grantee, purpose);
        if (c.revokedAt == 0) return;
        (uint256 openingId,) = registry.activeEmergency(patient, grantee);
        if (purpose == 4 && openingId != 0) return;
        vm.assertFalse(registry.isPermitted(patient, grantee, purpose, c.dataClasses), "revoked consent permits");
        vm.assertFalse(registry.isPermitted(patient, grantee, purpose, 1), "revoked consent permits class 0");
    }

    function _checkModel(address patient, address grantee, uint8 purpose) external view {
        uint64 granted = handler.modelClasses(patient, grantee, purpose);
        uint64 missing = ~granted & ((1 << 11) - 1);
        uint64[4] memory masks = [granted, granted | _lowestBit(missing), (1 << 11) - 1, 1 << 11];
        for (uint256 k = 0; k < masks.length; ++k) {
            vm.assertEq(
                registry.isPermitted(patient, grantee, purpose, masks[k]),
                handler.modelPermits(patient, grantee, purpose, masks[k]),
                "isPermitted differs from the model"
            );
        }
    }

    /// @dev The lowest set bit of `x` (1 if none).
    function _lowestBit(uint64 x) internal pure returns (uint64) {
        if (x == 0) return 1;
        unchecked {
            return x & (~x + 1);
        }
    }

    /// @dev Calls `check` for every grantee and half of the purposes 0..5 (0 is invalid) of one patient, rotating
    /// through (patient, half) call by call: a full sweep after every call would cost most of the campaign for
    /// little extra power, since the state a bug leaves behind persists until the rotation reaches it.
    function _forEachPair(function(address, address, uint8) external view check) internal view {
        uint256 slice = handler.calls() % (2 * handler.patientCount());
        address patient = handler.patients(slice / 2);
        uint8 first = slice % 2 == 0 ? 0 : 3;
        for (uint256 j = 0; j < handler.granteeCount(); ++j) {
            for (uint8 purpose = first; purpose < first + 3; ++purpose) {
                check(patient, handler.grantees(j), purpose);
            }
        }
    }
}
