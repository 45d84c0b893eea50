// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title SettlementToken
/// @notice Test-only ERC-20 used as the claims settlement currency in demos and tests. Anyone may mint.
/// Never deployed by the production deploy plan.
contract SettlementToken is ERC20 {
    constructor() ERC20("MedChain Test Yuan", "tCNY") {}

    /// @notice Mints `amount` to `to` (test token: unrestricted).
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function decimals() public pure override returns (uint8) {
        return 2;
    }
}
