"""What exists: the records this store anchored (`medchain records list`), a holder's policies
(`medchain claims policies`)."""

from __future__ import annotations

from typing import Any

from medchain.codes import DATA_CLASS_NAMES
from medchain.contracts import Suite
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


def policies(
    suite: Suite, holder: str | None = None, insurer: str | None = None, from_block: int = 0
) -> list[Any]:
    """Policies issued on this chain (from PolicyCreated events, filtered on chain by holder and/or insurer
    member), each read back with its current paid / committed amounts, in issue order."""
    from medchain.claims import get_policy

    filters: dict[str, Any] = {}
    if holder is not None:
        filters["holder"] = holder
    if insurer is not None:
        filters["insurer"] = insurer
    logs = suite.require("claims").events.PolicyCreated().get_logs(
        from_block=from_block, argument_filters=filters or None
    )
    ids = dict.fromkeys(int(log["args"]["policyId"]) for log in logs)
    return [get_policy(suite, policy_id) for policy_id in ids]
