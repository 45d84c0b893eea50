// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title ClaimsMockConsent
/// @notice Test-only stand-in for ConsentRegistry's `isPermitted`, to unit-test ClaimsManager in isolation:
/// a test sets which data classes a patient lets a grantee use for a purpose.
contract ClaimsMockConsent {
    mapping(address patient => mapping(address grantee => mapping(uint8 purpose => uint64 classes))) private _granted;

    /// @notice `patient` lets `grantee` use `classes` for `purpose` (0 revokes).
    function set(address patient, address grantee, uint8 purpose, uint64 classes) external {
        _granted[patient][grantee][purpose] = classes;
    }

    /// @notice Same signature and meaning as IConsentRegistry.isPermitted.
    function isPermitted(address patient, address grantee, uint8 purpose, uint64 dataClasses)
        external
        view
        returns (bool)
    {
        uint64 granted = _granted[patient][grantee][purpose];
        return dataClasses != 0 && granted & dataClasses == dataClasses;
    }
}
