"""OpenZeppelin StandardMerkleTree, reproduced exactly and fast (DESIGN §6.5).

Same input values + same leaf encoding => the same root, the same flat tree and the same proofs as
``StandardMerkleTree.of(values, encoding)`` from ``@openzeppelin/merkle-tree`` 1.x (``sortLeaves`` true by
default), and ``dump()``/``load()`` speak its ``standard-v1`` JSON format.

- leaf  = keccak256(keccak256(abi.encode(types, value)))   (encoding by eth_abi, never by hand)
- node  = keccak256(sorted pair)
- tree  = OpenZeppelin's flat array: ``tree[0]`` is the root, the children of ``i`` are ``2i+1`` and ``2i+2``,
  the ``n`` leaves sit at ``tree[2n-2] .. tree[n-1]`` in (sorted) leaf order, reversed.

Storage is O(N): one contiguous ``bytearray`` of ``2n-1`` 32-byte nodes plus two ``array('I')`` index maps
(value index <-> leaf position); no per-leaf proof is ever materialised. A proof is read off the flat array on
demand (``get_proof``), also straight from a stored blob (``proof_from_reader``) without loading the tree.

Speed: leaves are ABI-encoded in bulk (a fixed-size array of the leaf tuple encodes as the concatenation of
the tuples' encodings, so eth_abi does the work once per chunk, not once per value), hashed with the
C Keccak of ``safe-pysha3`` when present (5x faster per call than pycryptodome, the fallback), and the
internal nodes are computed one heap level at a time over contiguous bytes.
"""

from __future__ import annotations

import bisect
import multiprocessing
import os
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, cast

from eth_abi.grammar import parse as _parse_abi_type

try:  # safe-pysha3 (pinned by eth-brownie): ~0.75 us per 96-byte keccak
    from sha3 import keccak_256 as _keccak_ctor  # type: ignore[import-not-found,unused-ignore]
except ImportError:  # pragma: no cover - pycryptodome (eth-hash's backend here): ~3.5 us per call
    from Crypto.Hash import keccak as _crypto_keccak

    def _keccak_ctor(data: bytes) -> Any:
        return _crypto_keccak.new(digest_bits=256, data=data)


def keccak256(data: bytes) -> bytes:
    """Keccak-256 (Ethereum's, not NIST SHA3-256)."""
    return cast(bytes, _keccak_ctor(data).digest())


try:  # the compiled eth_abi (a dependency of eth-brownie, same API): ~3-6x faster encoding
    from faster_eth_abi import encode as abi_encode  # type: ignore[import-not-found,unused-ignore]
except ImportError:  # pragma: no cover
    from eth_abi import encode as abi_encode

__all__ = [
    "RECORD_LEAF_ENCODING",
    "abi_encode",
    "MerkleError",
    "StandardMerkleTree",
    "keccak256",
    "leaf_hash",
    "node_hash",
    "process_proof",
    "proof_from_reader",
    "verify_proof",
]

RECORD_LEAF_ENCODING: tuple[str, ...] = ("bytes32", "bytes32", "uint8")
"""DESIGN §6.5 leaf encoding: (recordHash, patientCommitment, dataClass)."""

_CHUNK = 4096  # values ABI-encoded per eth_abi call
_PARALLEL_FROM = 100_000  # below this, forking a worker costs more than it saves


class MerkleError(ValueError):
    """Invalid tree input, an index out of range, or a value that is not in the tree."""


def node_hash(a: bytes, b: bytes) -> bytes:
    """OpenZeppelin's commutative node hash: keccak256 of the sorted pair."""
    return keccak256(a + b if a <= b else b + a)


def leaf_hash(leaf_encoding: Sequence[str], value: Sequence[Any]) -> bytes:
    """OpenZeppelin standard leaf: keccak256(keccak256(abi.encode(types, value)))."""
    types = list(leaf_encoding)
    return keccak256(keccak256(abi_encode(types, list(_normalise(types, value)))))


def process_proof(leaf: bytes, proof: Iterable[bytes]) -> bytes:
    """The root that ``proof`` leads to from ``leaf`` (MerkleProof.processProof)."""
    computed = leaf
    for sibling in proof:
        computed = node_hash(computed, sibling)
    return computed


def verify_proof(
    root: bytes, leaf_encoding: Sequence[str], value: Sequence[Any], proof: Iterable[bytes]
) -> bool:
    """StandardMerkleTree.verify: does ``proof`` prove ``value`` under ``root``."""
    return process_proof(leaf_hash(leaf_encoding, value), [_as_bytes32(p) for p in proof]) == _as_bytes32(
        root
    )


