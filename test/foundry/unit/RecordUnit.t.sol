// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Base} from "../utils/Base.sol";
import {Merkle} from "../utils/Merkle.sol";
import {IRecordRegistry} from "../../../interfaces/IRecordRegistry.sol";
import {ConsentRegistry} from "../../../contracts/ConsentRegistry.sol";
import {RecordRegistry} from "../../../contracts/RecordRegistry.sol";

/// @title RecordUnit
/// @notice RecordRegistry paths beyond the Merkle fuzz suite: single and many anchors, amendments and lineage,
/// batch errors, materialisation errors, consent-checked access logging (consent, break-glass, refusals), views.
contract RecordUnit is Base {
    uint8 internal constant TREATMENT = 1;
    uint8 internal constant EMERGENCY = 4;
    uint8 internal constant LAB = 3;

    ConsentRegistry internal consent;
    RecordRegistry internal records;
    address internal hospital;
    address internal hospitalKey;
    address internal otherHospital;
    address internal patient;
    address internal stranger;
    bytes32 internal salt = keccak256("salt");
    bytes32 internal commitment;

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
        commitment = records.patientCommitment(patient, salt);
    }

    // ---- anchor / anchorMany ----

    function test_anchor_storesTheMemberAndFirstWriteWins() public {
        vm.prank(hospitalKey);
        bytes32 leaf = records.anchor(keccak256("r1"), commitment, LAB);
        vm.assertEq(leaf, records.recordLeaf(keccak256("r1"), commitment, LAB), "leaf");
        IRecordRegistry.Record memory r = records.getRecord(leaf);
        vm.assertEq(r.hospital, hospital, "member, not the key");
        vm.assertEq(r.anchoredAt, T0, "time");
        vm.assertEq(r.dataClass, LAB, "class");
        vm.assertEq(uint8(r.origin), uint8(IRecordRegistry.RecordOrigin.Single), "origin");
        vm.expectPartialRevert(IRecordRegistry.RecordAlreadyAnchored.selector);
        vm.prank(otherHospital);
        records.anchor(keccak256("r1"), commitment, LAB);
    }

    function test_anchor_rejectsBadInput() public {
        vm.startPrank(hospital);
        vm.expectPartialRevert(IRecordRegistry.RecordInvalidHash.selector);
        records.anchor(bytes32(0), commitment, LAB);
        vm.expectPartialRevert(IRecordRegistry.RecordInvalidHash.selector);
        records.anchor(keccak256("r"), bytes32(0), LAB);
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.RecordInvalidDataClass.selector, 11));
        records.anchor(keccak256("r"), commitment, 11);
        vm.stopPrank();
        vm.expectPartialRevert(IRecordRegistry.RecordUnauthorized.selector);
        vm.prank(stranger);
        records.anchor(keccak256("r"), commitment, LAB);
    }

    function test_anchorMany_isAllOrNothing() public {
        bytes32[] memory hashes = new bytes32[](3);
        bytes32[] memory commitments = new bytes32[](3);
        uint8[] memory classes = new uint8[](3);
        for (uint256 i = 0; i < 3; ++i) {
            (hashes[i], commitments[i], classes[i]) = (keccak256(abi.encode(i)), commitment, uint8(i));
        }
        vm.startPrank(hospital);
        bytes32[] memory leaves = records.anchorMany(hashes, commitments, classes);
        vm.assertEq(leaves.length, 3, "leaves");
        vm.assertEq(records.getRecord(leaves[2]).dataClass, 2, "third record");
        hashes[0] = keccak256("fresh"); // the others are anchored already: nothing is written
        vm.expectPartialRevert(IRecordRegistry.RecordAlreadyAnchored.selector);
        records.anchorMany(hashes, commitments, classes);
        bytes32 fresh = records.recordLeaf(hashes[0], commitment, 0);
        vm.assertEq(records.getRecord(fresh).hospital, address(0), "rolled back");
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.RecordInvalidArrays.selector, 3, 2, 3));
        records.anchorMany(hashes, new bytes32[](2), classes);
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.RecordInvalidArrays.selector, 3, 3, 1));
        records.anchorMany(hashes, commitments, new uint8[](1));
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.RecordInvalidArrays.selector, 0, 0, 0));
        records.anchorMany(new bytes32[](0), new bytes32[](0), new uint8[](0));
        vm.stopPrank();
    }

    // ---- amend ----

    function test_amend_buildsALineage() public {
        vm.startPrank(hospital);
        bytes32 v1 = records.anchor(keccak256("v1"), commitment, LAB);
        bytes32 v2 = records.amend(v1, keccak256("v2"), commitment, LAB);
        vm.assertEq(records.supersededBy(v1), v2, "v1 -> v2");
        vm.assertEq(records.supersededBy(v2), bytes32(0), "v2 is the latest");
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.RecordAlreadySuperseded.selector, v1, v2));
        records.amend(v1, keccak256("v3"), commitment, LAB);
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.RecordNonexistent.selector, keccak256("nope")));
        records.amend(keccak256("nope"), keccak256("v3"), commitment, LAB);
        vm.stopPrank();
        vm.expectRevert(
            abi.encodeWithSelector(IRecordRegistry.RecordUnauthorizedHospital.selector, v2, hospital, otherHospital)
        );
        vm.prank(otherHospital);
        records.amend(v2, keccak256("v3"), commitment, LAB);
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
        bytes32[] memory leaves = new bytes32[](2);
        leaves[0] = records.recordLeaf(keccak256("a"), commitment, LAB);
        leaves[1] = records.recordLeaf(keccak256("b"), commitment, LAB);
        Merkle.sort(leaves);
        bytes32[] memory tree = Merkle.build(leaves);
        bytes32[] memory proof =
            Merkle.proof(tree, Merkle.indexOf(leaves, records.recordLeaf(keccak256("a"), commitment, LAB)));
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.RecordBatchNonexistent.selector, tree[0]));
        records.materialise(tree[0], keccak256("a"), commitment, LAB, proof);
        vm.prank(hospital);
        records.anchorBatch(tree[0], 2, "");
        vm.warp(T0 + 1 days);
        vm.expectPartialRevert(IRecordRegistry.RecordInvalidProof.selector);
        records.materialise(tree[0], keccak256("c"), commitment, LAB, proof);
        vm.prank(stranger); // anyone may materialise
        bytes32 leaf = records.materialise(tree[0], keccak256("a"), commitment, LAB, proof);
        IRecordRegistry.Record memory r = records.getRecord(leaf);
        vm.assertEq(r.anchoredAt, T0, "the batch's time, not now");
        vm.assertEq(r.hospital, hospital, "the batch's hospital");
        vm.prank(hospital); // a materialised record can be amended by its hospital
        records.amend(leaf, keccak256("a2"), commitment, LAB);
    }

    // ---- access log ----

    function test_logAccess_needsConsentOrBreakGlass() public {
        vm.prank(hospital);
        records.anchor(keccak256("r"), commitment, LAB);
        vm.expectPartialRevert(IRecordRegistry.RecordAccessNotPermitted.selector);
        vm.prank(hospitalKey);
        records.logAccess(keccak256("r"), patient, salt, LAB, TREATMENT);

        vm.prank(patient);
        consent.grant(hospital, TREATMENT, uint64(1) << LAB, 0, 0);
        vm.prank(hospitalKey);
        bytes32 leaf = records.logAccess(keccak256("r"), patient, salt, LAB, TREATMENT);
        vm.assertEq(leaf, records.recordLeaf(keccak256("r"), commitment, LAB), "accessed leaf");

        vm.expectPartialRevert(IRecordRegistry.RecordAccessNotPermitted.selector);
        vm.prank(hospital);
        records.logAccess(keccak256("r"), patient, salt, LAB, EMERGENCY);
        vm.prank(hospital);
        consent.openEmergency(patient, 1, keccak256("justification"));
        vm.prank(hospital);
        records.logAccess(keccak256("r"), patient, salt, LAB, EMERGENCY);
    }

    function test_logAccess_rejectsBadInput() public {
        vm.startPrank(hospital);
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.RecordInvalidPurpose.selector, 0));
        records.logAccess(keccak256("r"), patient, salt, LAB, 0);
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.RecordInvalidPurpose.selector, 6));
        records.logAccess(keccak256("r"), patient, salt, LAB, 6);
        vm.expectRevert(abi.encodeWithSelector(IRecordRegistry.RecordInvalidDataClass.selector, 11));
        records.logAccess(keccak256("r"), patient, salt, 11, TREATMENT);
        vm.expectPartialRevert(IRecordRegistry.RecordNonexistent.selector);
        records.logAccess(keccak256("r"), patient, salt, LAB, TREATMENT);
        vm.stopPrank();
        vm.expectPartialRevert(IRecordRegistry.RecordUnauthorized.selector);
        vm.prank(stranger);
        records.logAccess(keccak256("r"), patient, salt, LAB, TREATMENT);
    }

    function test_views() public view {
        vm.assertEq(records.consortium(), address(consortium), "consortium");
        vm.assertEq(records.consentRegistry(), address(consent), "consent registry");
        vm.assertEq(commitment, keccak256(abi.encode(patient, salt)), "DESIGN 6.3 commitment");
        vm.assertEq(
            records.recordLeaf(keccak256("r"), commitment, LAB),
            keccak256(bytes.concat(keccak256(abi.encode(keccak256("r"), commitment, LAB)))),
            "DESIGN 6.5 leaf"
        );
        vm.assertFalse(
            records.verifyBatchRecord(keccak256("nope"), keccak256("r"), commitment, LAB, new bytes32[](0)),
            "unknown root"
        );
    }
}
