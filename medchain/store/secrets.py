"""Secrets at rest: what the store keeps secret (the hospitals' salt keys) is sealed with a passphrase.

Key: scrypt (N=2^15, r=8, p=1) over the passphrase and a random 16-byte salt kept in the store (table
``store_secrets``), 32 bytes. Box: AES-256-GCM with a random 12-byte nonce and the owning row's name as
associated data, stored as ``nonce || ciphertext || tag``. Both come from the ``cryptography`` package.
The same row holds a known text sealed with the key, so a wrong passphrase is told at once (a
one-line :class:`~medchain.errors.ConfigError`), before anything is decrypted or written.

The passphrase is given like the account keys are: ``MEDCHAIN_STORE_PASSPHRASE``, or
``MEDCHAIN_STORE_PASSPHRASE_FILE`` naming a file whose first line is the passphrase. Without one, a new
secret is refused unless ``MEDCHAIN_INSECURE_STORE=1`` opts in to plaintext keys (throwaway demo and test
stores); keys written in plaintext (by release 1 or with the opt-in) are sealed in place as soon as a
passphrase is given.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import sqlite3
import time
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from medchain.errors import ConfigError

__all__ = [
    "INSECURE_ENV",
    "PASSPHRASE_ENV",
    "PASSPHRASE_FILE_ENV",
    "Sealer",
    "insecure_allowed",
    "passphrase",
    "use_throwaway_passphrase",
]

PASSPHRASE_ENV = "MEDCHAIN_STORE_PASSPHRASE"
PASSPHRASE_FILE_ENV = "MEDCHAIN_STORE_PASSPHRASE_FILE"
INSECURE_ENV = "MEDCHAIN_INSECURE_STORE"
PASSPHRASE_HINT = f"set {PASSPHRASE_ENV} (or {PASSPHRASE_FILE_ENV} naming a file that holds it)"

_CHECK_TEXT = b"medchain store passphrase check v1"
_SCRYPT = {"n": 2**15, "r": 8, "p": 1}
_NONCE = 12
_derived: dict[tuple[bytes, bytes, int, int, int], bytes] = {}  # scrypt is slow on purpose: once a process


def passphrase() -> bytes | None:
    """The store passphrase from the environment (the variable, else the file's first line), or None."""
    value = os.environ.get(PASSPHRASE_ENV)
    if value:
        return value.encode("utf-8")
    path = os.environ.get(PASSPHRASE_FILE_ENV)
    if not path:
        return None
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{PASSPHRASE_FILE_ENV}={path}: cannot read the store passphrase ({exc})") from None
    if not lines or not lines[0]:
        raise ConfigError(
            f"{PASSPHRASE_FILE_ENV}={path}: the file is empty; put the passphrase on its first line"
        )
    return lines[0].encode("utf-8")


def use_throwaway_passphrase(passphrase_text: str) -> bool:
    """For the demo's and the bench's own throwaway stores: seal them with a well-known passphrase unless
    one is given. Returns True if it set one."""
    if os.environ.get(PASSPHRASE_ENV) or os.environ.get(PASSPHRASE_FILE_ENV):
        return False
    os.environ[PASSPHRASE_ENV] = passphrase_text
    return True


def insecure_allowed() -> bool:
    """``MEDCHAIN_INSECURE_STORE=1``: plaintext secrets allowed (local demos and tests only)."""
    return os.environ.get(INSECURE_ENV, "").strip().lower() in ("1", "true", "yes")


def _derive(secret: bytes, salt: bytes, n: int, r: int, p: int) -> bytes:
    cache_key = (hashlib.sha256(secret).digest(), salt, n, r, p)
    key = _derived.get(cache_key)
    if key is None:
        key = Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(secret)
        _derived[cache_key] = key
    return key


def _seal(key: bytes, plain: bytes, label: bytes) -> bytes:
    nonce = os.urandom(_NONCE)
    return nonce + AESGCM(key).encrypt(nonce, plain, label)  # AESGCM appends the 16-byte tag


def _open(key: bytes, box: bytes, label: bytes) -> bytes | None:
    if len(box) < _NONCE + 16:
        return None
    try:
        return AESGCM(key).decrypt(box[:_NONCE], box[_NONCE:], label)
    except InvalidTag:  # the tag does not match: another key, or the box was altered
        return None


class Sealer:
    """Seals and opens the store's secrets with the key derived from the passphrase."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._key: bytes | None = None

    def available(self) -> bool:
        """A passphrase is given (sealing is possible)."""
        return passphrase() is not None

    def key(self, purpose: str) -> bytes:
        """The store key (creating the store's KDF salt on first use); ``purpose`` names what needs it."""
        if self._key is not None:
            return self._key
        secret = passphrase()
        if secret is None:
            raise ConfigError(f"{purpose}: the store's secrets are encrypted; {PASSPHRASE_HINT}")
        row = self.conn.execute(
            "SELECT salt, n, r, p, check_value FROM store_secrets WHERE id = 1"
        ).fetchone()
        if row is None:
            salt = os.urandom(16)
            key = _derive(secret, salt, **_SCRYPT)
            self.conn.execute(
                "INSERT OR IGNORE INTO store_secrets (id, kdf, salt, n, r, p, check_value, created_at)"
                " VALUES (1, 'scrypt', ?, ?, ?, ?, ?, ?)",
                (salt, _SCRYPT["n"], _SCRYPT["r"], _SCRYPT["p"], _seal(key, _CHECK_TEXT, b"check"),
                 int(time.time())),
            )  # fmt: skip
            row = self.conn.execute(
                "SELECT salt, n, r, p, check_value FROM store_secrets WHERE id = 1"
            ).fetchone()  # another process may have won the race: use its salt
        key = _derive(secret, bytes(row[0]), int(row[1]), int(row[2]), int(row[3]))
        check = _open(key, bytes(row[4]), b"check")
        if check is None or not hmac.compare_digest(check, _CHECK_TEXT):
            raise ConfigError(f"{purpose}: wrong store passphrase (it does not open this store's secrets)")
        self._key = key
        return key

    def seal(self, plain: bytes, label: str, purpose: str) -> bytes:
        return _seal(self.key(purpose), plain, label.encode("utf-8"))

    def open(self, box: bytes, label: str, purpose: str) -> bytes:
        plain = _open(self.key(purpose), box, label.encode("utf-8"))
        if plain is None:
            raise ConfigError(f"{purpose}: the sealed secret is damaged (it fails its AES-GCM check)")
        return plain
