"""The gateway's memory of released requests (replay protection and the gateway's own release log).

One table of the hospital's local store (``gateway_releases``, made by :mod:`medchain.store.schema`).
A request id is written when its response is released, atomically (``INSERT`` on the primary key), so
two copies of one signed request racing each other release once. Rows whose request expired long ago
can be pruned: an expired request is refused before this table is asked.
"""

from __future__ import annotations

import sqlite3
import threading
import time

from medchain.store.schema import migrate

__all__ = ["ReleaseLog"]


class ReleaseLog:
    """Request ids already answered."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._lock = threading.Lock()
        migrate(conn)

    def seen(self, request_id: bytes) -> bool:
        row = self.conn.execute(
            "SELECT 1 FROM gateway_releases WHERE request_id = ?", (bytes(request_id),)
        ).fetchone()
        return row is not None

    def record(
        self,
        request_id: bytes,
        *,
        kind: str,
        requester: str,
        signer: str,
        subject: bytes,
        purpose: int,
        access_tx: bytes | None,
        expires_at: int,
    ) -> bool:
        """Remembers a release; False if the id was already used (a replay: release nothing)."""
        with self._lock:
            try:
                self.conn.execute(
                    "INSERT INTO gateway_releases (request_id, kind, requester, signer, subject, purpose,"
                    " access_tx, expires_at, released_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (bytes(request_id), kind, requester, signer, bytes(subject), purpose, access_tx,
                     expires_at, int(time.time())),
                )  # fmt: skip
            except sqlite3.IntegrityError:
                return False
        return True

    def prune(self, before: int) -> int:
        """Forgets requests that expired before ``before`` (unix seconds); returns how many."""
        with self._lock:
            cursor = self.conn.execute("DELETE FROM gateway_releases WHERE expires_at < ?", (before,))
        return int(cursor.rowcount)

    def count(self) -> int:
        return int(self.conn.execute("SELECT COUNT(*) FROM gateway_releases").fetchone()[0])
