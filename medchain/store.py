"""Local durable state: one SQLite database per chain (WAL), shared by the journals and the indexer.

What the chain alone cannot give back later (Merkle proofs of batch-anchored records, salts, the journal
of submitted transactions, indexed events) lives here. Writes happen before transactions are sent.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from medchain.errors import ConfigError
from medchain.home import find_home


def state_dir() -> Path:
    """$MEDCHAIN_HOME, else the nearest .medchain/ in the current directory or a parent (medchain.home)."""
    return find_home()


def default_store_path(chain_id: int) -> Path:
    """The per-chain database: <state_dir>/<chain_id>/medchain.sqlite."""
    return state_dir() / str(chain_id) / "medchain.sqlite"


def open_store(path: str | Path) -> sqlite3.Connection:
    """Open (creating if needed) a SQLite database in WAL mode with foreign keys and a busy timeout."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # check_same_thread=False: the web page and progress threads share a connection (sqlite serialises)
        conn = sqlite3.connect(str(path), timeout=30.0, isolation_level=None, check_same_thread=False)
    except (OSError, sqlite3.Error) as exc:
        raise ConfigError(f"cannot open the local store {path}: {exc}") from None
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn
