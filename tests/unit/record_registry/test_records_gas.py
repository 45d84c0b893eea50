"""Gas targets of issue #4 as regression guards (deterministic; the full table is `make bench`)."""

from __future__ import annotations

import os
from typing import Any

from record_helpers import TREATMENT, hexproof, random_recs

from medchain.merkle import process_proof

# 53,000 + the 2% slack issue 12 gives readable (assembly-free) code; calldata cost varies with the hashes
SINGLE_ANCHOR_MAX = 54_060
BATCH_ANCHOR_MAX = 55_000
VERIFY_DEPTH_20_MAX = 6_000


def test_single_anchor_fits_one_fresh_slot(records: Any, hospital: Any, patient: Any) -> None:
    for rec in random_recs(3, patient):
        assert records.anchor(*rec.anchor_args, {"from": hospital}).gas_used <= SINGLE_ANCHOR_MAX


def test_batch_anchor_is_constant_and_within_target(records: Any, hospital: Any) -> None:
    used = set()
    for count in (1, 1000, 1 << 20):
        for uri in ("", "https://fhir.hospital-a.example/mc/b/000001"):
            used.add(records.anchorBatch(os.urandom(32), count, uri, {"from": hospital}).gas_used)
    assert max(used) <= BATCH_ANCHOR_MAX


def test_in_contract_proof_at_depth_20(
    MerkleProbe: Any, records: Any, hospital: Any, patient: Any, council: Any
) -> None:
    probe = MerkleProbe.deploy({"from": council})
    rec = random_recs(1, patient)[0]
    proof = [os.urandom(32) for _ in range(20)]
    root = process_proof(rec.leaf, proof)
    tx = probe.probeLibrary(root, *rec.args, hexproof(proof), {"from": council})
    assert tx.events["Probed"]["ok"] and tx.events["Probed"]["gasUsed"] <= VERIFY_DEPTH_20_MAX
    records.anchorBatch(root, 1 << 20, "", {"from": hospital})
    tx = probe.probeRegistry(records, root, *rec.args, hexproof(proof), {"from": council})
    assert tx.events["Probed"]["ok"]


LOG_ACCESS_MANY_PER_RECORD_MAX = 10_000  # `make bench`: 7,765 per record of 50 (logAccess alone: 42,078)


def test_log_access_many_costs_a_fraction_of_log_access_per_record(
    records: Any, consent: Any, funded_patient: Any, hospital: Any
) -> None:
    """One role and one consent check for the whole batch: per record, logAccessMany of 50 records stays
    under LOG_ACCESS_MANY_PER_RECORD_MAX and under a quarter of a single logAccess."""
    recs = random_recs(51, funded_patient)
    records.anchorMany([r.record_hash for r in recs], [r.leaf for r in recs], {"from": hospital})
    consent.grant(hospital, TREATMENT, (1 << 11) - 1, 0, 0, {"from": funded_patient})
    single, batch = recs[0], recs[1:]
    one = records.logAccess(
        single.record_hash, single.patient, single.salt, single.data_class, TREATMENT, {"from": hospital}
    ).gas_used
    many = records.logAccessMany(funded_patient, TREATMENT, [r.opening for r in batch], {"from": hospital})
    assert len(many.events["RecordAccessed"]) == len(batch)
    per_record = many.gas_used / len(batch)
    assert per_record <= LOG_ACCESS_MANY_PER_RECORD_MAX
    assert per_record < one / 4
