// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {InvariantBase} from "../utils/Base.sol";
import {IClaimsManager} from "../../../interfaces/IClaimsManager.sol";
import {ClaimsManager} from "../../../contracts/ClaimsManager.sol";
import {ClaimsHandler} from "./handlers/ClaimsHandler.sol";

/// @title ClaimsInvariants
/// @notice ClaimsManager's money and claim invariants under random ClaimsHandler sequences:
/// token balance == Σ reserves + Σ unwithdrawn payout credits (+ stray donations); no claim is paid twice; per
/// policy, paid ≤ coverage and paid/committed equal the sums over its claims; per insurer, owed equals its
/// approved-unpaid claims and the reserve equals the ghost ledger; a record hash backs at most one live claim
/// and `liveClaimOf` names it; every call (RecordRegistry anchoring included: first write wins) succeeded exactly
/// when the ghost model said it should.
contract ClaimsInvariants is InvariantBase {
    ClaimsHandler internal handler;
    ClaimsManager internal claims;

    function setUp() public {
        handler = new ClaimsHandler();
        claims = handler.claims();
        bytes4[] memory selectors = new bytes4[](20);
        selectors[0] = ClaimsHandler.createPolicy.selector;
        selectors[1] = ClaimsHandler.deposit.selector;
        selectors[2] = ClaimsHandler.donate.selector;
        selectors[3] = ClaimsHandler.withdrawReserve.selector;
        selectors[4] = ClaimsHandler.setClaimSettings.selector;
        selectors[5] = ClaimsHandler.submitClaim.selector;
        selectors[6] = ClaimsHandler.approveClaim.selector;
        selectors[7] = ClaimsHandler.rejectClaim.selector;
        selectors[8] = ClaimsHandler.withdrawClaim.selector;
        selectors[9] = ClaimsHandler.escalateClaim.selector;
        selectors[10] = ClaimsHandler.decideEscalated.selector;
        selectors[11] = ClaimsHandler.payClaim.selector;
        selectors[12] = ClaimsHandler.withdrawPayout.selector;
        selectors[13] = ClaimsHandler.setConsent.selector;
        selectors[14] = ClaimsHandler.toggleInsurer.selector;
        selectors[15] = ClaimsHandler.warp.selector;
        // the busy paths and time twice as likely
        selectors[16] = ClaimsHandler.submitClaim.selector;
        selectors[17] = ClaimsHandler.approveClaim.selector;
        selectors[18] = ClaimsHandler.warp.selector; // decision windows must pass for escalations
        selectors[19] = ClaimsHandler.anchorRecord.selector;
        _target(address(handler), selectors);
    }

    /// @notice All ClaimsManager invariants, checked after every handler call (one campaign per profile run).
    /// One pass over the claims feeds every per-policy, per-insurer and per-record sum, so a check costs
    /// O(claims + policies + records) calls and the long profile's deep runs stay affordable.
    function invariant_claimsManager() public view {
        vm.assertEq(handler.violations(), 0, handler.firstViolation());
        _tokenBalanceEqualsReservesPlusCredits();
        Sums memory sums = _sumClaims();
        _policyAccounting(sums);
        _insurerAccounting(sums);
        _evidenceBacksAtMostOneLiveClaim(sums);
    }

    /// @dev Per-policy, per-insurer and per-record-hash sums over all claims, from the contract's own records.
    struct Sums {
        uint256[] paid; // by policy id - 1
        uint256[] committed; // by policy id - 1
        uint256[] owed; // by insurer index
        uint256[] liveCount; // by record hash index: claims that keep the record locked
        uint256[] liveId; // by record hash index: the last such claim
        bytes32[] recordHashes; // the handler's record hash universe
    }

    /// @dev One pass over the claims: also checks that no claim was paid twice and that statuses match the ghost.
    function _sumClaims() internal view returns (Sums memory sums) {
        uint256 n = claims.claimCount();
        vm.assertEq(n, handler.claimCount(), "claim count");
        sums.paid = new uint256[](claims.policyCount());
        sums.committed = new uint256[](claims.policyCount());
        sums.owed = new uint256[](handler.insurerCount());
        sums.liveCount = new uint256[](handler.recordHashCount());
        sums.liveId = new uint256[](handler.recordHashCount());
        sums.recordHashes = handler.allRecordHashes();
        (uint256[] memory paidTimes, IClaimsManager.ClaimStatus[] memory ghostStatus) = handler.ghostClaims();
        for (uint256 id = 1; id <= n; ++id) {
            IClaimsManager.Claim memory c = claims.getClaim(id);
            // no claim paid twice; Paid exactly when its one payment happened
            vm.assertLe(paidTimes[id - 1], 1, "claim paid twice");
            vm.assertEq(c.status == IClaimsManager.ClaimStatus.Paid, paidTimes[id - 1] == 1, "Paid without one payment");
            vm.assertEq(uint8(c.status), uint8(ghostStatus[id - 1]), "claim status != ghost");
            if (c.status == IClaimsManager.ClaimStatus.Paid) sums.paid[c.policyId - 1] += c.amount;
            else if (_isLive(c.status)) sums.committed[c.policyId - 1] += c.amount;
            if (c.status == IClaimsManager.ClaimStatus.Approved) {
                sums.owed[_insurerIndex(claims.getPolicy(c.policyId).insurer)] += c.amount;
            }
            if (_holdsEvidence(c.status)) _countEvidence(sums, id);
        }
    }

    function _countEvidence(Sums memory sums, uint256 id) internal view {
        bytes32[] memory hashes = handler.claimRecordHashes(id);
        for (uint256 i = 0; i < hashes.length; ++i) {
            for (uint256 r = 0; r < sums.recordHashes.length; ++r) {
                if (sums.recordHashes[r] != hashes[i]) continue;
                ++sums.liveCount[r];
                sums.liveId[r] = id;
            }
        }
    }

    /// @dev balance == Σ reserves + Σ payout credits + tokens sent to the contract directly (which belong to nobody).
    function _tokenBalanceEqualsReservesPlusCredits() internal view {
        uint256 credits;
        for (uint256 h = 0; h < handler.holderCount(); ++h) {
            credits += claims.payoutOf(handler.holders(h));
        }
        uint256 reserves = _reserves();
        vm.assertEq(
            handler.token().balanceOf(address(claims)),
            reserves + credits + handler.ghostDonations(),
            "balance != books"
        );
        vm.assertEq(handler.ghostCredited(), credits + handler.ghostPayoutsWithdrawn(), "credits != paid out");
    }

    /// @dev Per policy: paid ≤ coverage, paid + committed ≤ coverage, and both equal the sums over its claims.
    function _policyAccounting(Sums memory sums) internal view {
        uint256 policies = claims.policyCount();
        vm.assertEq(policies, handler.policyCount(), "policy count");
        for (uint256 pid = 1; pid <= policies; ++pid) {
            IClaimsManager.Policy memory p = claims.getPolicy(pid);
            vm.assertLe(p.paid, p.coverage, "paid above coverage");
            vm.assertLe(uint256(p.paid) + p.committed, p.coverage, "paid + committed above coverage");
            vm.assertEq(p.paid, sums.paid[pid - 1], "policy paid != sum of paid claims");
            vm.assertEq(p.committed, sums.committed[pid - 1], "policy committed != sum of live unpaid claims");
            vm.assertEq(p.paid, handler.ghostPolicy(pid).paid, "policy paid != ghost");
        }
    }

    /// @dev Per insurer: owed == Σ approved-unpaid claims of its policies; reserve == ghost reserve.
    function _insurerAccounting(Sums memory sums) internal view {
        for (uint256 k = 0; k < handler.insurerCount(); ++k) {
            address insurer = handler.insurers(k);
            IClaimsManager.InsurerAccount memory account = claims.insurerAccount(insurer);
            vm.assertEq(account.owed, sums.owed[k], "owed != approved unpaid claims");
            vm.assertEq(account.reserve, handler.ghostReserve(insurer), "reserve != ghost");
        }
    }

    /// @dev Each record hash backs at most one live (or paid) claim, and liveClaimOf names exactly that claim.
    function _evidenceBacksAtMostOneLiveClaim(Sums memory sums) internal view {
        for (uint256 r = 0; r < sums.liveCount.length; ++r) {
            vm.assertLe(sums.liveCount[r], 1, "record hash backs two live (or paid) claims");
            vm.assertEq(claims.liveClaimOf(sums.recordHashes[r]), sums.liveId[r], "liveClaimOf");
        }
    }

    function _insurerIndex(address insurer) internal view returns (uint256 k) {
        while (handler.insurers(k) != insurer) ++k;
    }

    /// @dev Statuses whose amount still counts as committed on the policy (not yet paid).
    function _isLive(IClaimsManager.ClaimStatus s) internal pure returns (bool) {
        return s == IClaimsManager.ClaimStatus.Submitted || s == IClaimsManager.ClaimStatus.Escalated
            || s == IClaimsManager.ClaimStatus.Approved;
    }

    /// @dev Statuses that keep their evidence locked (the interface's "live" for the duplicate guard).
    function _holdsEvidence(IClaimsManager.ClaimStatus s) internal pure returns (bool) {
        return _isLive(s) || s == IClaimsManager.ClaimStatus.Paid;
    }

    function _reserves() internal view returns (uint256 total) {
        for (uint256 k = 0; k < handler.insurerCount(); ++k) {
            total += claims.insurerAccount(handler.insurers(k)).reserve;
        }
    }
}
