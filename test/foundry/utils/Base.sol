// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Vm, VM} from "./Vm.sol";
import {IConsortium} from "../../../interfaces/IConsortium.sol";
import {Consortium} from "../../../contracts/Consortium.sol";

/// @title Base
/// @notice What every MedChain forge contract (tests and handlers) shares: the cheatcodes, bounded fuzz inputs,
/// deterministic keyed actors and a Consortium deployed and governed through its real k-of-n proposals.
abstract contract Base {
    Vm internal constant vm = VM;

    // role bits of Consortium's bitmap (contracts/libraries/Roles.sol)
    uint32 internal constant COUNCIL = 1 << 0;
    uint32 internal constant HOSPITAL = 1 << 1;
    uint32 internal constant INSURER = 1 << 2;
    uint32 internal constant MANUFACTURER = 1 << 3;
    uint32 internal constant DISTRIBUTOR = 1 << 4;
    uint32 internal constant PHARMACY = 1 << 5;
    uint32 internal constant AUDITOR = 1 << 6;

    /// @dev A realistic start time (2026-01-01): times are uint64 and some checks compare with "now".
    uint256 internal constant T0 = 1_767_225_600;
    /// @dev Order of secp256k1: private keys are 1..N-1.
    uint256 internal constant SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;

    Consortium internal consortium;
    address[] internal council; // council[0] proposes; council[1..threshold-1] approve

    /// @dev `x` mapped into [lo, hi] (inclusive) without rejecting inputs (forge-std's `bound`, simplified).
    function _bound(uint256 x, uint256 lo, uint256 hi) internal pure returns (uint256) {
        if (lo > hi) (lo, hi) = (hi, lo);
        uint256 size = hi - lo;
        if (size == type(uint256).max) return x;
        return lo + (x % (size + 1));
    }

    /// @dev A deterministic private key and its address, labelled `name` in traces.
    function _actor(string memory name) internal returns (address account, uint256 key) {
        key = uint256(keccak256(bytes(name))) % (SECP256K1_N - 1) + 1;
        account = vm.addr(key);
        vm.label(account, name);
    }

    function _list(address a, address b, address c, address d) internal pure returns (address[] memory list) {
        list = new address[](4);
        (list[0], list[1], list[2], list[3]) = (a, b, c, d);
    }

    function _addr(string memory name) internal returns (address account) {
        (account,) = _actor(name);
    }

    /// @dev Deploys the Consortium with `size` founding council members and threshold `threshold`.
    function _deployConsortium(uint256 size, uint256 threshold) internal {
        string[] memory names = new string[](size);
        for (uint256 i = 0; i < size; ++i) {
            council.push(_addr(string.concat("council", vm.toString(i))));
            names[i] = string.concat("Council ", vm.toString(i));
        }
        consortium = new Consortium(council, names, threshold);
    }

    /// @dev Runs a proposal through propose -> approvals up to the threshold -> execute.
    function _govern(IConsortium.ProposalKind kind, address target, uint32 value, string memory name) internal {
        vm.prank(council[0]);
        uint256 id = consortium.propose(kind, target, value, name, "");
        uint256 threshold = consortium.threshold();
        for (uint256 i = 1; i < threshold; ++i) {
            vm.prank(council[i]);
            consortium.approve(id);
        }
        vm.prank(council[0]);
        consortium.execute(id);
    }

    /// @dev Admits `name`'s keyed address as a member with `roles`; returns it.
    function _admit(string memory name, uint32 roles) internal returns (address member) {
        member = _addr(name);
        _govern(IConsortium.ProposalKind.Admit, member, roles, name);
    }

    /// @dev Registers a fresh operator key `name` for `member` (the member offers, the key accepts); returns it.
    function _operator(address member, string memory name) internal returns (address key) {
        key = _addr(name);
        vm.prank(member);
        consortium.offerOperator(key, address(0));
        vm.prank(key);
        consortium.acceptOperator(member);
    }

    function _suspend(address member) internal {
        _govern(IConsortium.ProposalKind.Suspend, member, 0, "");
    }

    function _reinstate(address member) internal {
        _govern(IConsortium.ProposalKind.Reinstate, member, 0, "");
    }
}

/// @title InvariantBase
/// @notice The target-selection hooks forge reads from an invariant test contract (the part of forge-std's
/// StdInvariant we need): only the listed handler functions are fuzzed.
abstract contract InvariantBase is Base {
    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    address[] private _targets;
    FuzzSelector[] private _targetSelectors;

    /// @dev Fuzz `selectors` of `handler` (and nothing else of it).
    function _target(address handler, bytes4[] memory selectors) internal {
        _targets.push(handler);
        _targetSelectors.push(FuzzSelector(handler, selectors));
    }

    function targetContracts() public view returns (address[] memory) {
        return _targets;
    }

    function targetSelectors() public view returns (FuzzSelector[] memory) {
        return _targetSelectors;
    }
}
