// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title Roles
/// @notice The consortium's role ids (DESIGN §6.1: `keccak256("<NAME>")`) and the bit each one takes in a
/// member's role bitmap inside the Consortium. Other contracts name roles by id only.
library Roles {
    bytes32 internal constant COUNCIL = keccak256("COUNCIL");
    bytes32 internal constant HOSPITAL = keccak256("HOSPITAL");
    bytes32 internal constant INSURER = keccak256("INSURER");
    bytes32 internal constant MANUFACTURER = keccak256("MANUFACTURER");
    bytes32 internal constant DISTRIBUTOR = keccak256("DISTRIBUTOR");
    bytes32 internal constant PHARMACY = keccak256("PHARMACY");
    bytes32 internal constant AUDITOR = keccak256("AUDITOR");

    /// @dev Bitmap with every known role's bit set.
    uint32 internal constant ALL = (1 << 7) - 1;

    /// @dev The bit of a known role id, 0 for an unknown one.
    function bit(bytes32 role) internal pure returns (uint32) {
        if (role == COUNCIL) return 1 << 0;
        if (role == HOSPITAL) return 1 << 1;
        if (role == INSURER) return 1 << 2;
        if (role == MANUFACTURER) return 1 << 3;
        if (role == DISTRIBUTOR) return 1 << 4;
        if (role == PHARMACY) return 1 << 5;
        if (role == AUDITOR) return 1 << 6;
        return 0;
    }
}
