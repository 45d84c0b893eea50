"""Published serial trees (issue 17): how a pharmacy and the consumer page get a batch's serial tree without
a manual export / import.

What is published is the batch's OZ StandardMerkleTree (DESIGN §6.7 leaves ``(batchId, serial)``) **without
its values**: the flat node array only (the ``tree`` of a ``standard-v1`` dump), so the file proves any serial
one holds (the pack in hand) and shows that an invented serial is not in the batch, but does not list the
serials (SECURITY.md, "Published serial trees"). Format (JSON)::

    {"format": "medchain-serial-leaves-v1", "leafEncoding": ["bytes32", "string"],
     "batchId": "0x…", "gtin": "…", "lot": "…", "root": "0x…", "tree": ["0x…", …]}

Where: ``<manufacturer's member URI>/trees/0x<batchId>.json``. The URI is the manufacturer's public endpoint
in the Consortium (council-approved, on chain); ``medchain web serve`` serves ``/trees/…`` from its store, and
`publish` writes the same file into a static folder (``file://`` URIs work for local use). A fetched tree is
used only after every node is recomputed and its root equals the batch's serial root **on chain**, so the URI
itself needs no trust.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from array import array
from pathlib import Path
from typing import Any, Final

from medchain.errors import InputError, MedchainError
from medchain.merkle import MerkleError, StandardMerkleTree
from medchain.serials import SERIAL_LEAF_ENCODING, serial_leaf
from medchain.store import Connection
from medchain.store.serials import SerialTrees

__all__ = [
    "FORMAT",
    "LeafTree",
    "TreeUnavailable",
    "document",
    "fetch",
    "obtain",
    "publish",
    "tree_name",
    "tree_uri",
]

FORMAT: Final = "medchain-serial-leaves-v1"
MAX_BYTES: Final = 256 * 1024 * 1024  # 2^22 serials ≈ 8.4 M nodes ≈ 570 MB of hex: far past a real batch
TIMEOUT: Final = 10.0
RETRY_AFTER: Final = 60.0  # an unreachable URI is not asked again for this long (a page server's lookups)

_misses: dict[str, tuple[float, str]] = {}  # uri -> (monotonic time of the failure, its message)


class TreeUnavailable(MedchainError):
    """The published tree could not be read (no URI, network or file error, not JSON)."""


def _hex(value: bytes) -> str:
    return "0x" + bytes(value).hex()


def tree_name(batch: bytes) -> str:
    """The file name of a batch's published tree: ``0x<batchId>.json``."""
    return f"{_hex(batch)}.json"


def tree_uri(base: str | None, batch: bytes) -> str | None:
    """``<base>/trees/0x<batchId>.json`` (None when the manufacturer has no public URI)."""
    text = (base or "").strip()
    if not text:
        return None
    return f"{text.rstrip('/')}/trees/{tree_name(batch)}"


def document(batch: bytes, gtin: str, lot: str, nodes: bytes) -> dict[str, Any]:
    """The published form of a stored tree (its flat nodes, no serials)."""
    return {
        "format": FORMAT,
        "leafEncoding": list(SERIAL_LEAF_ENCODING),
        "batchId": _hex(batch),
        "gtin": gtin,
        "lot": lot,
        "root": _hex(nodes[:32]),
        "tree": [_hex(nodes[i : i + 32]) for i in range(0, len(nodes), 32)],
    }


def stored_document(conn: Connection, batch: bytes) -> dict[str, Any] | None:
    """The published form of the store's tree of `batch` (None: this store has none)."""
    stored = SerialTrees(conn).stored_nodes(batch)
    if stored is None:
        return None
    gtin, lot, nodes = stored
    return document(batch, gtin, lot, nodes)


def publish(conn: Connection, batch: bytes, folder: Path) -> Path:
    """Write the batch's published tree to ``folder/trees/0x<batchId>.json`` (atomically); the file a web
    server serves at ``<member URI>/trees/…`` when `folder` is its document root."""
    doc = stored_document(conn, batch)
    if doc is None:
        raise InputError(f"no serial tree for batch {_hex(batch)} in this store: commission it here first")
    out = folder / "trees" / tree_name(batch)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.name + ".tmp")
        tmp.write_text(json.dumps(doc, separators=(",", ":")) + "\n", encoding="utf-8")
        os.replace(tmp, out)
    except OSError as exc:
        raise InputError(f"cannot write the published tree to {out}: {exc.strerror}") from None
    return out