def proof_from_reader(read_node: Callable[[int], bytes], tree_index: int) -> list[bytes]:
    """The proof of the leaf at flat ``tree_index``, reading one 32-byte node at a time (e.g. from a blob)."""
    proof: list[bytes] = []
    index = tree_index
    while index > 0:
        proof.append(read_node(index + 1 if index % 2 else index - 1))
        index = (index - 1) // 2
    return proof


class StandardMerkleTree:
    """An OpenZeppelin-compatible Merkle tree over ABI-encoded values.

    Build with :meth:`of` (values in, like OZ) or :meth:`load` (an OZ ``standard-v1`` dump). ``values`` are
    kept by reference only when given as a list; the tree itself is the flat node array.
    """

    __slots__ = (
        "_by_hash", "_count", "_nodes", "_order", "_pos", "_sorted", "_values", "_view", "leaf_encoding",
    )  # fmt: skip

    def __init__(
        self,
        leaf_encoding: Sequence[str],
        nodes: bytearray | bytes,
        order: array,
        values: Sequence[Sequence[Any]] | None,
        *,
        sorted_leaves: bool,
    ) -> None:
        count = len(order)
        if count == 0 or len(nodes) != (2 * count - 1) * 32:
            raise MerkleError("a tree needs at least one leaf and 2n-1 nodes")
        self.leaf_encoding: tuple[str, ...] = tuple(leaf_encoding)
        self._nodes = nodes
        self._view = memoryview(nodes)  # slicing a view copies once; slicing a bytearray copies twice
        self._count = count
        self._order = order  # leaf position -> value index
        self._pos = array("I", bytes(4 * count))  # value index -> leaf position
        for position, value_index in enumerate(order):
            self._pos[value_index] = position
        self._values = values
        self._sorted = sorted_leaves
        self._by_hash: dict[bytes, int] | None = None

    # ---- construction ----

    @classmethod
    def of(
        cls,
        values: Sequence[Sequence[Any]],
        leaf_encoding: Sequence[str] = RECORD_LEAF_ENCODING,
        *,
        sort_leaves: bool = True,
        keep_values: bool = True,
        workers: int | None = None,
    ) -> StandardMerkleTree:
        """Builds the tree OZ's ``StandardMerkleTree.of(values, leafEncoding, {sortLeaves})`` builds."""
        if len(values) == 0:
            raise MerkleError("expected a non-zero number of leaves")
        hashes = hash_leaves(values, leaf_encoding, workers=workers)
        order = _sorted_order(hashes) if sort_leaves else array("I", range(len(hashes)))
        nodes = _build_nodes([hashes[i] for i in reversed(order)])
        del hashes
        return cls(leaf_encoding, nodes, order, values if keep_values else None, sorted_leaves=sort_leaves)

    @classmethod
    def from_leaf_hashes(
        cls,
        hashes: list[bytes],
        leaf_encoding: Sequence[str] = RECORD_LEAF_ENCODING,
        *,
        sort_leaves: bool = True,
    ) -> StandardMerkleTree:
        """The tree of already computed standard leaf hashes (in value order), without the values."""
        if not hashes:
            raise MerkleError("expected a non-zero number of leaves")
        order = _sorted_order(hashes) if sort_leaves else array("I", range(len(hashes)))
        nodes = _build_nodes([hashes[i] for i in reversed(order)])
        return cls(leaf_encoding, nodes, order, None, sorted_leaves=sort_leaves)

    @classmethod
    def load(cls, data: dict[str, Any]) -> StandardMerkleTree:
        """Loads (and fully validates) an OZ ``standard-v1`` dump."""
        if data.get("format") != "standard-v1" or "leafEncoding" not in data:
            raise MerkleError(f"unknown tree format {data.get('format')!r}")
        encoding = list(data["leafEncoding"])
        tree = [_as_bytes32(node) for node in data["tree"]]
        entries = data["values"]
        count = len(entries)
        if count == 0 or len(tree) != 2 * count - 1:
            raise MerkleError("tree size does not match the number of values")
        values = [tuple(_normalise(encoding, entry["value"])) for entry in entries]
        order = array("I", bytes(4 * count))
        for value_index, entry in enumerate(entries):
            tree_index = int(entry["treeIndex"])
            if not count - 1 <= tree_index < 2 * count - 1:
                raise MerkleError(f"value {value_index}: treeIndex {tree_index} is not a leaf")
            order[2 * count - 2 - tree_index] = value_index
        nodes = bytearray(b"".join(tree))
        loaded = cls(encoding, nodes, order, values, sorted_leaves=_is_descending(tree[count - 1 :]))
        loaded.validate()
        return loaded

    @classmethod
    def from_nodes(
        cls, leaf_encoding: Sequence[str], nodes: bytes, order: array, *, sorted_leaves: bool = True
    ) -> StandardMerkleTree:
        """Rebuilds a tree from its stored flat nodes and leaf order (no hashing, no values)."""
        return cls(leaf_encoding, bytearray(nodes), order, None, sorted_leaves=sorted_leaves)

    # ---- reading ----

    @property
    def root(self) -> bytes:
        return bytes(self._nodes[:32])

    def __len__(self) -> int:
        return self._count

    @property
    def nodes(self) -> bytes:
        """The flat tree, 32 bytes per node (``2n-1`` nodes), OZ layout."""
        return bytes(self._nodes)

    @property
    def order(self) -> array:
        """Leaf position -> value index (``array('I')``)."""
        return self._order

    def node(self, tree_index: int) -> bytes:
        return self._view[tree_index * 32 : tree_index * 32 + 32].tobytes()

    def tree_index(self, value_index: int) -> int:
        """Flat index of value ``value_index``'s leaf (OZ ``values[i].treeIndex``)."""
        if not 0 <= value_index < self._count:
            raise MerkleError(f"index {value_index} out of bounds (0..{self._count - 1})")
        return 2 * self._count - 2 - self._pos[value_index]

    def leaf(self, value_index: int) -> bytes:
        """The leaf hash of value ``value_index``."""
        return self.node(self.tree_index(value_index))

    def at(self, value_index: int) -> Sequence[Any] | None:
        return self._values[value_index] if self._values is not None else None

    def leaf_hash(self, value: Sequence[Any]) -> bytes:
        return leaf_hash(self.leaf_encoding, value)

    def index_of(self, value: Sequence[Any]) -> int:
        """Value index of ``value`` (by its leaf hash; for duplicates, the last one, like OZ's lookup)."""
        return self.index_of_leaf(self.leaf_hash(value))

    def index_of_leaf(self, leaf: bytes) -> int:
        """Value index of the leaf hash ``leaf``: a binary search over sorted leaves, else a lazy dict."""
        if self._sorted:
            position = self._find_sorted(leaf)
            if position is None:
                raise MerkleError("leaf is not in tree")
            return self._order[position]
        if self._by_hash is None:
            self._by_hash = {self.leaf(i): i for i in range(self._count)}
        found = self._by_hash.get(leaf)
        if found is None:
            raise MerkleError("leaf is not in tree")
        return found

    def get_proof(self, leaf: int | Sequence[Any]) -> list[bytes]:
        """OZ ``getProof(indexOrValue)``: sibling hashes from the leaf up to (excluding) the root."""
        value_index = leaf if isinstance(leaf, int) else self.index_of(leaf)
        index = self.tree_index(value_index)
        view = self._view
        proof: list[bytes] = []
        while index > 0:  # proof_from_reader, inlined: this runs once per level of every proof
            start = (index + 1 if index & 1 else index - 1) * 32
            proof.append(view[start : start + 32].tobytes())
            index = (index - 1) >> 1
        return proof

    def verify(self, leaf: int | Sequence[Any], proof: Iterable[bytes]) -> bool:
        hashed = self.leaf(leaf) if isinstance(leaf, int) else self.leaf_hash(leaf)
        return process_proof(hashed, proof) == self.root

    def entries(self) -> Iterator[tuple[int, Sequence[Any]]]:
        if self._values is None:
            raise MerkleError("this tree was built without its values")
        yield from enumerate(self._values)

    def validate(self) -> None:
        """Recomputes every value's leaf and every internal node (OZ ``validate``)."""
        if self._values is not None:
            for value_index, value in enumerate(self._values):
                if self.leaf(value_index) != self.leaf_hash(value):
                    raise MerkleError(f"value {value_index} does not match its leaf")
        for index in range(self._count - 1):
            if self.node(index) != node_hash(self.node(2 * index + 1), self.node(2 * index + 2)):
                raise MerkleError(f"node {index} is not the hash of its children")

    def dump(self) -> dict[str, Any]:
        """OZ ``standard-v1`` JSON (needs the values)."""
        if self._values is None:
            raise MerkleError("this tree was built without its values")
        return {
            "format": "standard-v1",
            "leafEncoding": list(self.leaf_encoding),
            "tree": ["0x" + self.node(i).hex() for i in range(2 * self._count - 1)],
            "values": [
                {"value": _jsonable(self.leaf_encoding, value), "treeIndex": self.tree_index(i)}
                for i, value in enumerate(self._values)
            ],
        }

    # ---- private ----

    def _find_sorted(self, leaf: bytes) -> int | None:
        """Position of ``leaf`` among the ascending leaves (stored descending at the end of the array)."""
        base = 2 * self._count - 2
        at = self.node

        def key(position: int) -> bytes:
            return at(base - position)

        position = bisect.bisect_right(range(self._count), leaf, key=key) - 1  # last equal = OZ lookup
        if position < 0 or key(position) != leaf:
            return None
        return position


