"""The hospitals' record salt keys (table ``salt_keys``), sealed at rest with the store passphrase.

A key row holds either the sealed box (``sealed = 1``, :mod:`medchain.store.secrets`) or, in a store of
release 1 or one opted in with ``MEDCHAIN_INSECURE_STORE=1``, the 32 plain bytes; a plain key is sealed in
place the first time it is read with a passphrase given. The key file a hospital backs up
(``records key export``, format ``medchain-salt-key/1``) stays plain: it is the offline copy.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

from eth_utils import to_checksum_address

from medchain.errors import ConfigError, InputError
from medchain.salts import INIT_HINT, KEY_FILE_FORMAT, RESTORE_HINT, derive_salt
from medchain.store.schema import migrate
from medchain.store.secrets import INSECURE_ENV, PASSPHRASE_HINT, Sealer, insecure_allowed

__all__ = ["SaltKeys"]


class SaltKeys:
    """The hospitals' salt keys in one store."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        migrate(conn)
        self.sealer = Sealer(conn)

    def _label(self, hospital: str) -> str:
        return f"salt_keys/{hospital}"

    def get(self, hospital: str) -> bytes | None:
        hospital = to_checksum_address(hospital)
        row = self.conn.execute(
            "SELECT key, sealed FROM salt_keys WHERE hospital = ?", (hospital,)
        ).fetchone()
        if row is None:
            return None
        purpose = f"the salt key of hospital {hospital}"
        if int(row[1]):
            return self.sealer.open(bytes(row[0]), self._label(hospital), purpose)
        key = bytes(row[0])
        if self.sealer.available():  # a plaintext key from release 1 (or the opt-in): seal it now
            self.conn.execute(
                "UPDATE salt_keys SET key = ?, sealed = 1 WHERE hospital = ? AND sealed = 0",
                (self.sealer.seal(key, self._label(hospital), purpose), hospital),
            )
        return key

    def sealed(self) -> dict[str, bool]:
        """Every hospital with a key here -> whether its key is encrypted (reads no secret)."""
        return {str(h): bool(s) for h, s in self.conn.execute("SELECT hospital, sealed FROM salt_keys")}

    def require(self, hospital: str) -> bytes:
        """The key, or a one-line InputError naming the commands that create or restore it."""
        key = self.get(hospital)
        if key is None:
            raise InputError(
                f"no record salt key for hospital {to_checksum_address(hospital)} in this store: "
                f"{RESTORE_HINT} (from a backup), or {INIT_HINT} (a hospital that never anchored)"
            )
        return key

    def _insert(self, hospital: str, key: bytes) -> None:
        """Stores a new key: sealed with the passphrase, or plain only with the explicit opt-in."""
        purpose = f"the new salt key of hospital {hospital}"
        if self.sealer.available():
            value, sealed = self.sealer.seal(key, self._label(hospital), purpose), 1
        elif insecure_allowed():
            value, sealed = key, 0
        else:
            raise ConfigError(
                f"{purpose} would be stored unencrypted: {PASSPHRASE_HINT} "
                f"({INSECURE_ENV}=1 allows plaintext keys in a throwaway demo store)"
            )
        self.conn.execute(
            "INSERT INTO salt_keys (hospital, key, sealed, created_at) VALUES (?, ?, ?, ?)",
            (hospital, value, sealed, int(time.time())),
        )

    def create(self, hospital: str) -> bytes:
        """A new random key; refuses to replace an existing one."""
        hospital = to_checksum_address(hospital)
        if self.conn.execute("SELECT 1 FROM salt_keys WHERE hospital = ?", (hospital,)).fetchone():
            raise InputError(
                f"hospital {hospital} already has a salt key in this store (back it up, never replace it)"
            )
        self._insert(hospital, os.urandom(32))
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
        self._insert(hospital, key)
        return {"hospital": hospital, "imported": True}