def fetch(uri: str, *, timeout: float = TIMEOUT) -> dict[str, Any]:
    """The JSON at `uri` (``http://``, ``https://`` or ``file://``); TreeUnavailable naming the URI."""
    scheme = urllib.parse.urlsplit(uri).scheme.lower()
    if scheme not in ("http", "https", "file"):
        raise TreeUnavailable(f"tree unavailable at URI {uri}: only http(s) and file URIs are fetched")
    try:
        if scheme == "file":
            path = Path(urllib.request.url2pathname(urllib.parse.urlsplit(uri).path))
            with path.open("rb") as handle:
                data = handle.read(MAX_BYTES + 1)
        else:
            request = urllib.request.Request(uri, headers={"Accept": "application/json"})
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (scheme checked)
                data = response.read(MAX_BYTES + 1)
    except urllib.error.HTTPError as exc:
        raise TreeUnavailable(f"tree unavailable at URI {uri}: HTTP {exc.code}") from None
    except urllib.error.URLError as exc:
        raise TreeUnavailable(f"tree unavailable at URI {uri}: {exc.reason}") from None
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise TreeUnavailable(f"tree unavailable at URI {uri}: {reason}") from None
    if len(data) > MAX_BYTES:
        raise TreeUnavailable(f"tree unavailable at URI {uri}: larger than {MAX_BYTES} bytes")
    try:
        parsed = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise TreeUnavailable(f"tree unavailable at URI {uri}: not JSON") from None
    if not isinstance(parsed, dict):
        raise TreeUnavailable(f"tree unavailable at URI {uri}: not a tree document")
    return parsed


class LeafTree:
    """A batch's serial tree without its serials: proves a serial one knows, or shows it is not there."""

    def __init__(self, batch: bytes, nodes: bytes) -> None:
        count = (len(nodes) // 32 + 1) // 2
        self.batch = batch
        self.tree = StandardMerkleTree.from_nodes(SERIAL_LEAF_ENCODING, nodes, array("I", range(count)))

    @property
    def root(self) -> bytes:
        return self.tree.root

    def proof(self, serial: str) -> list[bytes] | None:
        """The serial's proof, None when the serial is not in the batch."""
        try:
            return self.tree.get_proof(self.tree.index_of_leaf(serial_leaf(self.batch, serial)))
        except MerkleError:
            return None


def check(doc: dict[str, Any], batch: bytes, root: bytes, quantity: int, uri: str) -> bytes:
    """The flat nodes of a fetched tree document, after checking it is batch `batch`'s tree with the on-chain
    `root` and `quantity` leaves (every internal node recomputed, leaves sorted as OZ sorts them)."""
    refused = f"serial tree at {uri} refused"
    if doc.get("format") not in (FORMAT, "standard-v1") or list(doc.get("leafEncoding", [])) != list(
        SERIAL_LEAF_ENCODING
    ):
        encoding = list(SERIAL_LEAF_ENCODING)
        raise InputError(f"{refused}: not a {FORMAT} document with leaf encoding {encoding}")
    try:
        nodes = b"".join(bytes.fromhex(str(n).removeprefix("0x")) for n in doc["tree"])
    except (KeyError, TypeError, ValueError):
        raise InputError(f"{refused}: its tree is not a list of 0x hashes") from None
    got = nodes[:32]
    if got != root:
        raise InputError(
            f"{refused}: its root {_hex(got)} is not batch {_hex(batch)}'s root on chain {_hex(root)}"
        )
    count = quantity
    if len(nodes) != 32 * (2 * count - 1):
        size = (len(nodes) // 32 + 1) // 2
        raise InputError(f"{refused}: it has {size} leaves, the batch has {count} on chain")
    tree = StandardMerkleTree.from_nodes(SERIAL_LEAF_ENCODING, nodes, array("I", range(count)))
    try:
        tree.validate()
    except MerkleError as exc:
        raise InputError(f"{refused}: {exc}") from None
    leaves = [tree.node(i) for i in range(count - 1, 2 * count - 1)]
    if any(a <= b for a, b in zip(leaves, leaves[1:], strict=False)):
        raise InputError(f"{refused}: its leaves are not sorted as a StandardMerkleTree sorts them")
    return nodes


def obtain(
    conn: Connection | None,
    batch: bytes,
    *,
    gtin: str,
    lot: str,
    root: bytes,
    quantity: int,
    uri: str | None,
) -> LeafTree:
    """The batch's tree: the store's copy (commissioned, imported or fetched before), else fetched from `uri`,
    checked against the on-chain `root`, and cached in the store. TreeUnavailable when it cannot be read;
    InputError when what is there is not the batch's tree."""
    if conn is not None:
        stored = SerialTrees(conn).stored_nodes(batch)
        if stored is not None and stored[2][:32] == root:
            return LeafTree(batch, stored[2])
    if uri is None:
        raise TreeUnavailable(
            f"tree unavailable: the manufacturer of batch {_hex(batch)} has no public URI in the Consortium"
        )
    missed = _misses.get(uri)
    if missed is not None and time.monotonic() - missed[0] < RETRY_AFTER:
        raise TreeUnavailable(missed[1])
    try:
        doc = fetch(uri)
    except TreeUnavailable as exc:
        _misses[uri] = (time.monotonic(), str(exc))
        raise
    _misses.pop(uri, None)
    nodes = check(doc, batch, root, quantity, uri)
    if conn is not None:
        SerialTrees(conn).cache_leaves(batch, gtin, lot, nodes)
    return LeafTree(batch, nodes)
