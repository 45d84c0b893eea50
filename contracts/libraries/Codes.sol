// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title Codes
/// @notice The purpose and data-class codes of DESIGN §6.2, shared by every contract that checks them. A purpose
/// is a `uint8` 1..5 (after HL7 v3 PurposeOfUse); a data class is a bit index 0..10 in a `uint64` bitmap, and a
/// record has exactly one.
library Codes {
    uint8 internal constant TREATMENT = 1;
    uint8 internal constant CLAIM = 2;
    uint8 internal constant RESEARCH = 3;
    uint8 internal constant EMERGENCY = 4;
    uint8 internal constant PUBLIC_HEALTH = 5;

    /// @dev Highest purpose code (PUBLIC_HEALTH).
    uint8 internal constant MAX_PURPOSE = PUBLIC_HEALTH;
    /// @dev Highest data-class code (10 INFECTIOUS_DISEASE).
    uint8 internal constant MAX_DATA_CLASS = 10;
    /// @dev Bitmap with every data class's bit set.
    uint64 internal constant ALL_CLASSES = (uint64(1) << (MAX_DATA_CLASS + 1)) - 1;

    /// @dev True for a purpose code 1..5.
    function isPurpose(uint8 purpose) internal pure returns (bool) {
        return purpose != 0 && purpose <= MAX_PURPOSE;
    }

    /// @dev True for a data-class code 0..10.
    function isDataClass(uint8 dataClass) internal pure returns (bool) {
        return dataClass <= MAX_DATA_CLASS;
    }
}
