"""setGuardian / removeGuardian / guardianOf / activeGuardian."""

from __future__ import annotations

from brownie import ZERO_ADDRESS
from consent_helpers import DAY, mine_at, next_tx_at, now
from helpers import reverts_with


def test_set_guardian(registry, patient, guardian):
    until = now() + 30 * DAY
    tx = registry.setGuardian(guardian, until, {"from": patient})
    assert tx.events["GuardianSet"] == {"patient": patient, "guardian": guardian, "until": until}
    assert registry.guardianOf(patient)[0] == guardian and registry.guardianOf(patient)[1] == until
    assert registry.activeGuardian(patient) == guardian


def test_set_guardian_replaces_previous(registry, patient, guardian, guardian2):
    registry.setGuardian(guardian, now() + DAY, {"from": patient})
    registry.setGuardian(guardian2, now() + 2 * DAY, {"from": patient})
    assert registry.activeGuardian(patient) == guardian2


def test_guardian_is_active_through_its_last_second(registry, patient, guardian):
    until = now() + DAY
    registry.setGuardian(guardian, until, {"from": patient})
    mine_at(until)
    assert registry.activeGuardian(patient) == guardian
    mine_at(until + 1)
    assert registry.activeGuardian(patient) == ZERO_ADDRESS
    assert registry.guardianOf(patient)[0] == guardian  # still recorded


def test_set_guardian_zero_address_reverts(registry, patient):
    until = now() + DAY
    with reverts_with("ConsentInvalidGuardian", ZERO_ADDRESS, until):
        registry.setGuardian(ZERO_ADDRESS, until, {"from": patient})


def test_set_guardian_self_reverts(registry, patient):
    until = now() + DAY
    with reverts_with("ConsentInvalidGuardian", patient, until):
        registry.setGuardian(patient, until, {"from": patient})


def test_set_guardian_until_now_reverts(registry, patient, guardian):
    t = now() + 10
    next_tx_at(t)
    with reverts_with("ConsentInvalidGuardian", guardian, t):
        registry.setGuardian(guardian, t, {"from": patient})


def test_set_guardian_until_next_second_is_accepted(registry, patient, guardian):
    t = now() + 10
    next_tx_at(t)
    registry.setGuardian(guardian, t + 1, {"from": patient})
    assert registry.guardianOf(patient)[1] == t + 1


def test_remove_guardian(registry, patient, guardian):
    registry.setGuardian(guardian, now() + DAY, {"from": patient})
    tx = registry.removeGuardian({"from": patient})
    assert tx.events["GuardianRemoved"] == {"patient": patient, "guardian": guardian}
    assert registry.guardianOf(patient)[0] == ZERO_ADDRESS
    assert registry.activeGuardian(patient) == ZERO_ADDRESS


def test_remove_expired_guardian(registry, patient, guardian):
    until = now() + DAY
    registry.setGuardian(guardian, until, {"from": patient})
    next_tx_at(until + 10)
    registry.removeGuardian({"from": patient})
    assert registry.guardianOf(patient)[0] == ZERO_ADDRESS


def test_remove_guardian_without_one_reverts(registry, patient):
    with reverts_with("ConsentNoGuardian", patient):
        registry.removeGuardian({"from": patient})


def test_guardian_cannot_remove_itself_through_remove_guardian(registry, patient, guardian):
    registry.setGuardian(guardian, now() + DAY, {"from": patient})
    with reverts_with("ConsentNoGuardian", guardian):
        registry.removeGuardian({"from": guardian})
    assert registry.activeGuardian(patient) == guardian


def test_guardian_of_a_wallet_patient(registry, wallet, patient2, guardian):
    until = now() + DAY
    wallet.execute(registry, registry.setGuardian.encode_input(guardian, until), {"from": patient2})
    assert registry.activeGuardian(wallet) == guardian
