"""RecordRegistry.logAccessMany: several openings of one patient's records, one consent check for the union
of their classes, one RecordAccessed per record in input order; all or nothing."""

from __future__ import annotations

from typing import Any

import pytest
from helpers import add_operator
from record_helpers import (
    CLAIM,
    EMERGENCY,
    HOSPITAL_ROLE,
    IMAGING,
    LAB,
    SUMMARY,
    TREATMENT,
    URI,
    hexproof,
    make_rec,
    random_recs,
    reverts,
    tree_of,
)

MAX_ACCESS_BATCH = 256
UNION = (1 << LAB) | (1 << IMAGING) | (1 << SUMMARY)


@pytest.fixture
def recs(records: Any, hospital: Any, funded_patient: Any) -> list:
    """Three anchored records of the patient, classes LAB, IMAGING, SUMMARY, each with its own salt."""
    rs = [make_rec(f"many-{c}", funded_patient, c) for c in (LAB, IMAGING, SUMMARY)]
    records.anchorMany([r.record_hash for r in rs], [r.leaf for r in rs], {"from": hospital})
    return rs


def _grant(consent: Any, patient: Any, grantee: Any, purpose: int, classes: int) -> None:
    consent.grant(grantee, purpose, classes, 0, 0, {"from": patient})


def _log_many(records: Any, patient: Any, purpose: int, rs: list, sender: Any) -> Any:
    return records.logAccessMany(patient, purpose, [r.opening for r in rs], {"from": sender})


def _event_tuple(event: Any) -> tuple:
    return (event["leaf"], event["patient"], event["accessor"], event["purpose"], event["by"])


def test_max_access_batch_is_256(records: Any) -> None:
    assert records.MAX_ACCESS_BATCH() == MAX_ACCESS_BATCH


def test_emits_one_record_accessed_per_record_in_order(
    records: Any, consent: Any, funded_patient: Any, hospital: Any, recs: list
) -> None:
    _grant(consent, funded_patient, hospital, TREATMENT, UNION)
    tx = _log_many(records, funded_patient, TREATMENT, recs, hospital)
    assert len(tx.events) == 3
    assert [_event_tuple(e) for e in tx.events["RecordAccessed"]] == [
        (r.leaf_hex, funded_patient, hospital, TREATMENT, hospital) for r in recs
    ]
    assert list(tx.return_value) == [r.leaf_hex for r in recs]


def test_order_follows_the_input(
    records: Any, consent: Any, funded_patient: Any, hospital: Any, recs: list
) -> None:
    _grant(consent, funded_patient, hospital, TREATMENT, UNION)
    backwards = list(reversed(recs))
    tx = _log_many(records, funded_patient, TREATMENT, backwards, hospital)
    assert [e["leaf"] for e in tx.events["RecordAccessed"]] == [r.leaf_hex for r in backwards]
    assert list(tx.return_value) == [r.leaf_hex for r in backwards]


def test_one_opening_logs_what_log_access_logs(
    records: Any, consent: Any, funded_patient: Any, hospital: Any, recs: list
) -> None:
    _grant(consent, funded_patient, hospital, TREATMENT, 1 << LAB)
    rec = recs[0]
    single = records.logAccess(rec.record_hash, funded_patient, rec.salt, LAB, TREATMENT, {"from": hospital})
    many = _log_many(records, funded_patient, TREATMENT, [rec], hospital)
    assert [_event_tuple(e) for e in many.events["RecordAccessed"]] == [
        _event_tuple(single.events["RecordAccessed"])
    ]
    assert list(many.return_value) == [single.return_value]


def test_the_same_record_twice_is_logged_twice(
    records: Any, consent: Any, funded_patient: Any, hospital: Any, recs: list
) -> None:
    _grant(consent, funded_patient, hospital, TREATMENT, 1 << LAB)
    tx = _log_many(records, funded_patient, TREATMENT, [recs[0], recs[0]], hospital)
    assert [e["leaf"] for e in tx.events["RecordAccessed"]] == [recs[0].leaf_hex] * 2


def test_exactly_max_openings_pass(
    records: Any, consent: Any, funded_patient: Any, hospital: Any, recs: list
) -> None:
    _grant(consent, funded_patient, hospital, TREATMENT, 1 << LAB)
    tx = _log_many(records, funded_patient, TREATMENT, [recs[0]] * MAX_ACCESS_BATCH, hospital)
    assert len(tx.events["RecordAccessed"]) == MAX_ACCESS_BATCH


