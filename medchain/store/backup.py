"""Backup, restore and the integrity check of a local store.

- :func:`backup` copies the store with SQLite's online backup API (a consistent snapshot even while another
  medchain process writes: a step that sees the source change restarts the copy) into a hidden temporary
  file beside the target, checks it, and renames it to the target only when it is complete; a crash or a
  kill at any point leaves the store untouched and no file under the target name.
- :func:`restore` checks a backup (integrity, schema version, a medchain store at all), keeps the current
  store beside itself (``<store>.before-restore-<UTC time>``) and copies the backup in, then upgrades it
  to this version's schema.
- :func:`inspect` reports ``PRAGMA integrity_check``, foreign keys, the schema version and how the salt
  keys are kept; the journal-against-chain part lives with the records service
  (:func:`medchain.records.journal_vs_chain`).
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from medchain.errors import InputError
from medchain.store import connect
from medchain.store.records import fault_point
from medchain.store.schema import SCHEMA_VERSION, migrate, schema_version

__all__ = ["backup", "inspect", "restore"]

#: pages copied per backup step (4 KiB pages: 1 MiB); between steps other processes may write
STEP_PAGES = 256

Progress = Callable[[int, int], None]  # (pages copied, pages in total)

#: restarts of a step-wise copy (the source changed under it) before copying in one step
_MAX_RESTARTS = 3


class _Busy(Exception):
    """The step-wise copy kept restarting."""


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _integrity(conn: sqlite3.Connection) -> list[str]:
    problems = [str(r[0]) for r in conn.execute("PRAGMA integrity_check")]
    problems = [] if problems == ["ok"] else problems
    problems += [f"foreign key: {tuple(r)}" for r in conn.execute("PRAGMA foreign_key_check")]
    return problems


def _copy(source: sqlite3.Connection, target: Path, progress: Progress | None) -> None:
    """All of ``source`` into a new single-file database at ``target`` (a temporary name: caller renames)."""
    dest = sqlite3.connect(str(target), isolation_level=None)
    try:
        last, restarts = -1, 0

        def step(_status: int, remaining: int, total: int) -> None:
            nonlocal last, restarts
            fault_point("store-backup-step")
            if 0 <= last < remaining:  # another process wrote: SQLite restarted the copy
                restarts += 1
                if restarts > _MAX_RESTARTS:
                    raise _Busy()
            last = remaining
            if progress is not None:
                progress(total - remaining, total)

        try:
            source.backup(dest, pages=STEP_PAGES, progress=step)
        except _Busy:
            # a store written without pause: one step copies one snapshot under a single read transaction
            # (WAL: the writers go on meanwhile), instead of restarting forever
            source.backup(dest)
        dest.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        problems = _integrity(dest)
        if problems:
            raise InputError(
                f"the copy failed its integrity check ({problems[0]}); the store was not changed"
            )
    finally:
        dest.close()
    with open(target, "rb") as handle:
        os.fsync(handle.fileno())


def backup(store: Path, out: Path, progress: Progress | None = None) -> dict[str, Any]:
    """Copies the store at ``store`` to ``out`` (refusing to overwrite a file); returns what was copied."""
    store, out = Path(store), Path(out)
    if not store.is_file():
        raise InputError(f"no local store at {store}: nothing to back up (give --store)")
    if out.exists():
        raise InputError(f"{out}: already exists; choose a new file for the backup")
    if not out.parent.is_dir():
        raise InputError(f"{out.parent}: no such directory for the backup")
    partial = out.with_name(f".{out.name}.partial-{os.getpid()}")
    source = connect(store)
    try:
        _copy(source, partial, progress)
        os.replace(partial, out)
        _fsync_dir(out.parent)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        source.close()
    info = _describe(out)
    return {"store": str(store), "backup": str(out), **info}


def _describe(path: Path) -> dict[str, Any]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        count = (
            int(conn.execute("SELECT COUNT(*) FROM record_items").fetchone()[0])
            if "record_items" in tables
            else 0
        )
        return {"schemaVersion": schema_version(conn), "records": count, "bytes": path.stat().st_size}
    finally:
        conn.close()


def _check_backup(path: Path) -> None:
    if not path.is_file():
        raise InputError(f"{path}: no such backup file")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            problems = _integrity(conn)
            version = schema_version(conn)
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise InputError(f"{path}: not a MedChain store backup ({exc})") from None
    if problems:
        raise InputError(f"{path}: the backup fails its integrity check ({problems[0]}); use another backup")
    if version > SCHEMA_VERSION:
        raise InputError(f"{path}: schema version {version} is newer than this medchain's {SCHEMA_VERSION}")
    if "record_submissions" not in tables and "salt_keys" not in tables:
        raise InputError(f"{path}: not a MedChain store backup (no journal or salt key tables)")


def restore(backup_file: Path, store: Path) -> dict[str, Any]:
    """Replaces the store at ``store`` with ``backup_file``; the current store is kept beside it first."""
    backup_file, store = Path(backup_file), Path(store)
    _check_backup(backup_file)
    kept: Path | None = None
    if store.is_file():
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        kept = store.with_name(f"{store.name}.before-restore-{stamp}")
        backup(store, kept)
    source = sqlite3.connect(f"file:{backup_file}?mode=ro", uri=True)
    dest = connect(store)
    try:
        source.backup(dest)  # page by page under the store's own locks: other readers see old or new
        migrate(dest, str(store))
        problems = _integrity(dest)
    finally:
        source.close()
        dest.close()
    if problems:
        raise InputError(f"{store}: the restored store fails its integrity check ({problems[0]})")
    return {"store": str(store), "restoredFrom": str(backup_file), "previous": str(kept) if kept else None,
            **_describe(store)}  # fmt: skip


def inspect(conn: sqlite3.Connection) -> dict[str, Any]:
    """Integrity, schema version and how the secrets are kept (reads no secret)."""
    from medchain.store.keys import SaltKeys

    sealed = SaltKeys(conn).sealed()
    return {
        "integrity": _integrity(conn) or ["ok"],
        "schemaVersion": schema_version(conn),
        "currentSchemaVersion": SCHEMA_VERSION,
        "saltKeys": {"sealed": sum(sealed.values()), "plaintext": len(sealed) - sum(sealed.values())},
    }
