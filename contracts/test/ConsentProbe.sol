// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IConsentRegistry} from "../../interfaces/IConsentRegistry.sol";

/// @title ConsentProbe
/// @notice Test/benchmark harness: asks a registry `isPermitted` from another contract, the way RecordRegistry
/// and ClaimsManager do, and reports the gas it took. Both calls reach the registry and the consortium cold
/// when run as an eth_call or a fresh transaction. Never deployed outside tests and benchmarks.
contract ConsentProbe {
    error ProbeCallFailed();

    /// @notice The answer and the gas of the bare STATICCALL (cold account access + everything the registry
    /// and the consortium execute), with the calldata encoded beforehand: the cost of the question itself.
    function measure(IConsentRegistry registry, address patient, address grantee, uint8 purpose, uint64 dataClasses)
        external
        view
        returns (bool permitted, uint256 gasUsed)
    {
        bytes memory data = abi.encodeCall(IConsentRegistry.isPermitted, (patient, grantee, purpose, dataClasses));
        bool ok;
        assembly ("memory-safe") {
            let before := gas()
            ok := staticcall(gas(), registry, add(data, 0x20), mload(data), 0x00, 0x20)
            gasUsed := sub(before, gas())
            permitted := mload(0x00)
        }
        if (!ok) revert ProbeCallFailed();
    }

    /// @notice The answer and the gas of a plain Solidity call `registry.isPermitted(...)`, caller-side ABI
    /// encoding and decoding included (what a consuming contract pays in practice).
    function measureSolidityCall(
        IConsentRegistry registry,
        address patient,
        address grantee,
        uint8 purpose,
        uint64 dataClasses
    ) external view returns (bool permitted, uint256 gasUsed) {
        uint256 before = gasleft();
        permitted = registry.isPermitted(patient, grantee, purpose, dataClasses);
        gasUsed = before - gasleft();
    }

    /// @notice `isPermitted` for every combination, in one call (stateful tests compare it with a model):
    /// entry `((p * grantees.length + g) * purposes.length + u) * masks.length + m`.
    function isPermittedMatrix(
        IConsentRegistry registry,
        address[] calldata patients,
        address[] calldata grantees,
        uint8[] calldata purposes,
        uint64[] calldata masks
    ) external view returns (bool[] memory answers) {
        answers = new bool[](patients.length * grantees.length * purposes.length * masks.length);
        uint256 i;
        for (uint256 p = 0; p < patients.length; ++p) {
            for (uint256 g = 0; g < grantees.length; ++g) {
                for (uint256 u = 0; u < purposes.length; ++u) {
                    for (uint256 m = 0; m < masks.length; ++m) {
                        answers[i++] = registry.isPermitted(patients[p], grantees[g], purposes[u], masks[m]);
                    }
                }
            }
        }
    }
}
