"""Purpose, data-class and role codes by name and number (DESIGN §6.1, §6.2)."""

from __future__ import annotations

import pytest
from eth_utils import keccak

from medchain import codes
from medchain.errors import InputError


def test_role_ids_are_keccak_of_the_name() -> None:
    assert codes.ROLES["HOSPITAL"] == keccak(b"HOSPITAL")
    assert set(codes.ROLES) == {
        "COUNCIL", "HOSPITAL", "INSURER", "MANUFACTURER", "DISTRIBUTOR", "PHARMACY", "AUDITOR"
    }


def test_purposes_follow_design() -> None:
    names = ("TREATMENT", "claim", "RESEARCH", "EMERGENCY", "public-health")
    assert [codes.parse_purpose(n) for n in names] == [1, 2, 3, 4, 5]
    assert codes.parse_purpose("2") == 2


@pytest.mark.parametrize("bad", ["0", "6", "BILLING", ""])
def test_bad_purpose_names_the_problem(bad: str) -> None:
    with pytest.raises(InputError, match="purpose"):
        codes.parse_purpose(bad)


def test_classes_bitmap() -> None:
    assert codes.parse_classes("LAB,IMAGING") == (1 << 3) | (1 << 4)
    assert codes.parse_classes("ALL") == (1 << 11) - 1
    assert codes.class_names((1 << 3) | (1 << 10)) == ["LAB", "INFECTIOUS_DISEASE"]
    assert codes.parse_data_class("INFECTIOUS_DISEASE") == 10


@pytest.mark.parametrize("bad", ["", "LAB,XRAY", "11", ","])
def test_bad_classes_name_the_problem(bad: str) -> None:
    with pytest.raises(InputError, match="data class"):
        codes.parse_classes(bad)


def test_roles_bitmap_round_trip() -> None:
    mask = codes.parse_roles("hospital,AUDITOR")
    assert codes.role_names(mask) == ["HOSPITAL", "AUDITOR"]
    with pytest.raises(InputError, match="unknown role 'DOCTOR'"):
        codes.parse_roles("DOCTOR")