def test_empty_reverts(records: Any, hospital: Any, funded_patient: Any) -> None:
    with reverts("RecordInvalidAccessCount", 0, MAX_ACCESS_BATCH):
        records.logAccessMany(funded_patient, TREATMENT, [], {"from": hospital})


def test_more_than_max_openings_reverts(
    records: Any, consent: Any, funded_patient: Any, hospital: Any, recs: list
) -> None:
    _grant(consent, funded_patient, hospital, TREATMENT, 1 << LAB)
    with reverts("RecordInvalidAccessCount", MAX_ACCESS_BATCH + 1, MAX_ACCESS_BATCH):
        _log_many(records, funded_patient, TREATMENT, [recs[0]] * (MAX_ACCESS_BATCH + 1), hospital)


def test_unknown_record_reverts_as_a_whole(
    records: Any, consent: Any, funded_patient: Any, hospital: Any, recs: list
) -> None:
    _grant(consent, funded_patient, hospital, TREATMENT, UNION)
    unknown = make_rec("never-anchored", funded_patient, LAB)
    with reverts("RecordNonexistent", unknown.leaf):
        _log_many(records, funded_patient, TREATMENT, [recs[0], unknown, recs[1]], hospital)


def test_record_of_another_patient_reverts(
    records: Any, consent: Any, funded_patient: Any, patient2: Any, hospital: Any, recs: list
) -> None:
    """An opening is checked against the named patient: another patient's record (with its own true salt)
    does not open as this patient's, whatever consent this patient gave."""
    _grant(consent, funded_patient, hospital, TREATMENT, UNION)
    theirs = make_rec("theirs", patient2, LAB)
    records.anchor(*theirs.anchor_args, {"from": hospital})
    as_ours = make_rec("theirs", funded_patient, LAB, salt=theirs.salt)
    with reverts("RecordNonexistent", as_ours.leaf):
        _log_many(records, funded_patient, TREATMENT, [recs[0], theirs], hospital)


def test_wrong_salt_or_class_reverts_nonexistent(
    records: Any, consent: Any, funded_patient: Any, hospital: Any, recs: list
) -> None:
    _grant(consent, funded_patient, hospital, TREATMENT, UNION)
    wrong_salt = make_rec("many-3", funded_patient, LAB, salt=recs[1].salt)
    with reverts("RecordNonexistent", wrong_salt.leaf):
        _log_many(records, funded_patient, TREATMENT, [wrong_salt], hospital)
    wrong_class = make_rec("many-3", funded_patient, IMAGING, salt=recs[0].salt)
    with reverts("RecordNonexistent", wrong_class.leaf):
        _log_many(records, funded_patient, TREATMENT, [recs[1], wrong_class], hospital)


def test_invalid_class_reverts(records: Any, hospital: Any, funded_patient: Any, recs: list) -> None:
    bad = (recs[0].record_hash, recs[0].salt, 11)
    with reverts("RecordInvalidDataClass", 11):
        records.logAccessMany(funded_patient, TREATMENT, [recs[1].opening, bad], {"from": hospital})


def test_invalid_purpose_reverts(records: Any, hospital: Any, funded_patient: Any, recs: list) -> None:
    for bad in (0, 6, 255):
        with reverts("RecordInvalidPurpose", bad):
            _log_many(records, funded_patient, bad, recs, hospital)
    with reverts("RecordInvalidPurpose", 0):
        records.logAccessMany(funded_patient, 0, [], {"from": hospital})  # purpose before count


def test_one_class_not_consented_reverts_with_the_union(
    records: Any, consent: Any, funded_patient: Any, hospital: Any, recs: list
) -> None:
    _grant(consent, funded_patient, hospital, TREATMENT, (1 << LAB) | (1 << IMAGING))
    with reverts("RecordAccessNotPermitted", funded_patient, hospital, TREATMENT, UNION):
        _log_many(records, funded_patient, TREATMENT, recs, hospital)
    tx = _log_many(records, funded_patient, TREATMENT, recs[:2], hospital)
    assert len(tx.events["RecordAccessed"]) == 2


def test_no_consent_reverts_with_the_union(
    records: Any, funded_patient: Any, hospital: Any, recs: list
) -> None:
    with reverts("RecordAccessNotPermitted", funded_patient, hospital, TREATMENT, UNION):
        _log_many(records, funded_patient, TREATMENT, recs, hospital)
    with reverts("RecordAccessNotPermitted", funded_patient, hospital, TREATMENT, 1 << IMAGING):
        _log_many(records, funded_patient, TREATMENT, [recs[1], recs[1]], hospital)


