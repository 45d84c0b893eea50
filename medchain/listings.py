"""What exists in this store: the records it anchored (for `medchain records list`)."""

from __future__ import annotations

from typing import Any

from medchain.codes import DATA_CLASS_NAMES
from medchain.journal import Journal
from medchain.timefmt import iso


def anchored_records(
    journal: Journal, patient: str | None = None, data_class: int | None = None
) -> list[dict[str, Any]]:
    """Every record this store anchored on this chain (settled submissions), oldest first; optionally only one
    patient's (a checksum address) or one class's."""
    rows: list[dict[str, Any]] = []
    for sub in journal.submissions():
        if sub.status != "done":
            continue
        for item in journal.items(sub.id):
            if patient is not None and (item.patient or "").lower() != patient.lower():
                continue
            if data_class is not None and item.data_class != data_class:
                continue
            rows.append({
                "recordHash": "0x" + item.record_hash.hex(),
                "class": DATA_CLASS_NAMES.get(item.data_class, str(item.data_class)),
                "patient": item.patient,
                "kind": "batch" if sub.kind == "batch" else "single",
                "submission": sub.id,
                "anchoredAt": iso(sub.anchored_at),
                "source": item.source,
                "leaf": "0x" + item.leaf.hex(),
            })  # fmt: skip
    return rows
