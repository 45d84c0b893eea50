"""The opening of one record's patient commitment (DESIGN §6.3 v2): what a hospital, an insurer or the patient
needs to prove on chain that a record is that patient's, one record at a time.

An opening is ``(recordHash, patient, salt, dataClass)``; with a batch record it also carries the batch
root and the Merkle proof, so whoever opens it can materialise it first. It comes from the anchoring
hospital's journal (the salt derived from its key), from an evidence package written with
``records proof --reveal``, or from a record gateway's listing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from medchain.addresses import checked_address
from medchain.codes import parse_data_class
from medchain.errors import InputError
from medchain.hashing import parse_hash, patient_commitment, record_leaf

__all__ = ["RecordOpening"]


@dataclass(frozen=True)
class RecordOpening:
    """One record's values and its commitment opening (+ batch root and proof for a batch record)."""

    record_hash: bytes
    patient: str
    salt: bytes
    data_class: int
    root: bytes | None = None
    proof: tuple[bytes, ...] = ()

    @property
    def commitment(self) -> bytes:
        return patient_commitment(self.patient, self.salt)

    @property
    def leaf(self) -> bytes:
        return record_leaf(self.record_hash, self.commitment, self.data_class)

    def check_leaf(self, leaf: bytes) -> None:
        """InputError unless this opening is the opening of ``leaf``."""
        if self.leaf != bytes(leaf):
            raise InputError(
                f"the opening (patient {self.patient}, salt) does not match record 0x{bytes(leaf).hex()}: "
                "use the patient and salt from that record's evidence package"
            )

    def as_dict(self) -> dict[str, Any]:
        return {
            "recordHash": "0x" + self.record_hash.hex(),
            "patient": self.patient,
            "salt": "0x" + self.salt.hex(),
            "dataClass": self.data_class,
            "leaf": "0x" + self.leaf.hex(),
            "root": "0x" + self.root.hex() if self.root else None,
            "proof": ["0x" + p.hex() for p in self.proof],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RecordOpening:
        """From :meth:`as_dict` output (a gateway listing); the leaf, when given, must match."""
        try:
            opening = cls(
                record_hash=parse_hash(data["recordHash"], "recordHash"),
                patient=checked_address(data["patient"], "patient"),
                salt=parse_hash(data["salt"], "salt"),
                data_class=parse_data_class(data["dataClass"]),
                root=parse_hash(data["root"], "root") if data.get("root") else None,
                proof=tuple(parse_hash(p, "proof node") for p in data.get("proof") or ()),
            )
        except (KeyError, TypeError) as exc:
            raise InputError(f"malformed record opening: missing or bad {exc}") from None
        if data.get("leaf"):
            opening.check_leaf(parse_hash(data["leaf"], "leaf"))
        return opening

    @classmethod
    def from_evidence(cls, evidence: dict[str, Any]) -> RecordOpening:
        """From an evidence package written with ``records proof --reveal`` (medchain-record-evidence/1)."""
        opening = evidence.get("commitmentOpening")
        if not opening:
            raise InputError(
                "the evidence package has no commitment opening: ask the hospital for one written with "
                "`records proof --reveal`"
            )
        try:
            batch = (evidence.get("anchor") or {}).get("batch") or {}
            return cls.from_dict(
                {
                    "recordHash": evidence["record"]["recordHash"],
                    "dataClass": evidence["record"]["dataClass"],
                    "patient": opening["patient"],
                    "salt": opening["salt"],
                    "leaf": evidence["leaf"],
                    "root": batch.get("root"),
                    "proof": batch.get("proof") or (),
                }
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise InputError(f"malformed evidence package: missing or bad {exc}") from None
