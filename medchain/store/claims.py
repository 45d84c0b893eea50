"""Submitted claims of one ClaimsManager (table ``claim_submissions``): the journal that makes
``claims submit`` re-runs idempotent (:mod:`medchain.claims` drives it)."""

from __future__ import annotations

import sqlite3
import time
from typing import TYPE_CHECKING, Any

from eth_utils import to_checksum_address
from web3 import Web3

from medchain.store.schema import migrate

if TYPE_CHECKING:
    from medchain.claimfile import ClaimEntry

__all__ = ["ClaimJournal"]


class ClaimJournal:
    """Submitted claims of one ClaimsManager, in the local store (``medchain.store.open_store``)."""

    def __init__(self, conn: sqlite3.Connection, claims_address: str) -> None:
        self.conn = conn
        self.address = to_checksum_address(claims_address)
        migrate(conn)

    def get(self, reference: str) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.conn.execute(
            "SELECT * FROM claim_submissions WHERE claims_address = ? AND reference = ?",
            (self.address, reference),
        ).fetchone()
        return row

    def intent(self, entry: ClaimEntry, amount: int, sender: str) -> None:
        """Written before the transaction is sent (a new attempt replaces a failed one)."""
        c, now = entry.claim, int(time.time())
        self.conn.execute(
            """INSERT INTO claim_submissions (claims_address, reference, fingerprint, source, policy_id,
                   amount, claim_ref, invoice_hash, sender, status, attempts, created_at, updated_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'intent', 1, ?, ?)
               ON CONFLICT (claims_address, reference) DO UPDATE SET status = 'intent', tx_hash = NULL,
                   error = NULL, sender = excluded.sender, source = excluded.source,
                   attempts = attempts + 1, updated_at = excluded.updated_at""",
            (self.address, c.reference, c.fingerprint(), entry.source, c.policy_id, str(amount),
             Web3.to_hex(c.claim_ref), Web3.to_hex(c.invoice_hash), sender, now, now),
        )  # fmt: skip

    def _update(self, reference: str, **values: Any) -> None:
        names = ", ".join(f"{k} = ?" for k in values)
        self.conn.execute(
            f"UPDATE claim_submissions SET {names}, updated_at = ? "
            "WHERE claims_address = ? AND reference = ?",
            (*values.values(), int(time.time()), self.address, reference),
        )

    def sent(self, reference: str, tx_hash: bytes) -> None:
        self._update(reference, status="sent", tx_hash=Web3.to_hex(tx_hash))

    def submitted(self, reference: str, claim_id: int, block: int, tx_hash: str | None = None) -> None:
        values: dict[str, Any] = {"status": "submitted", "claim_id": claim_id, "block_number": block}
        if tx_hash:
            values["tx_hash"] = tx_hash
        self._update(reference, **values)

    def failed(self, reference: str, error: str) -> None:
        self._update(reference, status="failed", error=error)

    def found_on_chain(
        self, entry: ClaimEntry, amount: int, sender: str, claim_id: int, block: int, tx_hash: str
    ) -> None:
        """Record a claim the chain already has although this journal did not know it (another machine)."""
        self.intent(entry, amount, sender)
        self.submitted(entry.claim.reference, claim_id, block, tx_hash)

    def rows(self) -> list[dict[str, Any]]:
        cur = self.conn.execute(
            "SELECT * FROM claim_submissions WHERE claims_address = ? ORDER BY created_at, reference",
            (self.address,),
        )
        return [dict(r) for r in cur.fetchall()]
