"""Shared pieces of the bad-input fuzz suite (issue #8 item 5).

The properties every parser must keep:

- a library call returns, or raises a `medchain.errors.MedchainError` whose message is one line; anything else
  (ValueError, RecursionError, csv.Error, decimal signals, ...) is a bug;
- a CLI run (in process, through `medchain.cli.app` and its root error handling) ends with exit 0, or exit 1
  and exactly one line on stderr (exit 2 only for typer's own usage errors), never a traceback;
- a rejected input writes nothing: no file is created or changed, the store's content stays the same, and no
  transaction reaches the chain.

Example counts are sized for CI (all fuzz tests together well under a minute); `MEDCHAIN_PROFILE=long` runs
100 times as many (`make audit`).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from hypothesis import HealthCheck, Verbosity, settings
from hypothesis import strategies as st
from typer.testing import CliRunner
from web3 import Web3

from medchain.cli import app as root_app
from medchain.errors import MedchainError

LONG = os.environ.get("MEDCHAIN_PROFILE") == "long"
T = TypeVar("T")


def examples(n: int) -> int:
    """`n` examples in CI, 100 × `n` under MEDCHAIN_PROFILE=long."""
    return n * 100 if LONG else n


def fuzz(n: int) -> Callable[[T], T]:
    """hypothesis settings for a fuzz test: `examples(n)` examples, no deadline, no example database (nothing
    written into the checkout), fixtures allowed (each example builds its own temp files). The CI profile is
    derandomized (the same examples every run, like forge's fixed seed: a red CI is a regression, not luck);
    MEDCHAIN_PROFILE=long explores with a random seed."""
    return settings(  # type: ignore[return-value]
        max_examples=examples(n),
        deadline=None,
        database=None,
        derandomize=not LONG,
        verbosity=Verbosity.normal,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.function_scoped_fixture,
            HealthCheck.data_too_large,
        ],
    )


# ---- library calls ----


#: characters str.isdigit() accepts and int() refuses ('²', '①', ...): findings F1/P1, now fed to every parser
NOT_DECIMAL_DIGITS = "".join(
    c
    for c in map(chr, range(0x110000))
    if c.isdigit() and not c.isdecimal() and not 0xD800 <= ord(c) < 0xE000
)

#: what str.splitlines() breaks a line at
LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


def has_line_break(text: str) -> bool:
    return any(c in LINE_BREAKS for c in text)


def one_line(message: str) -> str:
    assert message.strip(), "empty error message"
    assert not has_line_break(message), f"multi-line error: {message!r}"
    return message


def call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T | MedchainError:
    """`fn(*args)`; a MedchainError is returned (after checking it is one line), anything else propagates."""
    try:
        return fn(*args, **kwargs)
    except MedchainError as exc:
        one_line(str(exc))
        return exc


# ---- the CLI ----


app = root_app  # the `medchain` command itself: every group, its options and error handling


@dataclass
class Run:
    args: list[str]
    exit_code: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    def json(self) -> Any:
        return json.loads(self.stdout)


def run(*args: str, env: dict[str, str] | None = None) -> Run:
    """`medchain <args>` in process; an exception escaping the root group's handling fails the test."""
    result = CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)
    out = Run(list(args), result.exit_code, result.stdout, result.stderr)
    assert "Traceback" not in out.stdout + out.stderr, out
    assert out.exit_code in (0, 1, 2), out
    return out


def rejected(out: Run, *, usage_ok: bool = False) -> str:
    """Asserts a clean rejection: exit 1 and exactly one `error: ...` line on stderr (exit 2, typer's usage
    box, only where `usage_ok`). Returns the error line."""
    if usage_ok and out.exit_code == 2:
        assert out.stderr.rstrip().endswith("╯") or "Error" in out.stderr, out
        return out.stderr
    assert out.exit_code == 1, out
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, out
    assert lines[0].startswith("error: "), out
    return lines[0]


# ---- "never a write" ----


def tree(root: Path) -> dict[str, str]:
    """Every file under `root` with a digest of its bytes (SQLite side files included)."""
    out: dict[str, str] = {}
    if root.exists():
        for path in sorted(root.rglob("*")):
            if path.is_file():
                out[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def db_content(path: Path) -> list[str]:
    """The logical content of a SQLite store (schema and rows), independent of page layout and WAL state."""
    if not path.exists():
        return []
    conn = sqlite3.connect(path)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


@contextmanager
def unchanged(root: Path) -> Iterator[None]:
    """Asserts that nothing under `root` was created, deleted or modified in the block."""
    before = tree(root)
    yield
    after = tree(root)
    assert after == before, {
        "created": sorted(set(after) - set(before)),
        "deleted": sorted(set(before) - set(after)),
        "changed": sorted(k for k in before.keys() & after.keys() if before[k] != after[k]),
    }


# ---- strategies shared by several parsers ----

#: any JSON value, small
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)

#: strings that look almost right more often than random text does
hexish = st.text(alphabet="0123456789abcdefABCDEFxX", max_size=70).map(lambda s: "0x" + s) | st.from_regex(
    r"\A0x[0-9a-fA-F]{38,42}\Z"
)


def mutate_text(draw: Callable[[Any], Any], text: str, alphabet: st.SearchStrategy[str] | None = None) -> str:
    """One to three edits of `text`: delete, insert, replace a slice, duplicate, or truncate."""
    chars = alphabet if alphabet is not None else st.characters()
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["delete", "insert", "replace", "duplicate", "truncate"]))
        n = len(text)
        i = draw(st.integers(0, n))
        j = draw(st.integers(i, min(n, i + 8)))
        if op == "delete":
            text = text[:i] + text[j:]
        elif op == "insert":
            text = text[:i] + draw(st.text(chars, min_size=1, max_size=6)) + text[i:]
        elif op == "replace":
            text = text[:i] + draw(st.text(chars, max_size=6)) + text[j:]
        elif op == "duplicate":
            text = text[:j] + text[i:j] + text[j:]
        else:
            text = text[:i]
    return text


def mutate_json(draw: Callable[[Any], Any], doc: Any) -> Any:
    """One structural edit of a JSON document: drop a key, replace a value by any JSON value, add a key, or
    wrap a value in a list; applied at a random depth."""
    if isinstance(doc, dict) and doc and draw(st.booleans()):
        key = draw(st.sampled_from(sorted(doc)))
        copy = dict(doc)
        copy[key] = mutate_json(draw, doc[key])
        return copy
    if isinstance(doc, list) and doc and draw(st.booleans()):
        i = draw(st.integers(0, len(doc) - 1))
        copy = list(doc)
        copy[i] = mutate_json(draw, doc[i])
        return copy
    op = draw(st.sampled_from(["replace", "drop", "add", "wrap", "stringify"]))
    if op == "drop" and isinstance(doc, dict) and doc:
        copy = dict(doc)
        del copy[draw(st.sampled_from(sorted(doc)))]
        return copy
    if op == "add" and isinstance(doc, dict):
        return {**doc, draw(st.text(max_size=12)): draw(json_values)}
    if op == "wrap":
        return [doc]
    if op == "stringify" and not isinstance(doc, str):
        return json.dumps(doc)
    return draw(json_values)


@dataclass
class Deployed:
    url: str
    manifest: Path
    w3: Web3

    def base(self, account: str = "3") -> list[str]:
        """Root options for a CLI run against this deployment (account 3 holds no role)."""
        return ["--rpc-url", self.url, "--manifest", str(self.manifest), "--account", account]

    @property
    def head(self) -> int:
        return int(self.w3.eth.block_number)
