// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {Base} from "../utils/Base.sol";
import {Merkle} from "../utils/Merkle.sol";
import {IRecordRegistry} from "../../../interfaces/IRecordRegistry.sol";
import {IDrugTrace} from "../../../interfaces/IDrugTrace.sol";
import {ConsentRegistry} from "../../../contracts/ConsentRegistry.sol";
import {RecordRegistry} from "../../../contracts/RecordRegistry.sol";
import {DrugTrace} from "../../../contracts/DrugTrace.sol";

/// @title MerkleFuzz
/// @notice Merkle verification with OpenZeppelin StandardMerkleTree-compatible leaves (DESIGN §6.5, §6.7):
/// fixed vectors produced by the OpenZeppelin merkle-tree JS library (npm, 1.0.8) itself pin the leaf encodings
/// and the tree layout;
/// random trees then check that RecordRegistry and DrugTrace accept exactly the leaves of the anchored tree, each
/// with its own proof, and nothing else (altered values, swapped proofs, unknown roots).
contract MerkleFuzz is Base {
    uint64 internal constant GTIN = 4_006_381_333_931;
    string internal constant PREFIX = "4006381"; // the GS1 Company Prefix inside GTIN

    RecordRegistry internal records;
    DrugTrace internal drugs;
    address internal hospital;
    address internal manufacturer;
    address internal pharmacy;

    function setUp() public {
        vm.warp(T0);
        _deployConsortium(1, 1);
        hospital = _admit("hospital", HOSPITAL);
        manufacturer = _admit("manufacturer", MANUFACTURER);
        pharmacy = _admit("pharmacy", PHARMACY);
        records = new RecordRegistry(consortium, new ConsentRegistry(consortium));
        drugs = new DrugTrace(consortium);
        vm.prank(council[0]);
        drugs.assignPrefix(PREFIX, manufacturer);
        vm.prank(manufacturer);
        drugs.registerProduct(GTIN, "Amoxicillin 500 mg");
    }

    // ---- fixed vectors from @openzeppelin/merkle-tree 1.0.8 ----

    /// @notice StandardMerkleTree.of([[0xa1,0xc1,0],[0xa2,0xc2,3],[0xa3,0xc1,10],[0xa4,0xc3,5],[0xa5,0xc2,7]],
    /// ["bytes32","bytes32","uint8"]): root and the proof of value 0, as printed by the JS library.
    function test_recordLeaves_matchOpenZeppelinMerkleTree() public {
        bytes32 root = 0x991ffcf43d8072cf811eefdafa3fdf0dd46ca572ba68d6437758f103e8827e1d;
        bytes32[] memory leaves = new bytes32[](5);
        uint8[5] memory classes = [0, 3, 10, 5, 7];
        uint256[5] memory commitments = [uint256(0xc1), 0xc2, 0xc1, 0xc3, 0xc2];
        for (uint256 i = 0; i < 5; ++i) {
            leaves[i] = records.recordLeaf(bytes32(0xa1 + i), bytes32(commitments[i]), classes[i]);
        }
        Merkle.sort(leaves);
        vm.assertEq(Merkle.build(leaves)[0], root, "our tree root != @openzeppelin/merkle-tree root");

        bytes32[] memory proof = new bytes32[](3);
        proof[0] = 0x2649be84e76f69ceafc7e7c28ef5b7f72ff98f04ff30cad27a7b94fabaade7c1;
        proof[1] = 0xfcae978e55dbdd834c8ac0fc963eecb2d095598fb1991c6d299cbd7340b1baea;
        proof[2] = 0x5b43f1e36270e8f77422eb0e3bbd8a6fa4e6a06bd5cae82265cd176f7b115fbe;
        vm.prank(hospital);
        records.anchorBatch(root, 5, "https://hospital.example/batches/1");
        vm.assertTrue(
            records.verifyBatchRecord(root, bytes32(uint256(0xa1)), bytes32(uint256(0xc1)), 0, proof), "JS proof"
        );
        vm.assertFalse(
            records.verifyBatchRecord(root, bytes32(uint256(0xa1)), bytes32(uint256(0xc1)), 1, proof), "class"
        );
        records.materialise(root, bytes32(uint256(0xa1)), bytes32(uint256(0xc1)), 0, proof);
        IRecordRegistry.Record memory r =
            records.getRecord(records.recordLeaf(bytes32(uint256(0xa1)), bytes32(uint256(0xc1)), 0));
        vm.assertEq(r.hospital, hospital, "materialised record's hospital");
        vm.assertEq(uint8(r.origin), uint8(IRecordRegistry.RecordOrigin.Batch), "origin");
    }

    /// @notice StandardMerkleTree.of([[0x11..11,"S-0001"],[0x11..11,"S-0002"],[0x11..11,"S-0003"]],
    /// ["bytes32","string"]): the serial leaf encoding of DESIGN §6.7.
    function test_serialLeaves_matchOpenZeppelinMerkleTree() public view {
        bytes32 batchId = bytes32(uint256(0x1111111111111111111111111111111111111111111111111111111111111111));
        bytes32[] memory leaves = new bytes32[](3);
        leaves[0] = drugs.serialLeaf(batchId, "S-0001");
        leaves[1] = drugs.serialLeaf(batchId, "S-0002");
        leaves[2] = drugs.serialLeaf(batchId, "S-0003");
        bytes32 s2 = leaves[1];
        Merkle.sort(leaves);
        bytes32 root = 0xeedf740917ba16fa8188f8c0c7ce84eab03e148945c9362fd2f0a1ae5cd4c065;
        vm.assertEq(Merkle.build(leaves)[0], root, "our serial tree root != @openzeppelin/merkle-tree root");
        bytes32[] memory proof = new bytes32[](1);
        proof[0] = 0xb9911dd084c63e0929321212bcd5100120dc382d15ed2788611ee3b4f54ec7d8;
        vm.assertTrue(MerkleProof.verify(proof, root, s2), "JS proof of S-0002");
    }

    // ---- random record batches ----

    /// @dev One random batch: its values, leaves (input order), sorted leaves and flat tree.
    struct RecordBatch {
        bytes32[] hashes;
        bytes32[] commitments;
        uint8[] classes;
        bytes32[] leaves;
        bytes32[] sorted;
        bytes32[] tree;
    }

    /// @notice Every leaf of an anchored batch proves with its own proof and can be materialised once; altered
    /// values, another leaf's proof and unknown roots do not prove.
    function testFuzz_recordBatch_provesExactlyItsLeaves(bytes32 seed, uint8 count, uint8 pick) public {
        RecordBatch memory b = _recordBatch(seed, 1 + count % 16);
        bytes32 root = b.tree[0];
        vm.assertFalse(_verify(b, root, 0, b.classes[0], _proof(b, 0)), "not anchored yet");
        vm.prank(hospital);
        records.anchorBatch(root, uint32(b.leaves.length), "");
        for (uint256 i = 0; i < b.leaves.length; ++i) {
            _checkLeaf(b, root, i);
        }
        vm.assertFalse(_verify(b, ~root, 0, b.classes[0], _proof(b, 0)), "unknown root");

        uint256 k = pick % b.leaves.length;
        bytes32 leaf = records.materialise(root, b.hashes[k], b.commitments[k], b.classes[k], _proof(b, k));
        vm.assertEq(leaf, b.leaves[k], "materialised leaf");
        bytes32[] memory proofK = _proof(b, k);
        vm.expectRevert(); // first write wins
        records.materialise(root, b.hashes[k], b.commitments[k], b.classes[k], proofK);
    }

    function _checkLeaf(RecordBatch memory b, bytes32 root, uint256 i) internal view {
        bytes32[] memory proof = _proof(b, i);
        vm.assertTrue(_verify(b, root, i, b.classes[i], proof), "own proof");
        vm.assertFalse(_verify(b, root, i, (b.classes[i] + 1) % 11, proof), "class changed");
        vm.assertFalse(
            records.verifyBatchRecord(root, b.hashes[i] ^ bytes32(uint256(1)), b.commitments[i], b.classes[i], proof),
            "hash changed"
        );
        vm.assertFalse(
            records.verifyBatchRecord(root, b.hashes[i], ~b.commitments[i], b.classes[i], proof), "commitment changed"
        );
        uint256 j = (i + 1) % b.leaves.length;
        if (b.leaves[i] != b.leaves[j]) {
            vm.assertFalse(_verify(b, root, i, b.classes[i], _proof(b, j)), "another leaf's proof");
        }
    }

    function _verify(RecordBatch memory b, bytes32 root, uint256 i, uint8 dataClass, bytes32[] memory proof)
        internal
        view
        returns (bool)
    {
        return records.verifyBatchRecord(root, b.hashes[i], b.commitments[i], dataClass, proof);
    }

    function _proof(RecordBatch memory b, uint256 i) internal pure returns (bytes32[] memory) {
        return Merkle.proof(b.tree, Merkle.indexOf(b.sorted, b.leaves[i]));
    }

    function _recordBatch(bytes32 seed, uint256 n) internal view returns (RecordBatch memory b) {
        b.hashes = new bytes32[](n);
        b.commitments = new bytes32[](n);
        b.classes = new uint8[](n);
        b.leaves = new bytes32[](n);
        for (uint256 i = 0; i < n; ++i) {
            b.hashes[i] = keccak256(abi.encode(seed, "hash", i));
            // a few patients share commitments, as in a real batch
            b.commitments[i] = keccak256(abi.encode(seed, "patient", i % 3));
            b.classes[i] = uint8(uint256(keccak256(abi.encode(seed, "class", i))) % 11);
            b.leaves[i] = records.recordLeaf(b.hashes[i], b.commitments[i], b.classes[i]);
        }
        b.sorted = _copy(b.leaves);
        Merkle.sort(b.sorted);
        b.tree = Merkle.build(b.sorted);
    }

    // ---- random serial trees ----

    /// @notice A consumer's `verify` calls every serial of a commissioned batch genuine with its proof, and a serial
    /// outside the tree (or a wrong proof) not genuine; a pharmacy can dispense with a valid proof only.
    function testFuzz_serialTree_genuineExactlyForItsSerials(uint8 count, uint16 lotSeed, uint8 pick) public {
        uint256 n = 1 + count % 16;
        string memory lot = string.concat("LOT", vm.toString(lotSeed));
        bytes32 batchId = drugs.batchIdOf(GTIN, lot);
        bytes32[] memory leaves = new bytes32[](n);
        for (uint256 i = 0; i < n; ++i) {
            leaves[i] = drugs.serialLeaf(batchId, _serial(i));
        }
        bytes32[] memory sorted = _copy(leaves);
        Merkle.sort(sorted);
        bytes32[] memory tree = Merkle.build(sorted);
        vm.prank(manufacturer);
        drugs.commissionBatch(GTIN, lot, uint64(block.timestamp + 365 days), uint32(n), tree[0], bytes32(0), bytes32(0));

        for (uint256 i = 0; i < n; ++i) {
            bytes32[] memory proof = Merkle.proof(tree, Merkle.indexOf(sorted, leaves[i]));
            vm.assertTrue(drugs.verify(GTIN, lot, _serial(i), proof).genuine, "serial of the batch");
            vm.assertFalse(drugs.verify(GTIN, lot, _serial(n + i), proof).genuine, "serial outside the batch");
            vm.assertFalse(drugs.verify(GTIN, string.concat(lot, "X"), _serial(i), proof).genuine, "another lot");
        }

        // the whole batch as one shipment (proof = [root]): the shipment's tree is the batch tree
        bytes32[] memory rootOnly = new bytes32[](1);
        rootOnly[0] = tree[0];
        vm.prank(manufacturer);
        uint256 shipmentId =
            drugs.ship(batchId, pharmacy, IDrugTrace.SerialSet(0, new bytes32[](0), rootOnly, new bool[](0)), 0);
        vm.prank(pharmacy);
        drugs.receiveShipment(shipmentId, uint32(n), bytes32(0));
        uint256 k = pick % n;
        bytes32[] memory proofK = Merkle.proof(tree, Merkle.indexOf(sorted, leaves[k]));
        vm.expectRevert(
            abi.encodeWithSelector(IDrugTrace.DrugTraceSerialNotInShipment.selector, shipmentId, _serial(n + k))
        );
        vm.prank(pharmacy);
        drugs.dispense(batchId, shipmentId, _serial(n + k), proofK, bytes32(0));
        vm.prank(pharmacy);
        vm.assertTrue(drugs.dispense(batchId, shipmentId, _serial(k), proofK, bytes32(0)), "first dispense");
        vm.assertTrue(drugs.serialStatus(batchId, _serial(k)).dispensed, "dispensed");
    }

    // ---- helpers ----

    function _serial(uint256 i) internal pure returns (string memory) {
        return string.concat("SN", vm.toString(i));
    }

    function _copy(bytes32[] memory a) internal pure returns (bytes32[] memory b) {
        b = new bytes32[](a.length);
        for (uint256 i = 0; i < a.length; ++i) {
            b[i] = a[i];
        }
    }
}
