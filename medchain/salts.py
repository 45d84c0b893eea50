"""Per-record salts (DESIGN §6.3 v2): derived, never stored, from one secret key per hospital.

Every record gets its own salt, so two records of one patient carry unlinkable commitments. The salt is
``HMAC-SHA256(key, SALT_CONTEXT || abi.encode(address patient, bytes32 recordHash, uint8 dataClass))``: the
same record (patient, hash, class) always gets the same salt, so anchoring it twice gives the same leaf and
first write wins on chain; a hospital backs up one 32-byte key instead of a salt per record.

The key lives in the local store (table ``salt_keys``), one per hospital member address. It is created on the
first anchoring into a store that has journaled nothing for that hospital yet; a store that has journaled
records of the hospital but lost its key refuses to anchor (a new key would anchor the same files again
under new leaves) and names the restore command.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

from eth_utils import to_checksum_address

from medchain.errors import InputError
from medchain.merkle import abi_encode

__all__ = ["KEY_FILE_FORMAT", "SALT_CONTEXT", "SaltKeys", "derive_salt"]

SALT_CONTEXT = b"MedChain record salt v2\x00"
KEY_FILE_FORMAT = "medchain-salt-key/1"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS salt_keys (
    hospital    TEXT    PRIMARY KEY,            -- member address (checksummed)
    key         BLOB    NOT NULL,               -- 32 secret bytes
    created_at  INTEGER NOT NULL,
    exported_at INTEGER                         -- last backup (None = never exported)
);
"""

INIT_HINT = "create one with `medchain --account <hospital> records key init`"
RESTORE_HINT = "restore it with `medchain --account <hospital> records key import FILE`"


def derive_salt(key: bytes, patient: str, record_hash: bytes, data_class: int) -> bytes:
    """The record's salt: HMAC-SHA256 under the hospital key over (patient, record hash, data class)."""
    if len(key) != 32:
        raise InputError(f"a salt key is 32 bytes, not {len(key)}: {RESTORE_HINT}")
    values = [patient.lower(), bytes(record_hash), int(data_class)]  # lower case: no EIP-55 cost, same bytes
    message = abi_encode(["address", "bytes32", "uint8"], values)
    return hmac.new(key, SALT_CONTEXT + message, hashlib.sha256).digest()


class SaltKeys:
    """The hospitals' salt keys in one store."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        conn.executescript(_SCHEMA)

    def get(self, hospital: str) -> bytes | None:
        row = self.conn.execute(
            "SELECT key FROM salt_keys WHERE hospital = ?", (to_checksum_address(hospital),)
        ).fetchone()
        return None if row is None else bytes(row[0])

    def require(self, hospital: str) -> bytes:
        """The key, or a one-line InputError naming the commands that create or restore it."""
        key = self.get(hospital)
        if key is None:
            raise InputError(
                f"no record salt key for hospital {to_checksum_address(hospital)} in this store: "
                f"{RESTORE_HINT} (from a backup), or {INIT_HINT} (a hospital that never anchored)"
            )
        return key

    def create(self, hospital: str) -> bytes:
        """A new random key; refuses to replace an existing one."""
        hospital = to_checksum_address(hospital)
        if self.get(hospital) is not None:
            raise InputError(
                f"hospital {hospital} already has a salt key in this store (back it up, never replace it)"
            )
        self.conn.execute(
            "INSERT INTO salt_keys (hospital, key, created_at) VALUES (?, ?, ?)",
            (hospital, os.urandom(32), int(time.time())),
        )
        return self.require(hospital)

    def salt(self, hospital: str, patient: str, record_hash: bytes, data_class: int) -> bytes:
        return derive_salt(self.require(hospital), patient, record_hash, data_class)

    # ---- backup ----

    def export(self, hospital: str, path: Path) -> dict[str, Any]:
        """Writes the key to ``path`` (mode 0600, never over an existing file) and records the export."""
        hospital = to_checksum_address(hospital)
        key = self.require(hospital)
        document = {"format": KEY_FILE_FORMAT, "hospital": hospital, "key": "0x" + key.hex()}
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise InputError(f"{path}: already exists; choose a new file for the key backup") from None
        except OSError as exc:
            raise InputError(f"{path}: cannot write ({exc.strerror or exc})") from None
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(document, handle, indent=2)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        self.conn.execute(
            "UPDATE salt_keys SET exported_at = ? WHERE hospital = ?", (int(time.time()), hospital)
        )
        return {"hospital": hospital, "file": str(path)}

    def import_file(self, hospital: str, path: Path) -> dict[str, Any]:
        """Restores a key backup for ``hospital``: the same key again is a no-op, another one is refused."""
        hospital = to_checksum_address(hospital)
        try:
            document = json.loads(Path(path).read_text(encoding="utf-8"))
            if document.get("format") != KEY_FILE_FORMAT:
                raise ValueError(f"format {document.get('format')!r}")
            owner = to_checksum_address(document["hospital"])
            key = bytes.fromhex(str(document["key"]).removeprefix("0x"))
        except OSError as exc:
            raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise InputError(f"{path}: not a MedChain salt key backup ({exc})") from None
        if len(key) != 32:
            raise InputError(f"{path}: the key is {len(key)} bytes, not 32; the backup is damaged")
        if owner != hospital:
            raise InputError(f"{path}: the key belongs to hospital {owner}, not {hospital}")
        current = self.get(hospital)
        if current == key:
            return {"hospital": hospital, "imported": False}
        if current is not None:
            raise InputError(
                f"hospital {hospital} already has a different salt key in this store: refusing to replace it"
            )
        self.conn.execute(
            "INSERT INTO salt_keys (hospital, key, created_at) VALUES (?, ?, ?)",
            (hospital, key, int(time.time())),
        )
        return {"hospital": hospital, "imported": True}
