// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title Merkle
/// @notice A Solidity copy of the OpenZeppelin merkle-tree JS library's StandardMerkleTree layout (v1.0.8,
/// `sortLeaves: true`):
/// leaves sorted ascending, stored right-to-left at the end of a flat array, node i = hashPair(2i+1, 2i+2) with the
/// pair sorted, proof = siblings from the leaf up. Used to make proofs for RecordRegistry and DrugTrace; a fixed
/// vector produced by the JS library itself (test/foundry/fuzz/MerkleFuzz.t.sol) pins the two together.
library Merkle {
    function hashPair(bytes32 a, bytes32 b) internal pure returns (bytes32) {
        return a < b ? keccak256(abi.encode(a, b)) : keccak256(abi.encode(b, a));
    }

    /// @dev Sorts `leaves` ascending in place (insertion sort: the suites use small trees).
    function sort(bytes32[] memory leaves) internal pure {
        for (uint256 i = 1; i < leaves.length; ++i) {
            bytes32 v = leaves[i];
            uint256 j = i;
            while (j > 0 && leaves[j - 1] > v) {
                leaves[j] = leaves[j - 1];
                --j;
            }
            leaves[j] = v;
        }
    }

    /// @dev The flat tree over `sortedLeaves` (non-empty, ascending); tree[0] is the root.
    function build(bytes32[] memory sortedLeaves) internal pure returns (bytes32[] memory tree) {
        uint256 n = sortedLeaves.length;
        tree = new bytes32[](2 * n - 1);
        for (uint256 i = 0; i < n; ++i) {
            tree[tree.length - 1 - i] = sortedLeaves[i];
        }
        for (uint256 i = tree.length - n; i > 0; --i) {
            tree[i - 1] = hashPair(tree[2 * i - 1], tree[2 * i]);
        }
    }

    /// @dev The proof of the `k`-th sorted leaf of `tree`.
    function proof(bytes32[] memory tree, uint256 k) internal pure returns (bytes32[] memory path) {
        uint256 i = tree.length - 1 - k;
        uint256 depth;
        for (uint256 j = i; j > 0; j = (j - 1) / 2) {
            ++depth;
        }
        path = new bytes32[](depth);
        for (uint256 d = 0; i > 0; ++d) {
            path[d] = tree[i % 2 == 1 ? i + 1 : i - 1];
            i = (i - 1) / 2;
        }
    }

    /// @dev Index of `leaf` among `sortedLeaves` (reverts if absent).
    function indexOf(bytes32[] memory sortedLeaves, bytes32 leaf) internal pure returns (uint256) {
        for (uint256 i = 0; i < sortedLeaves.length; ++i) {
            if (sortedLeaves[i] == leaf) return i;
        }
        revert("Merkle: leaf not in tree");
    }

    /// @dev OZ `getMultiProof` for the sorted leaves `ks` (ascending sorted-leaf positions, no repeats) of `tree`:
    /// the leaves in the order OZ's multiproof takes them (ascending), the proof and its flags.
    function multiProof(bytes32[] memory tree, uint256[] memory ks)
        internal
        pure
        returns (bytes32[] memory leaves, bytes32[] memory path, bool[] memory flags)
    {
        uint256 n = ks.length;
        uint256[] memory queue = new uint256[](2 * tree.length);
        leaves = new bytes32[](n);
        for (uint256 i = 0; i < n; ++i) {
            queue[i] = tree.length - 1 - ks[i]; // descending tree indices
            leaves[i] = tree[queue[i]];
        }
        bytes32[] memory proofBuf = new bytes32[](tree.length);
        bool[] memory flagBuf = new bool[](tree.length);
        (uint256 head, uint256 tail, uint256 p, uint256 f) = (0, n, 0, 0);
        while (head < tail && queue[head] > 0) {
            uint256 j = queue[head++];
            uint256 sibling = j % 2 == 1 ? j + 1 : j - 1;
            if (head < tail && queue[head] == sibling) {
                flagBuf[f++] = true;
                ++head;
            } else {
                flagBuf[f++] = false;
                proofBuf[p++] = tree[sibling];
            }
            queue[tail++] = (j - 1) / 2;
        }
        (path, flags) = (new bytes32[](p), new bool[](f));
        for (uint256 i = 0; i < p; ++i) {
            path[i] = proofBuf[i];
        }
        for (uint256 i = 0; i < f; ++i) {
            flags[i] = flagBuf[i];
        }
    }
}