def hash_leaves(
    values: Sequence[Sequence[Any]], leaf_encoding: Sequence[str], *, workers: int | None = None
) -> list[bytes]:
    """Standard leaf hashes of ``values``, in input order.

    Large inputs are split over ``workers`` processes (default: up to 2 CPUs from 100,000 values on) started
    with ``fork``, so the values are shared copy-on-write and only the 32-byte hashes travel back.
    """
    count = len(values)
    if workers is None:
        workers = min(2, os.cpu_count() or 1) if count >= _PARALLEL_FROM else 1
    if workers <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        return _hash_range(values, list(leaf_encoding), 0, count)
    bounds = [count * w // workers for w in range(workers + 1)]
    ctx = multiprocessing.get_context("fork")
    jobs = []
    for w in range(1, workers):
        receiver, sender = ctx.Pipe(duplex=False)
        proc = ctx.Process(
            target=_hash_worker, args=(sender, values, list(leaf_encoding), bounds[w], bounds[w + 1])
        )
        proc.start()
        sender.close()
        jobs.append((proc, receiver))
    out = _hash_range(values, list(leaf_encoding), bounds[0], bounds[1])
    for proc, receiver in jobs:
        try:
            blob = receiver.recv_bytes()
        except EOFError:
            raise MerkleError("a leaf-hashing worker failed") from None
        finally:
            proc.join()
        if blob.startswith(b"!"):
            raise MerkleError(blob[1:].decode(errors="replace"))
        out.extend(blob[i : i + 32] for i in range(0, len(blob), 32))
    return out


def _hash_worker(
    sender: Any, values: Sequence[Sequence[Any]], types: list[str], start: int, end: int
) -> None:
    try:
        sender.send_bytes(b"".join(_hash_range(values, types, start, end)))
    except Exception as exc:  # report instead of dying silently: the parent raises it
        sender.send_bytes(b"!" + f"{type(exc).__name__}: {exc}".encode())
    finally:
        sender.close()


def _hash_range(values: Sequence[Sequence[Any]], types: list[str], start: int, end: int) -> list[bytes]:
    ctor = _keccak_ctor
    if not _is_static(types):
        return [
            ctor(ctor(abi_encode(types, list(_normalise(types, v)))).digest()).digest()
            for v in values[start:end]
        ]
    tuple_type = "(" + ",".join(types) + ")"
    out: list[bytes] = []
    append = out.append
    for first in range(start, end, _CHUNK):
        chunk = values[first : min(first + _CHUNK, end)]
        try:
            encoded = abi_encode([f"{tuple_type}[{len(chunk)}]"], [chunk])
        except Exception:  # some values need normalising (hex strings, decimal strings): do it for this chunk
            chunk = [tuple(_normalise(types, v)) for v in chunk]
            encoded = abi_encode([f"{tuple_type}[{len(chunk)}]"], [chunk])
        size = len(encoded) // len(chunk)
        for offset in range(0, len(encoded), size):
            append(ctor(ctor(encoded[offset : offset + size]).digest()).digest())
    return out


def _sorted_order(hashes: list[bytes]) -> array:
    """Leaf position -> value index, ascending by hash, stable (JS Array.prototype.sort is stable)."""
    return array("I", sorted(range(len(hashes)), key=hashes.__getitem__))


def _build_nodes(leaves_reversed: list[bytes], workers: int | None = None) -> bytearray:
    """OZ ``makeMerkleTree``: flat array, leaves at the end; internal nodes one heap level at a time.

    The subtrees under the root's two children are independent; from 100,000 leaves on (and with a second
    CPU) a forked worker hashes the right one while this process hashes the left one."""
    count = len(leaves_reversed)
    nodes = bytearray((count - 1) * 32)
    nodes += b"".join(leaves_reversed)
    levels: list[tuple[int, int]] = []  # internal nodes 0 .. count-2 by heap level (level d from 2^d - 1)
    first = 1
    while first - 1 < count - 1:
        levels.append((first - 1, min(2 * first - 1, count - 1)))
        first *= 2
    if workers is None:
        workers = min(2, os.cpu_count() or 1) if count >= _PARALLEL_FROM else 1
    if workers < 2 or len(levels) < 2 or "fork" not in multiprocessing.get_all_start_methods():
        _hash_levels(nodes, [(start, end) for start, end in reversed(levels)])
        return nodes
    left = [(s, min(e, s + (s + 1) // 2)) for s, e in reversed(levels[1:])]  # first half of each level
    right = [(s + (s + 1) // 2, e) for s, e in reversed(levels[1:]) if e > s + (s + 1) // 2]
    ctx = multiprocessing.get_context("fork")
    receiver, sender = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_levels_worker, args=(sender, nodes, right))
    proc.start()
    sender.close()
    _hash_levels(nodes, left)
    try:
        blob = receiver.recv_bytes()
    except EOFError:
        raise MerkleError("a tree-building worker failed") from None
    finally:
        proc.join()
    offset = 0
    for start, end in right:
        size = (end - start) * 32
        nodes[start * 32 : end * 32] = blob[offset : offset + size]
        offset += size
    _hash_levels(nodes, [levels[0]])
    return nodes


def _levels_worker(sender: Any, nodes: bytearray, ranges: list[tuple[int, int]]) -> None:
    try:
        _hash_levels(nodes, ranges)
        sender.send_bytes(b"".join(bytes(nodes[start * 32 : end * 32]) for start, end in ranges))
    finally:
        sender.close()


def _hash_levels(nodes: bytearray, ranges: list[tuple[int, int]]) -> None:
    """Computes nodes ``[start, end)`` from their children ``[2*start+1, 2*end+1)``, range by range."""
    ctor = _keccak_ctor
    for start, end in ranges:
        children = bytes(nodes[(2 * start + 1) * 32 : (2 * end + 1) * 32])
        parents: list[bytes] = []
        push = parents.append
        for offset in range(0, len(children), 64):
            a = children[offset : offset + 32]
            b = children[offset + 32 : offset + 64]
            push(ctor(a + b if a <= b else b + a).digest())
        nodes[start * 32 : end * 32] = b"".join(parents)


def _is_descending(leaves: list[bytes]) -> bool:
    return all(leaves[i] >= leaves[i + 1] for i in range(len(leaves) - 1))


def _is_static(types: Sequence[str]) -> bool:
    try:
        return all(not _parse_abi_type(t).is_dynamic for t in types)
    except Exception:  # an unparsable type: let eth_abi report it per value
        return False


def _as_bytes32(value: Any) -> bytes:
    if isinstance(value, str):
        value = bytes.fromhex(value[2:] if value.startswith(("0x", "0X")) else value)
    raw = bytes(value)
    if len(raw) != 32:
        raise MerkleError(f"expected 32 bytes, got {len(raw)}")
    return raw


def _normalise(types: Sequence[str], value: Sequence[Any]) -> Iterator[Any]:
    """Turns JSON-ish values (hex strings, decimal strings) into what eth_abi encodes."""
    if len(value) != len(types):
        raise MerkleError(f"value has {len(value)} fields, encoding has {len(types)}")
    for typ, item in zip(types, value, strict=True):
        if typ.startswith("bytes") and typ != "bytes" and isinstance(item, str):
            yield bytes.fromhex(item[2:] if item.startswith(("0x", "0X")) else item)
        elif typ.startswith(("uint", "int")) and isinstance(item, str):
            yield int(item, 0)
        else:
            yield item


def _jsonable(types: Sequence[str], value: Sequence[Any]) -> list[Any]:
    """OZ dump form: bytes as 0x-hex, integers as decimal strings (OZ refuses JS numbers as leaf values)."""
    out: list[Any] = []
    for item in value:
        if isinstance(item, bytes | bytearray):
            out.append("0x" + bytes(item).hex())
        elif isinstance(item, bool):
            out.append(item)
        elif isinstance(item, int):
            out.append(str(item))
        else:
            out.append(item)
    return out