def test_consent_for_other_purpose_or_grantee_does_not_permit(
    records: Any, consent: Any, funded_patient: Any, hospital: Any, hospital_b: Any, recs: list
) -> None:
    _grant(consent, funded_patient, hospital, CLAIM, UNION)
    _grant(consent, funded_patient, hospital_b, TREATMENT, UNION)
    with reverts("RecordAccessNotPermitted", funded_patient, hospital, TREATMENT, UNION):
        _log_many(records, funded_patient, TREATMENT, recs, hospital)
    accessor = _log_many(records, funded_patient, TREATMENT, recs, hospital_b).events["RecordAccessed"]
    assert {e["accessor"] for e in accessor} == {hospital_b}


def test_revoked_consent_does_not_permit(
    records: Any, consent: Any, funded_patient: Any, hospital: Any, recs: list
) -> None:
    _grant(consent, funded_patient, hospital, TREATMENT, UNION)
    _log_many(records, funded_patient, TREATMENT, recs, hospital)
    consent.revoke(hospital, TREATMENT, {"from": funded_patient})
    with reverts("RecordAccessNotPermitted", funded_patient, hospital, TREATMENT, UNION):
        _log_many(records, funded_patient, TREATMENT, recs, hospital)


def test_break_glass_permits_emergency_for_every_class(
    records: Any, consent: Any, funded_patient: Any, hospital: Any, recs: list
) -> None:
    with reverts("RecordAccessNotPermitted", funded_patient, hospital, EMERGENCY, UNION):
        _log_many(records, funded_patient, EMERGENCY, recs, hospital)
    consent.openEmergency(funded_patient, 1, b"\x42" * 32, {"from": hospital})
    tx = _log_many(records, funded_patient, EMERGENCY, recs, hospital)
    assert [e["purpose"] for e in tx.events["RecordAccessed"]] == [EMERGENCY] * 3
    with reverts("RecordAccessNotPermitted", funded_patient, hospital, TREATMENT, UNION):
        _log_many(records, funded_patient, TREATMENT, recs, hospital)


def test_by_operator_key_names_member_and_key(
    records: Any, consent: Any, consortium: Any, funded_patient: Any, hospital: Any, operator: Any, recs: list
) -> None:
    add_operator(consortium, hospital, operator)
    _grant(consent, funded_patient, hospital, TREATMENT, UNION)
    events = _log_many(records, funded_patient, TREATMENT, recs, operator).events["RecordAccessed"]
    assert {(e["accessor"], e["by"]) for e in events} == {(hospital, operator)}


def test_by_non_hospital_roles_reverts(
    records: Any,
    consent: Any,
    funded_patient: Any,
    insurer: Any,
    auditor: Any,
    council: Any,
    pharmacy: Any,
    stranger: Any,
    recs: list,
) -> None:
    _grant(consent, funded_patient, insurer, CLAIM, UNION)
    for who in (insurer, auditor, council, pharmacy, stranger):
        with reverts("RecordUnauthorized", who, HOSPITAL_ROLE):
            _log_many(records, funded_patient, CLAIM, recs, who)


def test_by_suspended_hospital_reverts(
    records: Any, consent: Any, consortium: Any, council: Any, funded_patient: Any, hospital: Any, recs: list
) -> None:
    from helpers import SUSPEND

    _grant(consent, funded_patient, hospital, TREATMENT, UNION)
    tx = consortium.propose(SUSPEND, hospital, 0, "", "", {"from": council})
    consortium.execute(tx.return_value, {"from": council})
    with reverts("RecordUnauthorized", hospital, HOSPITAL_ROLE):
        _log_many(records, funded_patient, TREATMENT, recs, hospital)


def test_batch_record_must_be_materialised_first(
    records: Any, consent: Any, funded_patient: Any, hospital: Any, stranger: Any, recs: list
) -> None:
    batch = random_recs(4, funded_patient)
    tree = tree_of(batch)
    records.anchorBatch(tree.root, 4, URI, {"from": hospital})
    _grant(consent, funded_patient, hospital, TREATMENT, UNION | (1 << batch[2].data_class))
    with reverts("RecordNonexistent", batch[2].leaf):
        _log_many(records, funded_patient, TREATMENT, [recs[0], batch[2]], hospital)
    records.materialise(tree.root, *batch[2].args, hexproof(tree.get_proof(2)), {"from": stranger})
    tx = _log_many(records, funded_patient, TREATMENT, [recs[0], batch[2]], hospital)
    assert [e["leaf"] for e in tx.events["RecordAccessed"]] == [recs[0].leaf_hex, batch[2].leaf_hex]
