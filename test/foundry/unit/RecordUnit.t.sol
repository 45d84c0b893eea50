// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Base} from "../utils/Base.sol";
import {Vm} from "../utils/Vm.sol";
import {Merkle} from "../utils/Merkle.sol";
import {IConsentRegistry} from "../../../interfaces/IConsentRegistry.sol";
import {IConsortium} from "../../../interfaces/IConsortium.sol";
import {IRecordRegistry} from "../../../interfaces/IRecordRegistry.sol";
import {ConsentRegistry} from "../../../contracts/ConsentRegistry.sol";
import {RecordRegistry} from "../../../contracts/RecordRegistry.sol";

/// @title RecordUnit
/// @notice RecordRegistry paths beyond the Merkle fuzz suite: single and many anchors, amendments and lineage,
/// batch errors, materialisation errors, consent-checked access logging (consent, break-glass, refusals), views.
/// Every record has its own salt (DESIGN §6.3 v2): `_salt(recordHash)`; helpers compute commitments and leaves
/// in Solidity (no external call, so they never consume a pending prank or expectRevert).
contract RecordUnit is Base {
    uint8 internal constant TREATMENT = 1;
    uint8 internal constant EMERGENCY = 4;
    uint8 internal constant LAB = 3;
    uint8 internal constant IMAGING = 4;
    uint8 internal constant SUMMARY = 0;
    bytes32 internal constant ROLE_HOSPITAL = keccak256("HOSPITAL");

    ConsentRegistry internal consent;
    RecordRegistry internal records;
    address internal hospital;
    address internal hospitalKey;
    address internal otherHospital;
    address internal patient;
    address internal stranger;

    function setUp() public {
        vm.warp(T0);
        _deployConsortium(1, 1);
        hospital = _admit("hospital", HOSPITAL);
        hospitalKey = _operator(hospital, "hospital-key");
        otherHospital = _admit("otherHospital", HOSPITAL);
        patient = _addr("patient");
        stranger = _addr("stranger");
        consent = new ConsentRegistry(consortium);
        records = new RecordRegistry(consortium, consent);
    }

    function test_constructor_rejectsZeroAddresses() public {
        vm.expectRevert(
            abi.encodeWithSelector(IRecordRegistry.RecordZeroAddress.selector, address(0), address(consent))
        );
        new RecordRegistry(IConsortium(address(0)), consent);
        vm.expectRevert(
            abi.encodeWithSelector(IRecordRegistry.RecordZeroAddress.selector, address(consortium), address(0))
        );
        new RecordRegistry(consortium, IConsentRegistry(address(0)));
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.RecordZeroAddress.selector, address(0), address(0)));
        new RecordRegistry(IConsortium(address(0)), IConsentRegistry(address(0)));
        vm.assertEq(records.consortium(), address(consortium), "consortium");
    }

    // ---- anchor / anchorMany ----

    function test_anchor_storesTheMemberAndFirstWriteWins() public {
        bytes32 leaf = _leaf("r1", LAB);
        vm.prank(hospitalKey);
        vm.assertEq(records.anchor(keccak256("r1"), leaf), leaf, "returns the leaf");
        IRecordRegistry.Record memory r = records.getRecord(leaf);
        vm.assertEq(r.hospital, hospital, "member, not the key");
        vm.assertEq(r.anchoredAt, T0, "time");
        vm.assertEq(uint8(r.origin), uint8(IRecordRegistry.RecordOrigin.Single), "origin");
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.RecordAlreadyAnchored.selector, leaf, hospital, T0));
        vm.prank(otherHospital);
        records.anchor(keccak256("r1"), leaf);
    }

    function test_anchor_emitsOnlyTheLeafAndTheRecordHash() public {
        bytes32 leaf = _leaf("r1", LAB);
        vm.recordLogs();
        vm.prank(hospital);
        records.anchor(keccak256("r1"), leaf);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        vm.assertEq(logs.length, 1, "one log");
        vm.assertEq(logs[0].topics.length, 3, "signature, leaf, record hash");
        vm.assertEq(logs[0].topics[0], keccak256("RecordAnchored(bytes32,bytes32)"), "event");
        vm.assertEq(logs[0].topics[1], leaf, "leaf");
        vm.assertEq(logs[0].topics[2], keccak256("r1"), "record hash");
        vm.assertEq(logs[0].data.length, 0, "no data: neither commitment nor class");
    }

    function test_anchor_rejectsBadInput() public {
        bytes32 leaf = _leaf("r", LAB);
        vm.startPrank(hospital);
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.RecordInvalidHash.selector, bytes32(0), leaf));
        records.anchor(bytes32(0), leaf);
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.RecordInvalidHash.selector, keccak256("r"), bytes32(0)));
        records.anchor(keccak256("r"), bytes32(0));
        vm.stopPrank();
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.RecordUnauthorized.selector, stranger, ROLE_HOSPITAL));
        vm.prank(stranger);
        records.anchor(keccak256("r"), leaf);
    }

    function test_anchorMany_isAllOrNothing() public {
        bytes32[] memory hashes = new bytes32[](3);
        bytes32[] memory leaves = new bytes32[](3);
        for (uint256 i = 0; i < 3; ++i) {
            hashes[i] = keccak256(abi.encode(i));
            leaves[i] = records.recordLeaf(hashes[i], _commitmentOf(hashes[i]), uint8(i));
        }
        vm.startPrank(hospital);
        bytes32[] memory returned = records.anchorMany(hashes, leaves);
        vm.assertEq(returned.length, 3, "leaves");
        vm.assertEq(returned[2], leaves[2], "returns the leaves in order");
        vm.assertEq(records.getRecord(leaves[2]).hospital, hospital, "third record");
        bytes32 fresh = keccak256("fresh");
        hashes[0] = fresh; // the others are anchored already: nothing is written
        leaves[0] = records.recordLeaf(fresh, _commitmentOf(fresh), 0);
        vm.expectPartialRevert(IRecordRegistry.RecordAlreadyAnchored.selector);
        records.anchorMany(hashes, leaves);
        vm.assertEq(records.getRecord(leaves[0]).hospital, address(0), "rolled back");
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.RecordInvalidArrays.selector, 3, 2));
        records.anchorMany(hashes, new bytes32[](2));
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.RecordInvalidArrays.selector, 1, 3));
        records.anchorMany(new bytes32[](1), leaves);
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.RecordInvalidArrays.selector, 0, 0));
        records.anchorMany(new bytes32[](0), new bytes32[](0));
        bytes32[] memory zeroLeaf = new bytes32[](1);
        bytes32[] memory oneHash = new bytes32[](1);
        oneHash[0] = fresh;
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.RecordInvalidHash.selector, fresh, bytes32(0)));
        records.anchorMany(oneHash, zeroLeaf);
        vm.stopPrank();
    }

    // ---- amend ----

    function test_amend_buildsALineage() public {
        vm.startPrank(hospital);
        bytes32 v1 = records.anchor(keccak256("v1"), _leaf("v1", LAB));
        bytes32 v2 = records.amend(v1, keccak256("v2"), _leaf("v2", LAB));
        vm.assertEq(v2, _leaf("v2", LAB), "returns the new leaf");
        vm.assertEq(records.supersededBy(v1), v2, "v1 -> v2");
        vm.assertEq(records.supersededBy(v2), bytes32(0), "v2 is the latest");
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.RecordAlreadySuperseded.selector, v1, v2));
        records.amend(v1, keccak256("v3"), _leaf("v3", LAB));
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.RecordNonexistent.selector, keccak256("nope")));
        records.amend(keccak256("nope"), keccak256("v3"), _leaf("v3", LAB));
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.RecordInvalidHash.selector, keccak256("v3"), bytes32(0)));
        records.amend(v2, keccak256("v3"), bytes32(0));
        vm.stopPrank();
        vm.expectRevert(
            abi.encodeWithSelector(IRecordRegistry.RecordUnauthorizedHospital.selector, v2, hospital, otherHospital)
        );
        vm.prank(otherHospital);
        records.amend(v2, keccak256("v3"), _leaf("v3", LAB));
    }

    // ---- batches ----

    function test_anchorBatch_errorsAndViews() public {
        vm.startPrank(hospital);
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.RecordInvalidBatch.selector, bytes32(0), 1));
        records.anchorBatch(bytes32(0), 1, "");
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.RecordInvalidBatch.selector, keccak256("root"), 0));
        records.anchorBatch(keccak256("root"), 0, "");
        vm.assertEq(records.anchorBatch(keccak256("root"), 7, "uri"), keccak256("root"), "batch id");
        vm.expectPartialRevert(IRecordRegistry.RecordBatchAlreadyAnchored.selector);
        records.anchorBatch(keccak256("root"), 7, "uri");
        vm.stopPrank();
        IRecordRegistry.Batch memory b = records.getBatch(keccak256("root"));
        vm.assertEq(b.hospital, hospital, "batch hospital");
        vm.assertEq(b.leafCount, 7, "leaf count");
        vm.assertEq(b.anchoredAt, T0, "batch time");
    }

    function test_materialise_errors() public {
        bytes32 a = keccak256("a");
        bytes32[] memory leaves = new bytes32[](2);
        leaves[0] = _leaf("a", LAB);
        leaves[1] = _leaf("b", LAB);
        Merkle.sort(leaves);
        bytes32[] memory tree = Merkle.build(leaves);
        bytes32[] memory proof = Merkle.proof(tree, Merkle.indexOf(leaves, _leaf("a", LAB)));
        bytes32 ca = _commitmentOf(a);
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.RecordBatchNonexistent.selector, tree[0]));
        records.materialise(tree[0], a, ca, LAB, proof);
        vm.prank(hospital);
        records.anchorBatch(tree[0], 2, "");
        vm.warp(T0 + 1 days);
        vm.expectPartialRevert(IRecordRegistry.RecordInvalidProof.selector);
        records.materialise(tree[0], keccak256("c"), ca, LAB, proof);
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.RecordInvalidHash.selector, a, bytes32(0)));
        records.materialise(tree[0], a, bytes32(0), LAB, proof);
        // the class is checked before the proof
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.RecordInvalidDataClass.selector, 11));
        records.materialise(tree[0], a, ca, 11, proof);
        vm.prank(stranger); // anyone may materialise
        bytes32 leaf = records.materialise(tree[0], a, ca, LAB, proof);
        IRecordRegistry.Record memory r = records.getRecord(leaf);
        vm.assertEq(r.anchoredAt, T0, "the batch's time, not now");
        vm.assertEq(r.hospital, hospital, "the batch's hospital");
        bytes32 a2 = _leaf("a2", LAB);
        vm.prank(hospital); // a materialised record can be amended by its hospital
        records.amend(leaf, keccak256("a2"), a2);
    }

    // ---- access log ----

    function test_logAccess_needsConsentOrBreakGlass() public {
        bytes32 r = keccak256("r");
        _anchor("r", LAB);
        vm.expectRevert(
            abi.encodeWithSelector(
                IRecordRegistry.RecordAccessNotPermitted.selector, patient, hospital, TREATMENT, uint64(1) << LAB
            )
        );
        vm.prank(hospitalKey);
        records.logAccess(r, patient, _salt(r), LAB, TREATMENT);

        vm.prank(patient);
        consent.grant(hospital, TREATMENT, uint64(1) << LAB, 0, 0);
        vm.prank(hospitalKey);
        bytes32 leaf = records.logAccess(r, patient, _salt(r), LAB, TREATMENT);
        vm.assertEq(leaf, _leaf("r", LAB), "accessed leaf");

        vm.expectPartialRevert(IRecordRegistry.RecordAccessNotPermitted.selector);
        vm.prank(hospital);
        records.logAccess(r, patient, _salt(r), LAB, EMERGENCY);
        vm.prank(hospital);
        consent.openEmergency(patient, 1, keccak256("justification"));
        vm.prank(hospital);
        records.logAccess(r, patient, _salt(r), LAB, EMERGENCY);
    }

    function test_logAccess_rejectsBadInput() public {
        bytes32 r = keccak256("r");
        bytes32 salt = _salt(r);
        vm.startPrank(hospital);
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.RecordInvalidPurpose.selector, 0));
        records.logAccess(r, patient, salt, LAB, 0);
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.RecordInvalidPurpose.selector, 6));
        records.logAccess(r, patient, salt, LAB, 6);
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.RecordInvalidDataClass.selector, 11));
        records.logAccess(r, patient, salt, 11, TREATMENT);
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.RecordNonexistent.selector, _leaf("r", LAB)));
        records.logAccess(r, patient, salt, LAB, TREATMENT);
        vm.stopPrank();
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.RecordUnauthorized.selector, stranger, ROLE_HOSPITAL));
        vm.prank(stranger);
        records.logAccess(r, patient, salt, LAB, TREATMENT);
    }

    // ---- logAccessMany ----

    function test_logAccessMany_logsEveryRecordInOrder() public {
        IRecordRegistry.Opening[] memory openings = _anchoredOpenings();
        vm.prank(patient);
        consent.grant(hospital, TREATMENT, _union(), 0, 0);
        vm.recordLogs();
        vm.prank(hospitalKey);
        bytes32[] memory leaves = records.logAccessMany(patient, TREATMENT, openings);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        vm.assertEq(leaves.length, 3, "leaves");
        vm.assertEq(logs.length, 3, "one RecordAccessed per record");
        bytes32 sig = keccak256("RecordAccessed(bytes32,address,address,uint8,uint8,address)");
        for (uint256 i = 0; i < 3; ++i) {
            bytes32 leaf = _leafOf(openings[i]);
            vm.assertEq(leaves[i], leaf, "returned leaf, input order");
            vm.assertEq(logs[i].topics[0], sig, "event");
            vm.assertEq(logs[i].topics[1], leaf, "logged leaf, input order");
            (uint8 purpose, uint8 dataClass, address by) = abi.decode(logs[i].data, (uint8, uint8, address));
            vm.assertEq(uint256(purpose), uint256(TREATMENT), "purpose");
            vm.assertEq(uint256(dataClass), uint256(openings[i].dataClass), "the opened record's class");
            vm.assertEq(by, hospitalKey, "key");
        }
    }

    function test_logAccessMany_rejectsBadInput() public {
        IRecordRegistry.Opening[] memory openings = _anchoredOpenings();
        uint256 max = records.MAX_ACCESS_BATCH();
        vm.assertEq(max, 256, "MAX_ACCESS_BATCH");
        vm.startPrank(hospital);
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.RecordInvalidAccessCount.selector, 0, max));
        records.logAccessMany(patient, TREATMENT, new IRecordRegistry.Opening[](0));
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.RecordInvalidAccessCount.selector, max + 1, max));
        records.logAccessMany(patient, TREATMENT, new IRecordRegistry.Opening[](max + 1));
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.RecordInvalidPurpose.selector, 6));
        records.logAccessMany(patient, 6, openings);
        vm.expectRevert(
            abi.encodeWithSelector(
                IRecordRegistry.RecordAccessNotPermitted.selector, patient, hospital, TREATMENT, _union()
            )
        );
        records.logAccessMany(patient, TREATMENT, openings);
        openings[1].salt = keccak256("another salt");
        bytes32 unknown = _leafOf(openings[1]);
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.RecordNonexistent.selector, unknown));
        records.logAccessMany(patient, TREATMENT, openings);
        openings[1].dataClass = 11;
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.RecordInvalidDataClass.selector, 11));
        records.logAccessMany(patient, TREATMENT, openings);
        vm.stopPrank();
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.RecordUnauthorized.selector, stranger, ROLE_HOSPITAL));
        vm.prank(stranger);
        records.logAccessMany(patient, TREATMENT, openings);
    }

    /// @notice logAccessMany behaves as logAccess of each opening, one by one, with one consent check for the
    /// union: it succeeds iff every logAccess succeeds, returns and logs the same leaves in the same order, and
    /// otherwise reverts with the first unknown record, else the first invalid class, else the union bitmap.
    function testFuzz_logAccessMany_equalsLogAccessOneByOne(uint256 seed, uint16 consented, uint8 n) public {
        n = uint8(_bound(n, 1, 8));
        uint64 grant = uint64(consented) & 0x7FF;
        if (grant != 0) {
            vm.prank(patient);
            consent.grant(hospital, TREATMENT, grant, 0, 0);
        }
        IRecordRegistry.Opening[] memory openings = new IRecordRegistry.Opening[](n);
        for (uint256 i = 0; i < n; ++i) {
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            bytes32 h = keccak256(abi.encode("fuzz", r % 6)); // a few hashes: duplicates happen
            openings[i] = IRecordRegistry.Opening(h, _salt(h), uint8(r >> 8) % 12); // class 11 is invalid
            if (openings[i].dataClass > 10 || (r >> 16) % 4 == 0) continue; // about a quarter stays unknown
            bytes32 leaf = _leafOf(openings[i]);
            if (records.getRecord(leaf).hospital == address(0)) {
                vm.prank(hospital);
                records.anchor(h, leaf);
            }
        }
        // the model: the first opening with an invalid class or an unknown record, else the union's consent
        bytes memory expected; // logAccessMany's revert data, empty if it should succeed
        uint64 union;
        for (uint256 i = 0; i < n && expected.length == 0; ++i) {
            uint8 dataClass = openings[i].dataClass;
            if (dataClass > 10) {
                expected = abi.encodeWithSelector(IRecordRegistry.RecordInvalidDataClass.selector, dataClass);
            } else if (records.getRecord(_leafOf(openings[i])).hospital == address(0)) {
                expected = abi.encodeWithSelector(IRecordRegistry.RecordNonexistent.selector, _leafOf(openings[i]));
            }
            union |= uint64(1) << (dataClass % 64);
        }
        if (expected.length == 0 && union & grant != union) {
            expected = abi.encodeWithSelector(
                IRecordRegistry.RecordAccessNotPermitted.selector, patient, hospital, TREATMENT, union
            );
        }

        bool singlesOk = true;
        bytes32[] memory singleLeaves = new bytes32[](n);
        vm.recordLogs();
        for (uint256 i = 0; i < n; ++i) {
            IRecordRegistry.Opening memory o = openings[i];
            vm.prank(hospital);
            try records.logAccess(o.recordHash, patient, o.salt, o.dataClass, TREATMENT) returns (bytes32 leaf) {
                singleLeaves[i] = leaf;
            } catch {
                singlesOk = false;
            }
        }
        Vm.Log[] memory singleLogs = vm.getRecordedLogs();
        vm.assertEq(singlesOk, expected.length == 0, "model: every single access passes iff no revert expected");

        vm.prank(hospital);
        try records.logAccessMany(patient, TREATMENT, openings) returns (bytes32[] memory leaves) {
            Vm.Log[] memory logs = vm.getRecordedLogs();
            vm.assertTrue(singlesOk, "many succeeded where a single access failed");
            vm.assertEq(expected.length, 0, "many succeeded where the model expects a revert");
            vm.assertEq(logs.length, singleLogs.length, "same number of events");
            for (uint256 i = 0; i < n; ++i) {
                vm.assertEq(leaves[i], singleLeaves[i], "same leaf");
                vm.assertEq(
                    keccak256(abi.encode(logs[i].topics)), keccak256(abi.encode(singleLogs[i].topics)), "topics"
                );
                vm.assertEq(keccak256(logs[i].data), keccak256(singleLogs[i].data), "data");
            }
        } catch (bytes memory err) {
            vm.assertFalse(singlesOk && expected.length == 0, "many reverted where every single access passed");
            vm.assertEq(keccak256(err), keccak256(expected), "revert data");
        }
    }

    function test_views() public view {
        bytes32 r = keccak256("r");
        bytes32 commitment = _commitmentOf(r);
        vm.assertEq(records.consortium(), address(consortium), "consortium");
        vm.assertEq(records.consentRegistry(), address(consent), "consent registry");
        vm.assertEq(records.patientCommitment(patient, _salt(r)), commitment, "DESIGN 6.3 commitment");
        vm.assertEq(records.recordLeaf(r, commitment, LAB), _leaf("r", LAB), "DESIGN 6.5 leaf");
        vm.assertFalse(
            records.verifyBatchRecord(keccak256("nope"), r, commitment, LAB, new bytes32[](0)), "unknown root"
        );
    }

    // ---- helpers (no external calls) ----

    /// @dev The record's own salt (DESIGN §6.3 v2): no two records share one.
    function _salt(bytes32 recordHash) internal pure returns (bytes32) {
        return keccak256(abi.encode("salt", recordHash));
    }

    function _commitmentOf(bytes32 recordHash) internal view returns (bytes32) {
        return keccak256(abi.encode(patient, _salt(recordHash)));
    }

    /// @dev DESIGN §6.5 leaf of the patient's record `label` with its own salt.
    function _leaf(string memory label, uint8 dataClass) internal view returns (bytes32) {
        bytes32 h = keccak256(bytes(label));
        return keccak256(bytes.concat(keccak256(abi.encode(h, _commitmentOf(h), dataClass))));
    }

    function _leafOf(IRecordRegistry.Opening memory o) internal view returns (bytes32) {
        bytes32 commitment = keccak256(abi.encode(patient, o.salt));
        return keccak256(bytes.concat(keccak256(abi.encode(o.recordHash, commitment, o.dataClass))));
    }

    function _anchor(string memory label, uint8 dataClass) internal returns (bytes32 leaf) {
        leaf = _leaf(label, dataClass);
        vm.prank(hospital);
        records.anchor(keccak256(bytes(label)), leaf);
    }

    function _union() internal pure returns (uint64) {
        return (uint64(1) << LAB) | (uint64(1) << IMAGING) | (uint64(1) << SUMMARY);
    }

    /// @dev Three anchored records of the patient (LAB, IMAGING, SUMMARY) and their openings.
    function _anchoredOpenings() internal returns (IRecordRegistry.Opening[] memory openings) {
        string[3] memory labels = ["m-lab", "m-imaging", "m-summary"];
        uint8[3] memory classes = [LAB, IMAGING, SUMMARY];
        openings = new IRecordRegistry.Opening[](3);
        for (uint256 i = 0; i < 3; ++i) {
            _anchor(labels[i], classes[i]);
            bytes32 h = keccak256(bytes(labels[i]));
            openings[i] = IRecordRegistry.Opening(h, _salt(h), classes[i]);
        }
    }
}
