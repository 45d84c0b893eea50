// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {IRecordRegistry} from "../../interfaces/IRecordRegistry.sol";

/// @title MerkleProbe
/// @notice Test-only harness: measures what proving a batch record costs another contract. Never deployed in
/// production.
contract MerkleProbe {
    event Probed(bool ok, uint256 gasUsed);

    /// @notice Gas of `registry.verifyBatchRecord(...)` as an external call from a contract (cold registry account
    /// and cold batch slot included), and its answer.
    function probeRegistry(
        IRecordRegistry registry,
        bytes32 root,
        bytes32 recordHash,
        bytes32 patientCommitment,
        uint8 dataClass,
        bytes32[] calldata proof
    ) external returns (bool ok, uint256 gasUsed) {
        uint256 before = gasleft();
        ok = registry.verifyBatchRecord(root, recordHash, patientCommitment, dataClass, proof);
        gasUsed = before - gasleft();
        emit Probed(ok, gasUsed);
    }

    /// @notice Gas of the in-contract check alone: DESIGN §6.5 leaf + `MerkleProof.verifyCalldata` against a root
    /// the caller already trusts.
    function probeLibrary(
        bytes32 root,
        bytes32 recordHash,
        bytes32 patientCommitment,
        uint8 dataClass,
        bytes32[] calldata proof
    ) external returns (bool ok, uint256 gasUsed) {
        uint256 before = gasleft();
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(recordHash, patientCommitment, dataClass))));
        ok = MerkleProof.verifyCalldata(proof, root, leaf);
        gasUsed = before - gasleft();
        emit Probed(ok, gasUsed);
    }
}
