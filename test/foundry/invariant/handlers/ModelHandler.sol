// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Base} from "../../utils/Base.sol";

/// @notice What every invariant handler shares: each action's outcome is predicted by a ghost model, and a
/// disagreement is counted as a violation instead of reverting (forge ignores reverts inside handlers). The
/// invariant functions assert `violations == 0` and report `firstViolation`; `succeeded` counts the actions
/// that went through, so a campaign that never reaches an edge is visible.
abstract contract ModelHandler is Base {
    uint256 public violations;
    string public firstViolation;
    mapping(string action => uint256) public succeeded;

    function _now() internal view returns (uint64) {
        return uint64(block.timestamp);
    }

    function _expectSuccess(bool expected, string memory action) internal {
        ++succeeded[action];
        _check(expected, string.concat(action, " succeeded where the model expected a revert"));
    }

    function _expectFailure(bool expected, string memory action) internal {
        _check(!expected, string.concat(action, " reverted where the model expected success"));
    }

    function _check(bool ok, string memory what) internal {
        if (ok) return;
        if (violations == 0) firstViolation = what;
        ++violations;
    }
}
