"""Batch records are first-class claim evidence (issue 17): before claims are checked and sent, every evidence
record that this store anchored in a Merkle batch and that is not on chain as a full record yet is
materialised with its proof, as `medchain records access log` does for an access. Records anchored elsewhere
are left as they are (the claim check reports them)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from medchain import records
from medchain.claimfile import ClaimEntry
from medchain.claims import get_policy
from medchain.contracts import Suite
from medchain.errors import InputError
from medchain.hashing import patient_commitment, record_leaf


def materialise_evidence(suite: Suite, conn: Any, signer: Any, entries: Sequence[ClaimEntry]) -> list[str]:
    """Materialise the batch records of this store named as evidence by `entries`; the leaves written."""
    svc = records.RecordService.open(suite.w3, suite.require("records"), suite.consortium, conn, signer)
    written: list[str] = []
    holders: dict[int, str | None] = {}
    for entry in entries:
        claim = entry.claim
        if claim.policy_id not in holders:
            try:
                holders[claim.policy_id] = get_policy(suite, claim.policy_id).holder
            except InputError:
                holders[claim.policy_id] = None  # the claim check reports the missing policy
        holder = holders[claim.policy_id]
        if holder is None:
            continue
        for evidence in claim.evidence:
            record_hash, salt, data_class = evidence.as_arg()
            leaf = record_leaf(record_hash, patient_commitment(holder, salt), data_class)
            found = svc.journal.find(leaf=leaf)
            batch = [i for i in found if i.submission.kind == "batch" and i.state != "conflict"]
            if not batch:
                continue
            done = records.materialise(svc, records.opening_of(svc, batch[0], patient=holder))
            if done["materialised"]:
                written.append("0x" + leaf.hex())
    return written
