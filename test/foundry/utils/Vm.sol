// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title Vm
/// @notice The few forge cheatcodes MedChain's Foundry suites use. forge-std is not on npm, so this is our own
/// declaration of the cheatcode contract's ABI (forge 1.x); the address is forge's fixed cheatcode address.
interface Vm {
    /// @dev A log recorded by `recordLogs` (forge's Vm.Log).
    struct Log {
        bytes32[] topics;
        bytes data;
        address emitter;
    }

    // ---- environment ----
    function warp(uint256 timestamp) external;
    function getBlockTimestamp() external view returns (uint256);
    /// @dev Sets block.chainid (a fork's replayed transactions, or a chain that changed its id).
    function chainId(uint256 newChainId) external;
    function label(address account, string calldata name) external;

    // ---- callers ----
    function prank(address sender) external;
    function startPrank(address sender) external;
    function stopPrank() external;

    // ---- keys and signatures ----
    function addr(uint256 privateKey) external pure returns (address);
    function sign(uint256 privateKey, bytes32 digest) external pure returns (uint8 v, bytes32 r, bytes32 s);

    // ---- expectations ----
    function expectRevert() external;
    function expectRevert(bytes4 revertData) external;
    function expectRevert(bytes calldata revertData) external;
    /// @dev Matches a custom error by its selector only, whatever its arguments.
    function expectPartialRevert(bytes4 selector) external;
    function assume(bool condition) external pure;

    // ---- assertions (revert with the message and both values on failure) ----
    function assertTrue(bool condition, string calldata error) external pure;
    function assertFalse(bool condition, string calldata error) external pure;
    function assertEq(bool left, bool right, string calldata error) external pure;
    function assertEq(uint256 left, uint256 right, string calldata error) external pure;
    function assertEq(address left, address right, string calldata error) external pure;
    function assertEq(bytes32 left, bytes32 right, string calldata error) external pure;
    function assertLe(uint256 left, uint256 right, string calldata error) external pure;
    function assertGe(uint256 left, uint256 right, string calldata error) external pure;

    // ---- logs ----
    /// @dev Starts recording every log emitted from now on.
    function recordLogs() external;
    /// @dev The logs recorded since `recordLogs` or the last call of this (which empties the record).
    function getRecordedLogs() external returns (Log[] memory logs);

    // ---- helpers ----
    function toString(uint256 value) external pure returns (string memory);
}

/// @dev forge's cheatcode address: address(uint160(uint256(keccak256("hevm cheat code")))).
Vm constant VM = Vm(0x7109709ECfa91a80626fF3989D68f67F5b1DD12D);
