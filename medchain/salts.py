"""Per-record salts (DESIGN §6.3 v2): derived, never stored, from one secret key per hospital.

Every record gets its own salt, so two records of one patient carry unlinkable commitments. The salt is
``HMAC-SHA256(key, SALT_CONTEXT || abi.encode(address patient, bytes32 recordHash, uint8 dataClass))``: the
same record (patient, hash, class) always gets the same salt, so anchoring it twice gives the same leaf and
first write wins on chain; a hospital backs up one 32-byte key instead of a salt per record.

The key lives in the local store (:class:`medchain.store.keys.SaltKeys`, sealed with the store passphrase),
one per hospital member address. It is created on the
first anchoring into a store that has journaled nothing for that hospital yet; a store that has journaled
records of the hospital but lost its key refuses to anchor (a new key would anchor the same files again
under new leaves) and names the restore command.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

from eth_utils import to_canonical_address

from medchain.errors import InputError
from medchain.merkle import abi_encode

# the keys themselves: medchain.store.keys
__all__ = ["KEY_FILE_FORMAT", "SALT_CONTEXT", "derive_salt", "derive_salts"]

SALT_CONTEXT = b"MedChain record salt v2\x00"
KEY_FILE_FORMAT = "medchain-salt-key/1"

INIT_HINT = "create one with `medchain --account <hospital> records key init`"
RESTORE_HINT = "restore it with `medchain --account <hospital> records key import FILE`"


def derive_salt(key: bytes, patient: str, record_hash: bytes, data_class: int) -> bytes:
    """The record's salt: HMAC-SHA256 under the hospital key over (patient, record hash, data class)."""
    if len(key) != 32:
        raise InputError(f"a salt key is 32 bytes, not {len(key)}: {RESTORE_HINT}")
    values = [patient.lower(), bytes(record_hash), int(data_class)]  # lower case: no EIP-55 cost, same bytes
    message = abi_encode(["address", "bytes32", "uint8"], values)
    return hmac.new(key, SALT_CONTEXT + message, hashlib.sha256).digest()


def derive_salts(key: bytes, patient: str, records: Sequence[tuple[bytes, int]]) -> list[bytes]:
    """:func:`derive_salt` of one patient's ``(record hash, data class)`` pairs, the same salts faster (the
    address is converted once and given to the encoder as its 20 bytes: ~40% of the per-record cost)."""
    if len(key) != 32:
        raise InputError(f"a salt key is 32 bytes, not {len(key)}: {RESTORE_HINT}")
    address = to_canonical_address(patient)
    types = ["address", "bytes32", "uint8"]
    return [
        hmac.digest(key, SALT_CONTEXT + abi_encode(types, [address, bytes(h), int(c)]), "sha256")
        for h, c in records
    ]
