"""Local durable state: one SQLite database per chain (WAL), the only module family that speaks SQL.

What the chain alone cannot give back later (Merkle proofs of batch-anchored records, the hospitals' salt
keys, the journals of submitted transactions, serial trees, indexed events) lives here. Writes happen
before transactions are sent.

Layout: :mod:`medchain.store.schema` owns every table and upgrades an older store in place
(``PRAGMA user_version``); one class per data set reads and writes it:

- :class:`medchain.store.records.Journal` the record journal (submissions, records, batch trees);
- :class:`medchain.store.keys.SaltKeys` the hospitals' record salt keys, sealed with the store passphrase
  (:mod:`medchain.store.secrets`);
- :class:`medchain.store.claims.ClaimJournal` submitted claims;
- :class:`medchain.store.serials.SerialTrees` drug serial trees and EPCIS documents;
- :class:`medchain.store.events.EventIndex` the indexed chain events;
- :class:`medchain.store.releases.ReleaseLog` the gateway's released request ids;
- :mod:`medchain.store.backup` online backup, restore and the integrity check.

Other modules receive these objects (or the connection from :func:`open_store` to build them) and never
import ``sqlite3``; the names below are the connection types they annotate with.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from medchain.errors import ConfigError

__all__ = [
    "Connection",
    "IntegrityError",
    "OperationalError",
    "Row",
    "StoreDatabaseError",
    "default_store_path",
    "open_store",
    "state_dir",
    "transaction",
]

#: the store connection (what :func:`open_store` returns) and its row type, for annotations elsewhere
Connection = sqlite3.Connection
Row = sqlite3.Row
IntegrityError = sqlite3.IntegrityError
OperationalError = sqlite3.OperationalError
StoreDatabaseError = sqlite3.Error


def state_dir() -> Path:
    """$MEDCHAIN_HOME, else the nearest .medchain/ in the current directory or a parent (medchain.home)."""
    from medchain.home import find_home

    return find_home()


def default_store_path(chain_id: int) -> Path:
    """The per-chain database: <state_dir>/<chain_id>/medchain.sqlite."""
    return state_dir() / str(chain_id) / "medchain.sqlite"


def connect(path: str | Path) -> sqlite3.Connection:
    """The raw connection (WAL, foreign keys, busy timeout) without touching the schema."""
    path = Path(path)
    try:
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        # check_same_thread=False: the web page and progress threads share a connection (sqlite serialises)
        conn = sqlite3.connect(str(path), timeout=30.0, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        # up to 64 MiB of pages (grown only as used): a batch's inserts into a large journal's indexes
        # revisit their pages instead of reading them again
        conn.execute("PRAGMA cache_size=-65536")
    except (OSError, sqlite3.Error) as exc:
        raise ConfigError(f"cannot open the local store {path}: {exc}") from None
    return conn


def open_store(path: str | Path) -> sqlite3.Connection:
    """Open (creating if needed) the store at ``path``, upgraded in place to the current schema."""
    from medchain.store.schema import migrate

    conn = connect(path)
    try:
        migrate(conn, str(path))
    except sqlite3.Error as exc:  # e.g. a read-only copy that still needs its upgrade
        conn.close()
        raise ConfigError(f"cannot upgrade the local store {path} to this version's schema: {exc}") from None
    except BaseException:
        conn.close()
        raise
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One atomic write: everything or nothing reaches the file (the store runs in autocommit mode)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
