// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ModelHandler} from "./ModelHandler.sol";
import {IClaimsManager} from "../../../../interfaces/IClaimsManager.sol";
import {IConsentRegistry} from "../../../../interfaces/IConsentRegistry.sol";
import {IRecordRegistry} from "../../../../interfaces/IRecordRegistry.sol";
import {ConsentRegistry} from "../../../../contracts/ConsentRegistry.sol";
import {RecordRegistry} from "../../../../contracts/RecordRegistry.sol";
import {ClaimsManager} from "../../../../contracts/ClaimsManager.sol";
import {SettlementToken} from "../../../../contracts/test/SettlementToken.sol";

/// @title ClaimsHandler
/// @notice Drives the real ClaimsManager wired to the real Consortium, ConsentRegistry, RecordRegistry and the
/// test SettlementToken: policies, deposits, stray donations, reserve withdrawals, claim settings, submissions by
/// holders and hospitals with anchored (and sometimes foreign or duplicate) evidence, dual-control approvals,
/// rejections, withdrawals, escalations and council decisions, payments, payouts, consent changes, insurer
/// suspension and time. A ghost ledger predicts every call's outcome; mismatches are counted as violations.
contract ClaimsHandler is ModelHandler {
    uint8 internal constant CLAIM = 2;
    uint64 internal constant ALL_CLASSES = (1 << 11) - 1;
    uint64 internal constant SOME_CLASSES = (1 << 5) - 1; // classes 0..4
    uint256 internal constant RECORDS_PER_HOLDER = 8;

    struct GhostPolicy {
        address holder;
        address insurer;
        uint256 coverage;
        uint256 paid;
        uint256 committed;
        uint64 validFrom;
        uint64 validUntil;
    }

    struct GhostClaim {
        uint256 policyId;
        address claimant;
        IClaimsManager.ClaimStatus status;
        uint256 amount;
        uint64 decideBy;
        address pendingKey;
        uint256 pendingAmount;
        uint256 paidTimes;
        bytes32[] recordHashes;
    }

    struct Submission {
        uint256 policyId;
        address submitter;
        address claimant; // zero: the submitter may not submit
        uint256 amount;
        IClaimsManager.Evidence[] evidence;
        bytes32 invoiceHash;
        bytes32 claimRef;
        bool expected;
    }

    ClaimsManager public claims;
    ConsentRegistry public consent;
    RecordRegistry public records;
    SettlementToken public token;

    address public hospitalA;
    address public hospitalAKey;
    address public hospitalB;
    address[] public insurers; // insurer member addresses
    mapping(address insurer => address[2]) internal _insurerKeys;
    address[] public holders;
    address public stranger;
    address public funder;

    mapping(address holder => IClaimsManager.Evidence[]) internal _evidence;
    bytes32[] public recordHashes; // every record hash in play (the duplicate guard's universe)

    GhostPolicy[] internal _policies; // id = index + 1
    GhostClaim[] internal _claims; // id = index + 1
    mapping(address insurer => uint256) public ghostReserve;
    mapping(address insurer => uint256) public ghostOwed;
    mapping(address insurer => uint64) internal _window;
    mapping(address insurer => uint256) internal _threshold;
    mapping(address insurer => bool) public ghostSuspended;
    mapping(address holder => mapping(address insurer => uint64)) internal _consentClasses;
    mapping(address beneficiary => uint256) public ghostPayout;
    mapping(bytes32 recordHash => uint256) internal _lastClaim;
    /// @dev keccak256(abi.encode(holder, recordHash)) => the hospital member that anchored that record
    mapping(bytes32 holderRecord => address) internal _anchoredBy;
    uint256 public ghostDonations;
    uint256 public ghostCredited; // Σ amounts credited by payClaim
    uint256 public ghostPayoutsWithdrawn;

    constructor() {
        vm.warp(T0);
        _deployConsortium(3, 2);
        hospitalA = _admit("hospitalA", HOSPITAL);
        hospitalAKey = _operator(hospitalA, "hospitalA-key");
        hospitalB = _admit("hospitalB", HOSPITAL);
        for (uint256 i = 0; i < 2; ++i) {
            string memory name = string.concat("insurer", vm.toString(i));
            address insurer = _admit(name, INSURER);
            insurers.push(insurer);
            _insurerKeys[insurer] =
                [_operator(insurer, string.concat(name, "-key1")), _operator(insurer, string.concat(name, "-key2"))];
        }
        stranger = _addr("stranger");
        funder = _addr("funder");
        consent = new ConsentRegistry(consortium);
        records = new RecordRegistry(consortium, consent);
        token = new SettlementToken();
        claims = new ClaimsManager(consortium, consent, records, token);
        _setUpHolders();
        _setUpSettings();
        _setUpPolicies();
    }

    // ---- actions: insurers ----

    function createPolicy(uint8 insurerChoice, uint8 keyChoice, uint8 holderChoice, uint256 coverageSeed) external {
        address insurer = insurers[insurerChoice % insurers.length];
        address key = _insurerKeys[insurer][keyChoice % 2];
        address holder = holders[holderChoice % holders.length];
        uint256 coverage = coverageSeed % 16 == 0 ? 0 : 100 + coverageSeed % 10_000;
        uint64 validFrom = _now() - 1 hours;
        uint64 validUntil = _now() + 10 days + uint64(coverageSeed % 50 days);
        bool expected = !ghostSuspended[insurer] && coverage != 0;
        vm.prank(key);
        try claims.createPolicy(holder, coverage, validFrom, validUntil) returns (uint256 id) {
            _expectSuccess(expected, "createPolicy");
            _check(id == _policies.length + 1, "policy ids must run 1, 2, ...");
            _policies.push(GhostPolicy(holder, insurer, coverage, 0, 0, validFrom, validUntil));
        } catch {
            _expectFailure(expected, "createPolicy");
        }
    }

    function deposit(uint8 insurerChoice, uint256 amountSeed) external {
        address insurer = insurers[insurerChoice % insurers.length];
        uint256 amount = amountSeed % 32 == 0 ? 0 : 1 + amountSeed % 20_000;
        token.mint(funder, amount);
        vm.startPrank(funder);
        token.approve(address(claims), amount);
        bool expected = amount != 0 && !ghostSuspended[insurer];
        try claims.depositReserve(insurer, amount) {
            _expectSuccess(expected, "deposit");
            ghostReserve[insurer] += amount;
        } catch {
            _expectFailure(expected, "deposit");
        }
        vm.stopPrank();
    }

    /// @dev Tokens sent straight to the contract: they belong to nobody and must not disturb the books.
    function donate(uint256 amountSeed) external {
        uint256 amount = 1 + amountSeed % 1_000;
        token.mint(address(claims), amount);
        ghostDonations += amount;
        ++succeeded["donate"];
    }

    function withdrawReserve(uint8 insurerChoice, uint8 keyChoice, uint256 amountSeed) external {
        address insurer = insurers[insurerChoice % insurers.length];
        // prefer an insurer that owes something: withdrawals into the owed part are the interesting ones
        if (ghostOwed[insurer] == 0) insurer = insurers[(uint256(insurerChoice) + 1) % insurers.length];
        address key = keyChoice % 3 == 2 ? insurer : _insurerKeys[insurer][keyChoice % 2];
        uint256 available = ghostReserve[insurer] > ghostOwed[insurer] ? ghostReserve[insurer] - ghostOwed[insurer] : 0;
        uint256 amount = _withdrawalAmount(amountSeed, available, ghostReserve[insurer]);
        bool expected = !ghostSuspended[insurer] && amount != 0 && amount <= available;
        vm.prank(key);
        try claims.withdrawReserve(amount) {
            _expectSuccess(expected, "withdrawReserve");
            ghostReserve[insurer] -= amount;
        } catch {
            _expectFailure(expected, "withdrawReserve");
        }
    }

    function setClaimSettings(uint8 insurerChoice, uint64 windowSeed, uint256 thresholdSeed, bool byKey) external {
        address insurer = insurers[insurerChoice % insurers.length];
        uint64 w = windowSeed % 8;
        uint64 window =
            w == 0 ? windowSeed % 1 days : (w == 1 ? 1 days + windowSeed % 60 days : 1 days + windowSeed % 3 days);
        uint256 threshold = thresholdSeed % 3 == 0 ? 0 : 50 + thresholdSeed % 3_000;
        bool expected = !byKey && !ghostSuspended[insurer] && window >= 1 days;
        vm.prank(byKey ? _insurerKeys[insurer][0] : insurer);
        try claims.setClaimSettings(window, threshold) {
            _expectSuccess(expected, "setClaimSettings");
            (_window[insurer], _threshold[insurer]) = (window, threshold);
        } catch {
            _expectFailure(expected, "setClaimSettings");
        }
    }

    // ---- actions: claims ----

    function submitClaim(uint256 policyChoice, uint256 amountSeed, uint256 evidenceSeed, uint8 submitterChoice)
        external
    {
        if (_policies.length == 0) return;
        Submission memory sub = _submission(policyChoice, amountSeed, evidenceSeed, submitterChoice);
        vm.prank(sub.submitter);
        try claims.submitClaim(sub.policyId, sub.amount, sub.evidence, sub.invoiceHash, sub.claimRef) returns (
            uint256 id
        ) {
            _expectSuccess(sub.expected, "submitClaim");
            _check(id == _claims.length + 1, "claim ids must run 1, 2, ...");
            _recordClaim(sub.policyId, sub.claimant, sub.amount, sub.evidence);
        } catch {
            _expectFailure(sub.expected, "submitClaim");
        }
    }

    function approveClaim(uint256 claimChoice, uint8 keyChoice, uint256 amountSeed) external {
        if (_claims.length == 0) return;
        uint256 id = _preferStatus(claimChoice, IClaimsManager.ClaimStatus.Submitted);
        GhostClaim storage c = _claims[id - 1];
        address insurer = _policies[c.policyId - 1].insurer;
        address key = _approver(insurer, c, keyChoice);
        uint256 amount = _approvalAmount(c, amountSeed);
        bool valid = _insurerOfKey(key) == insurer && !ghostSuspended[insurer]
            && c.status == IClaimsManager.ClaimStatus.Submitted && amount != 0 && amount <= c.amount;
        bool dual = _threshold[insurer] != 0 && amount > _threshold[insurer];
        bool completes = !dual || (c.pendingKey != address(0) && c.pendingKey != key && c.pendingAmount == amount);
        bool expected = valid && !(dual && c.pendingKey == key)
            && !(dual && c.pendingKey != address(0) && c.pendingKey != key && c.pendingAmount != amount);
        vm.prank(key);
        try claims.approveClaim(id, amount) {
            _expectSuccess(expected, "approveClaim");
            if (completes) {
                c.pendingKey = address(0);
                c.pendingAmount = 0;
                _approve(c, amount);
            } else {
                (c.pendingKey, c.pendingAmount) = (key, amount);
                ++succeeded["approveClaim:pending"];
            }
        } catch {
            _expectFailure(expected, "approveClaim");
        }
    }

    function rejectClaim(uint256 claimChoice, uint8 keyChoice, uint16 reason) external {
        if (_claims.length == 0) return;
        uint256 id = _preferStatus(claimChoice, IClaimsManager.ClaimStatus.Submitted);
        GhostClaim storage c = _claims[id - 1];
        address insurer = _policies[c.policyId - 1].insurer;
        address key = _approver(insurer, c, keyChoice);
        reason = reason % 8; // 0 is invalid
        bool expected = _insurerOfKey(key) == insurer && !ghostSuspended[insurer]
            && c.status == IClaimsManager.ClaimStatus.Submitted && reason != 0;
        vm.prank(key);
        try claims.rejectClaim(id, reason) {
            _expectSuccess(expected, "rejectClaim");
            _release(c, IClaimsManager.ClaimStatus.Rejected);
        } catch {
            _expectFailure(expected, "rejectClaim");
        }
    }

    function withdrawClaim(uint256 claimChoice, uint8 callerChoice) external {
        if (_claims.length == 0) return;
        uint256 id = _preferStatus(
            claimChoice,
            callerChoice % 2 == 0 ? IClaimsManager.ClaimStatus.Submitted : IClaimsManager.ClaimStatus.Escalated
        );
        GhostClaim storage c = _claims[id - 1];
        address caller = _claimantCaller(c, callerChoice);
        bool expected = _mayActAsClaimant(c, caller)
            && (c.status == IClaimsManager.ClaimStatus.Submitted || c.status == IClaimsManager.ClaimStatus.Escalated);
        vm.prank(caller);
        try claims.withdrawClaim(id) {
            _expectSuccess(expected, "withdrawClaim");
            _release(c, IClaimsManager.ClaimStatus.Withdrawn);
        } catch {
            _expectFailure(expected, "withdrawClaim");
        }
    }

    function escalateClaim(uint256 claimChoice, uint8 callerChoice) external {
        if (_claims.length == 0) return;
        uint256 id = _preferStatus(claimChoice, IClaimsManager.ClaimStatus.Submitted);
        GhostClaim storage c = _claims[id - 1];
        address caller = _claimantCaller(c, callerChoice);
        // half the time, let the decision window run out first (time only moves forward)
        if (callerChoice & 0x80 != 0 && _now() <= c.decideBy) vm.warp(c.decideBy + 1);
        bool expected =
            _mayActAsClaimant(c, caller) && c.status == IClaimsManager.ClaimStatus.Submitted && _now() > c.decideBy;
        vm.prank(caller);
        try claims.escalateClaim(id) {
            _expectSuccess(expected, "escalateClaim");
            c.status = IClaimsManager.ClaimStatus.Escalated;
        } catch {
            _expectFailure(expected, "escalateClaim");
        }
    }

    function decideEscalated(uint256 claimChoice, uint8 councilChoice, uint256 amountSeed, bool approve_) external {
        if (_claims.length == 0) return;
        uint256 id = _preferStatus(claimChoice, IClaimsManager.ClaimStatus.Escalated);
        GhostClaim storage c = _claims[id - 1];
        address caller = councilChoice % 4 == 3 ? stranger : council[councilChoice % 3];
        bool escalated = c.status == IClaimsManager.ClaimStatus.Escalated && caller != stranger;
        uint256 amount = _approvalAmount(c, amountSeed);
        vm.prank(caller);
        if (approve_) {
            bool expected = escalated && amount != 0 && amount <= c.amount;
            try claims.approveEscalated(id, amount) {
                _expectSuccess(expected, "approveEscalated");
                _approve(c, amount);
            } catch {
                _expectFailure(expected, "approveEscalated");
            }
        } else {
            uint16 reason = uint16(amountSeed % 4); // 0 is invalid
            bool expected = escalated && reason != 0;
            try claims.rejectEscalated(id, reason) {
                _expectSuccess(expected, "rejectEscalated");
                _release(c, IClaimsManager.ClaimStatus.Rejected);
            } catch {
                _expectFailure(expected, "rejectEscalated");
            }
        }
    }

    function payClaim(uint256 claimChoice) external {
        if (_claims.length == 0) return;
        uint256 id = _preferStatus(claimChoice, IClaimsManager.ClaimStatus.Approved);
        GhostClaim storage c = _claims[id - 1];
        GhostPolicy storage p = _policies[c.policyId - 1];
        bool expected = c.status == IClaimsManager.ClaimStatus.Approved && ghostReserve[p.insurer] >= c.amount;
        vm.prank(stranger); // anyone may trigger a payment
        try claims.payClaim(id) {
            _expectSuccess(expected, "payClaim");
            ++c.paidTimes;
            c.status = IClaimsManager.ClaimStatus.Paid;
            ghostReserve[p.insurer] -= c.amount;
            ghostOwed[p.insurer] -= c.amount;
            p.committed -= c.amount;
            p.paid += c.amount;
            ghostPayout[p.holder] += c.amount;
            ghostCredited += c.amount;
        } catch {
            _expectFailure(expected, "payClaim");
        }
    }

    function withdrawPayout(uint8 holderChoice) external {
        address holder = holders[holderChoice % holders.length];
        uint256 amount = ghostPayout[holder];
        uint256 before = token.balanceOf(holder);
        vm.prank(hospitalAKey); // a hospital pays the gas; the tokens go to the holder
        try claims.withdrawPayout(holder) returns (uint256 sent) {
            _expectSuccess(amount != 0, "withdrawPayout");
            _check(sent == amount && token.balanceOf(holder) == before + amount, "payout went astray");
            ghostPayout[holder] = 0;
            ghostPayoutsWithdrawn += amount;
        } catch {
            _expectFailure(amount != 0, "withdrawPayout");
        }
    }

    /// @dev Anchors a fresh record for a holder (it joins the holder's evidence pool), or tries to anchor one of
    /// the holder's records again through another hospital: first write wins, so that must revert.
    function anchorRecord(uint8 holderChoice, uint256 seed, bool fresh) external {
        address holder = holders[holderChoice % holders.length];
        IClaimsManager.Evidence memory item;
        bool byA = seed % 2 == 0;
        if (fresh) {
            item = IClaimsManager.Evidence(
                keccak256(abi.encode("fresh", recordHashes.length, seed)), bytes32(0), uint8(seed % 11)
            );
            item.salt = keccak256(abi.encode("salt", holder, item.recordHash)); // one salt per record (§6.3 v2)
        } else {
            item = _evidence[holder][seed % _evidence[holder].length];
        }
        bytes32 leaf = records.recordLeaf(item.recordHash, keccak256(abi.encode(holder, item.salt)), item.dataClass);
        vm.prank(byA ? hospitalAKey : hospitalB);
        try records.anchor(item.recordHash, leaf) {
            _expectSuccess(fresh, "anchorRecord");
            _evidence[holder].push(item);
            recordHashes.push(item.recordHash);
        } catch {
            _expectFailure(fresh, "anchorRecord");
        }
    }

    // ---- actions: environment ----

    /// @dev 0: revoke, 1: consent to classes 0..4 only, else: consent to every class (purpose CLAIM).
    function setConsent(uint8 holderChoice, uint8 insurerChoice, uint8 mode) external {
        address holder = holders[holderChoice % holders.length];
        address insurer = insurers[insurerChoice % insurers.length];
        mode %= 5;
        if (mode == 0) {
            if (_consentClasses[holder][insurer] == 0) return;
            vm.prank(holder);
            consent.revoke(insurer, CLAIM);
            _consentClasses[holder][insurer] = 0;
        } else {
            uint64 classes = mode == 1 ? SOME_CLASSES : ALL_CLASSES;
            vm.prank(holder);
            consent.grant(insurer, CLAIM, classes, 0, 0);
            _consentClasses[holder][insurer] = classes;
        }
        ++succeeded["setConsent"];
    }

    /// @dev Reinstates insurer1, or (one time in three) suspends it, through the council (a suspended insurer's
    /// claims can only be escalated to the council, withdrawn or paid).
    function toggleInsurer(uint8 seed) external {
        address insurer = insurers[1];
        if (ghostSuspended[insurer]) _reinstate(insurer);
        else if (seed % 3 == 0) _suspend(insurer);
        else return;
        ghostSuspended[insurer] = !ghostSuspended[insurer];
        ++succeeded["toggleInsurer"];
    }

    function warp(uint32 secondsAhead) external {
        uint256 step = secondsAhead % 8 == 0 ? secondsAhead % 45 days : secondsAhead % 3 days;
        vm.warp(block.timestamp + step);
    }

    // ---- views for the invariants ----

    function policyCount() external view returns (uint256) {
        return _policies.length;
    }

    function claimCount() external view returns (uint256) {
        return _claims.length;
    }

    function recordHashCount() external view returns (uint256) {
        return recordHashes.length;
    }

    function holderCount() external view returns (uint256) {
        return holders.length;
    }

    function insurerCount() external view returns (uint256) {
        return insurers.length;
    }

    function ghostPolicy(uint256 id) external view returns (GhostPolicy memory) {
        return _policies[id - 1];
    }

    /// @notice Per claim (index = id - 1): how many times the ghost saw it paid, and its ghost status.
    function ghostClaims()
        external
        view
        returns (uint256[] memory paidTimes, IClaimsManager.ClaimStatus[] memory statuses)
    {
        paidTimes = new uint256[](_claims.length);
        statuses = new IClaimsManager.ClaimStatus[](_claims.length);
        for (uint256 i = 0; i < _claims.length; ++i) {
            (paidTimes[i], statuses[i]) = (_claims[i].paidTimes, _claims[i].status);
        }
    }

    function allRecordHashes() external view returns (bytes32[] memory) {
        return recordHashes;
    }

    function claimRecordHashes(uint256 id) external view returns (bytes32[] memory) {
        return _claims[id - 1].recordHashes;
    }

    // ---- internal: setup ----

    /// @dev Three holders, each with RECORDS_PER_HOLDER records of its own, plus two record hashes anchored for two
    /// holders each (same file, different patient commitments): the duplicate guard is keyed by record hash.
    function _setUpHolders() internal {
        for (uint256 i = 0; i < 3; ++i) {
            address holder = _addr(string.concat("holder", vm.toString(i)));
            holders.push(holder);
            for (uint256 j = 0; j < RECORDS_PER_HOLDER; ++j) {
                _anchorFor(holder, keccak256(abi.encode("record", i, j)), uint8((i + j * 3) % 11), j % 2 == 0);
            }
            for (uint256 k = 0; k < insurers.length; ++k) {
                vm.prank(holder);
                consent.grant(insurers[k], CLAIM, ALL_CLASSES, 0, 0);
                _consentClasses[holder][insurers[k]] = ALL_CLASSES;
            }
        }
        _anchorFor(holders[0], keccak256("shared-0"), 3, true);
        _anchorFor(holders[1], keccak256("shared-0"), 3, false);
        _anchorFor(holders[1], keccak256("shared-1"), 6, true);
        _anchorFor(holders[2], keccak256("shared-1"), 6, false);
    }

    function _anchorFor(address holder, bytes32 recordHash, uint8 dataClass, bool byA) internal {
        bytes32 salt = keccak256(abi.encode("salt", holder, recordHash)); // one salt per record (§6.3 v2)
        bytes32 leaf = records.recordLeaf(recordHash, keccak256(abi.encode(holder, salt)), dataClass);
        vm.prank(byA ? hospitalAKey : hospitalB);
        records.anchor(recordHash, leaf);
        _anchoredBy[keccak256(abi.encode(holder, recordHash))] = byA ? hospitalA : hospitalB;
        _evidence[holder].push(IClaimsManager.Evidence(recordHash, salt, dataClass));
        for (uint256 i = 0; i < recordHashes.length; ++i) {
            if (recordHashes[i] == recordHash) return;
        }
        recordHashes.push(recordHash);
    }

    /// @dev insurer0: 1-day decision window and dual control above 500; insurer1: defaults. Both funded.
    function _setUpSettings() internal {
        vm.prank(insurers[0]);
        claims.setClaimSettings(1 days, 500);
        (_window[insurers[0]], _threshold[insurers[0]]) = (1 days, 500);
        for (uint256 k = 0; k < insurers.length; ++k) {
            token.mint(funder, 5_000);
            vm.startPrank(funder);
            token.approve(address(claims), 5_000);
            claims.depositReserve(insurers[k], 5_000);
            vm.stopPrank();
            ghostReserve[insurers[k]] = 5_000;
        }
    }

    /// @dev One policy per (holder, insurer), so that claims can start at once.
    function _setUpPolicies() internal {
        for (uint256 h = 0; h < holders.length; ++h) {
            for (uint256 k = 0; k < insurers.length; ++k) {
                (uint64 validFrom, uint64 validUntil) = (_now(), _now() + 60 days);
                vm.prank(_insurerKeys[insurers[k]][h % 2]);
                claims.createPolicy(holders[h], 4_000, validFrom, validUntil);
                _policies.push(GhostPolicy(holders[h], insurers[k], 4_000, 0, 0, validFrom, validUntil));
            }
        }
    }

    // ---- internal: choices ----

    /// @dev A submission decoded from fuzz seeds, with the model's verdict.
    function _submission(uint256 policyChoice, uint256 amountSeed, uint256 evidenceSeed, uint8 submitterChoice)
        internal
        view
        returns (Submission memory sub)
    {
        sub.policyId = 1 + policyChoice % _policies.length;
        GhostPolicy storage p = _policies[sub.policyId - 1];
        (sub.submitter, sub.claimant) = _submitter(p.holder, submitterChoice);
        uint256 remaining = p.coverage - p.paid - p.committed;
        sub.amount = amountSeed % 16 == 0 ? amountSeed % 20_000 : 1 + amountSeed % (remaining == 0 ? 1 : remaining);
        bool evidenceOk;
        uint64 classes;
        (sub.evidence, evidenceOk, classes) = _pickEvidence(p.holder, evidenceSeed);
        sub.expected = sub.claimant != address(0) && _inForce(p) && sub.amount != 0 && sub.amount <= remaining
            && evidenceOk && !ghostSuspended[p.insurer] && _consentCovers(p.holder, p.insurer, classes)
            && _submitterMay(p.holder, sub.claimant, sub.evidence, classes);
        sub.invoiceHash = keccak256(abi.encode("invoice", amountSeed));
        sub.claimRef = keccak256(abi.encode("ref", evidenceSeed));
    }

    /// @dev Issue 12 item 3: the holder submits any of its records; a hospital only records it anchored itself,
    /// or with the holder's consent for purpose CLAIM covering the classes.
    function _submitterMay(
        address holder,
        address claimant,
        IClaimsManager.Evidence[] memory evidence,
        uint64 classes
    ) internal view returns (bool) {
        if (claimant == holder) return true;
        for (uint256 i = 0; i < evidence.length; ++i) {
            if (_anchoredBy[keccak256(abi.encode(holder, evidence[i].recordHash))] != claimant) {
                return _consentCovers(holder, claimant, classes);
            }
        }
        return true;
    }

    /// @dev 0-1: the holder; 2: hospitalA's key; 3: hospitalB (member address); 4: a stranger (not allowed).
    function _submitter(address holder, uint8 choice) internal view returns (address submitter, address claimant) {
        choice %= 5;
        if (choice <= 1) return (holder, holder);
        if (choice == 2) return (hospitalAKey, hospitalA);
        if (choice == 3) return (hospitalB, hospitalB);
        return (stranger, address(0));
    }

    /// @dev 1..3 records of the holder; now and then one of another holder's (not anchored for this holder) or
    /// the same record twice. Returns whether the model accepts the evidence (anchored, distinct, not live).
    function _pickEvidence(address holder, uint256 seed)
        internal
        view
        returns (IClaimsManager.Evidence[] memory evidence, bool ok, uint64 classes)
    {
        IClaimsManager.Evidence[] storage pool = _evidence[holder];
        evidence = new IClaimsManager.Evidence[](seed % 2 == 0 ? 1 : 1 + seed % 3);
        ok = true;
        for (uint256 i = 0; i < evidence.length; ++i) {
            evidence[i] = pool[(seed >> (8 * (i + 1))) % pool.length];
        }
        if ((seed >> 64) % 16 == 0) {
            address other = holders[(seed >> 72) % holders.length];
            evidence[0] = _evidence[other][(seed >> 80) % _evidence[other].length];
            ok = other == holder;
        }
        for (uint256 i = 0; i < evidence.length; ++i) {
            classes |= uint64(1) << evidence[i].dataClass;
            if (_isLive(_lastClaim[evidence[i].recordHash])) ok = false;
            for (uint256 j = 0; j < i; ++j) {
                if (evidence[j].recordHash == evidence[i].recordHash) ok = false;
            }
        }
    }

    /// @dev Mostly a key of the claim's insurer (the other key when a first approval is pending); sometimes the
    /// other insurer's key or the insurer's member address.
    function _approver(address insurer, GhostClaim storage c, uint8 choice) internal view returns (address) {
        choice %= 8;
        if (choice == 7) return _insurerKeys[insurers[0] == insurer ? insurers[1] : insurers[0]][0];
        if (choice == 6) return insurer;
        if (c.pendingKey != address(0) && choice < 4) {
            return c.pendingKey == _insurerKeys[insurer][0] ? _insurerKeys[insurer][1] : _insurerKeys[insurer][0];
        }
        return _insurerKeys[insurer][choice % 2];
    }

    /// @dev Mostly the pending amount or the full claimed amount, else any amount up to a little above it.
    function _approvalAmount(GhostClaim storage c, uint256 seed) internal view returns (uint256) {
        uint256 pick = seed % 4;
        if (pick == 0 && c.pendingAmount != 0) return c.pendingAmount;
        if (pick <= 1) return c.amount;
        return (seed >> 8) % (c.amount + 2);
    }

    /// @dev The edge cases: all that is withdrawable, more (into the owed part: half the time when something is
    /// owed), the whole reserve, any amount; else a small part of what is withdrawable.
    function _withdrawalAmount(uint256 seed, uint256 available, uint256 reserve) internal pure returns (uint256) {
        uint256 pick = seed % 8;
        if (reserve > available && pick >= 4) pick = 1; // something is owed: try to take it half the time
        if (pick == 0) return available;
        if (pick == 1) return available + 1 + (seed >> 8) % (reserve > available ? reserve - available : 1);
        if (pick == 2) return reserve;
        if (pick == 3) return (seed >> 8) % 30_000;
        return 1 + (seed >> 8) % (available / 4 + 1);
    }

    /// @dev 0-1: the holder; 2: a key of the claimant (if a hospital) else hospitalA's key; 3: a stranger.
    function _claimantCaller(GhostClaim storage c, uint8 choice) internal view returns (address) {
        choice %= 4;
        if (choice <= 1) return _policies[c.policyId - 1].holder;
        if (choice == 2) return c.claimant == hospitalB ? hospitalB : hospitalAKey;
        return stranger;
    }

    function _mayActAsClaimant(GhostClaim storage c, address caller) internal view returns (bool) {
        if (caller == _policies[c.policyId - 1].holder) return true;
        address member = caller == hospitalAKey ? hospitalA : (caller == hospitalB ? hospitalB : address(0));
        return member != address(0) && member == c.claimant;
    }

    /// @dev Three times in four the first claim in `status` from a random start (so rare states get exercised),
    /// else (or if there is none) any claim.
    function _preferStatus(uint256 choice, IClaimsManager.ClaimStatus status) internal view returns (uint256) {
        uint256 n = _claims.length;
        uint256 start = choice % n;
        if ((choice >> 128) % 4 != 0) {
            for (uint256 t = 0; t < n; ++t) {
                uint256 i = (start + t) % n;
                if (_claims[i].status == status) return i + 1;
            }
        }
        return start + 1;
    }

    function _insurerOfKey(address key) internal view returns (address) {
        for (uint256 k = 0; k < insurers.length; ++k) {
            address insurer = insurers[k];
            if (key == insurer || key == _insurerKeys[insurer][0] || key == _insurerKeys[insurer][1]) return insurer;
        }
        return address(0);
    }

    // ---- internal: model ----

    function _inForce(GhostPolicy storage p) internal view returns (bool) {
        return _now() >= p.validFrom && _now() <= p.validUntil;
    }

    function _consentCovers(address holder, address insurer, uint64 classes) internal view returns (bool) {
        uint64 granted = _consentClasses[holder][insurer];
        return granted != 0 && granted & classes == classes;
    }

    function _isLive(uint256 claimId) internal view returns (bool) {
        if (claimId == 0) return false;
        IClaimsManager.ClaimStatus s = _claims[claimId - 1].status;
        return s != IClaimsManager.ClaimStatus.Rejected && s != IClaimsManager.ClaimStatus.Withdrawn;
    }

    function _recordClaim(uint256 policyId, address claimant, uint256 amount, IClaimsManager.Evidence[] memory evidence)
        internal
    {
        GhostClaim storage c = _claims.push();
        GhostPolicy storage p = _policies[policyId - 1];
        (c.policyId, c.claimant, c.status, c.amount) =
        (policyId, claimant, IClaimsManager.ClaimStatus.Submitted, amount);
        c.decideBy = _now() + (_window[p.insurer] == 0 ? 30 days : _window[p.insurer]);
        for (uint256 i = 0; i < evidence.length; ++i) {
            c.recordHashes.push(evidence[i].recordHash);
            _lastClaim[evidence[i].recordHash] = _claims.length;
        }
        p.committed += amount;
    }

    function _approve(GhostClaim storage c, uint256 amount) internal {
        GhostPolicy storage p = _policies[c.policyId - 1];
        p.committed -= c.amount - amount;
        ghostOwed[p.insurer] += amount;
        (c.status, c.amount) = (IClaimsManager.ClaimStatus.Approved, amount);
    }

    function _release(GhostClaim storage c, IClaimsManager.ClaimStatus status) internal {
        _policies[c.policyId - 1].committed -= c.amount;
        c.status = status;
    }
}
