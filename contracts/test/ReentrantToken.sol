// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title ReentrantToken
/// @notice Test-only malicious ERC-20: whenever tokens move into or out of `target`, it calls `target` back
/// with `payload` once (a re-entrant call in the middle of the victim's transfer). The outcome is recorded;
/// with `bubble` a failed re-entry also fails the transfer (and so the victim's transaction).
contract ReentrantToken is ERC20 {
    address public target;
    bytes public payload;
    bool public bubble;
    uint256 public attempts; // re-entries tried
    uint256 public successes; // re-entries that did not revert
    bytes public lastError; // revert data of the last failed re-entry
    bool private _inHook;

    constructor() ERC20("Reentrant Token", "EVIL") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Arms the attack: on the next transfers touching `target_`, call it with `payload_`.
    function arm(address target_, bytes calldata payload_, bool bubble_) external {
        (target, payload, bubble) = (target_, payload_, bubble_);
    }

    function disarm() external {
        target = address(0);
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        if (target == address(0) || _inHook || (from != target && to != target)) return;
        _inHook = true;
        ++attempts;
        (bool ok, bytes memory result) = target.call(payload);
        _inHook = false;
        if (ok) {
            ++successes;
        } else {
            lastError = result;
            if (bubble) {
                assembly ("memory-safe") {
                    revert(add(result, 32), mload(result))
                }
            }
        }
    }

    function decimals() public pure override returns (uint8) {
        return 2;
    }
}
