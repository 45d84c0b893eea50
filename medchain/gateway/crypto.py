"""End-to-end encryption of gateway responses: ECIES on secp256k1 (``eciespy``).

The requester makes a fresh key pair for every request and signs its public key into the request; the
gateway encrypts the response to it. eciespy's default scheme: an ephemeral secp256k1 key (65-byte
uncompressed point first), ECDH, HKDF-SHA256 to a 32-byte key, AES-256-GCM with a 16-byte nonce and a
16-byte tag. A proxy or TLS terminator between the two sees only that ciphertext.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

import ecies
from ecies.keys import PrivateKey

from medchain.errors import InputError

__all__ = ["CIPHER", "ResponseKey", "decrypt", "encrypt"]

#: the name of the scheme, in the response's contentType
CIPHER = "application/vnd.medchain.ecies-secp256k1-aes256gcm"


@dataclass(frozen=True)
class ResponseKey:
    """A one-request key pair; only the public half leaves the requester."""

    secret: bytes

    @classmethod
    def generate(cls) -> ResponseKey:
        return cls(bytes(PrivateKey("secp256k1").secret))

    @property
    def public(self) -> bytes:
        """The compressed public key (33 bytes) that goes into the signed request."""
        return bytes(PrivateKey("secp256k1", self.secret).public_key.to_bytes(True))

    def open(self, ciphertext: bytes) -> bytes:
        return decrypt(self.secret, ciphertext)


def encrypt(public_key: bytes, plaintext: bytes) -> bytes:
    """Ciphertext for ``public_key`` (InputError if it is not a secp256k1 point)."""
    try:
        return bytes(ecies.encrypt(bytes(public_key), plaintext))
    except (ValueError, TypeError) as exc:
        raise InputError(f"responseKey is not a valid secp256k1 public key ({exc})") from None


def decrypt(secret: bytes, ciphertext: bytes) -> bytes:
    """Plaintext, or InputError when the ciphertext was not made for this key or was altered in transit."""
    try:
        return bytes(ecies.decrypt(secret, ciphertext))
    except (ValueError, TypeError) as exc:
        raise InputError(f"the response cannot be decrypted with this request's key ({exc})") from None


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (ValueError, TypeError):
        raise InputError(f"{what} is not base64") from None
