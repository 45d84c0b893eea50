// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IRecordRegistry} from "../../interfaces/IRecordRegistry.sol";

/// @title ClaimsMockRecords
/// @notice Test-only stand-in for RecordRegistry's `getRecord`/`recordLeaf`, to unit-test ClaimsManager in
/// isolation: anyone may anchor (the caller is recorded as the hospital).
contract ClaimsMockRecords {
    mapping(bytes32 leaf => IRecordRegistry.Record) private _records;

    /// @notice Stores a record under its DESIGN §6.5 key with `msg.sender` as hospital.
    function anchor(bytes32 recordHash, bytes32 patientCommitment, uint8 dataClass) external returns (bytes32 leaf) {
        leaf = recordLeaf(recordHash, patientCommitment, dataClass);
        _records[leaf] = IRecordRegistry.Record(msg.sender, uint64(block.timestamp), IRecordRegistry.RecordOrigin.Single);
    }

    function getRecord(bytes32 leaf) external view returns (IRecordRegistry.Record memory) {
        return _records[leaf];
    }

    function recordLeaf(bytes32 recordHash, bytes32 patientCommitment, uint8 dataClass) public pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(recordHash, patientCommitment, dataClass))));
    }
}
