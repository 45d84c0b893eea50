"""medchain.consent on a real Anvil: offline signing + relay, relay pre-checks, direct grants, status and
history, guardians, nonce invalidation, decoded reverts, break-glass and the gas profile for `make bench`.

One Consortium + ConsentRegistry per module (node accounts: 0 council, 3/4 hospitals, 5/6 insurers,
10 auditor); every test runs inside an evm_snapshot/evm_revert pair. Patients are local keys.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract
from web3.logs import DISCARD

from medchain import consent, tx
from medchain.artifacts import load_artifact
from medchain.codes import PURPOSES, ROLE_BITS, parse_classes
from medchain.deploy import write_manifest
from medchain.errors import ContractRevert, InputError
from medchain.node import Anvil
from medchain.signing import ConsentGrant, Domain

CLAIM, TREATMENT, EMERGENCY = PURPOSES["CLAIM"], PURPOSES["TREATMENT"], PURPOSES["EMERGENCY"]
LAB_IMAGING = parse_classes("LAB,IMAGING")
PATIENT_KEY = "0x" + "11" * 32
GUARDIAN_KEY = "0x" + "33" * 32
DAY = 86_400


@dataclass
class Env:
    w3: Web3
    consortium: Contract
    registry: Contract
    probe: Contract
    manifest: Path
    council: str
    hospital: str
    hospital_b: str
    insurer: str
    insurer_b: str
    auditor: str
    stranger: str
    patient: LocalAccount
    guardian: LocalAccount


def _deploy(w3: Web3, name: str, sender: str, *args: Any) -> tuple[Contract, dict[str, Any]]:
    artifact = load_artifact(name)
    factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    receipt = tx.send(w3, factory.constructor(*args), sender)
    contract = w3.eth.contract(address=receipt["contractAddress"], abi=artifact.abi)
    return contract, {"address": receipt["contractAddress"], "block": receipt["blockNumber"]}


def build_env(anvil: Anvil, directory: Path) -> Env:
    """Consortium (council = account 0) with hospitals, insurers and an auditor admitted, a ConsentRegistry,
    a ConsentProbe, a manifest naming both contracts, and funded patient/guardian keys."""
    w3 = Web3(Web3.HTTPProvider(anvil.url, request_kwargs={"timeout": 60}))
    acc = w3.eth.accounts
    consortium, c_entry = _deploy(w3, "Consortium", acc[0], [acc[0]], ["Health Commission"], 1)
    for index, role, name in (
        (3, "HOSPITAL", "Hospital A"),
        (4, "HOSPITAL", "Hospital B"),
        (5, "INSURER", "Insurer X"),
        (6, "INSURER", "Insurer Y"),
        (10, "AUDITOR", "Audit"),
    ):
        receipt = tx.send(w3, consortium.functions.propose(1, acc[index], ROLE_BITS[role], name, ""), acc[0])
        pid = consortium.events.ProposalCreated().process_receipt(receipt, errors=DISCARD)[0]["args"][
            "proposalId"
        ]
        tx.send(w3, consortium.functions.execute(pid), acc[0])
    registry, r_entry = _deploy(w3, "ConsentRegistry", acc[0], consortium.address)
    probe, _ = _deploy(w3, "ConsentProbe", acc[0])
    manifest = directory / "manifest.json"
    contracts = {"Consortium": c_entry, "ConsentRegistry": r_entry}
    write_manifest({"chainId": w3.eth.chain_id, "contracts": contracts}, manifest)
    patient, guardian = Account.from_key(PATIENT_KEY), Account.from_key(GUARDIAN_KEY)
    for key in (patient, guardian):
        w3.eth.send_transaction({"from": acc[0], "to": key.address, "value": Web3.to_wei(10, "ether")})
    return Env(
        w3,
        consortium,
        registry,
        probe,
        manifest,
        acc[0],
        acc[3],
        acc[4],
        acc[5],
        acc[6],
        acc[10],
        acc[13],
        patient,
        guardian,
    )


@pytest.fixture(scope="module")
def module_env(anvil: Anvil, tmp_path_factory: pytest.TempPathFactory) -> Env:
    return build_env(anvil, tmp_path_factory.mktemp("consent"))


@pytest.fixture
def env(module_env: Env) -> Iterator[Env]:
    w3 = module_env.w3
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    yield module_env
    w3.provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]
    tx.forget_nonces()  # local keys' cached nonces are ahead of the reverted chain


def travel(w3: Web3, seconds: int) -> None:
    w3.provider.make_request("evm_increaseTime", [seconds])  # type: ignore[arg-type]
    w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]


def offline_grant(env: Env, nonce: int = 0, grantee: str | None = None, **over: Any) -> consent.SignedConsent:
    """What a patient's phone does with no RPC: chain id + registry address + nonce known, sign."""
    domain = Domain(env.w3.eth.chain_id, env.registry.address)
    fields = dict(valid_from=0, valid_until=0, deadline=2_000_000_000) | over
    msg = ConsentGrant(env.patient.address, grantee or env.insurer, CLAIM, LAB_IMAGING, nonce=nonce, **fields)
    return consent.sign_consent(msg, domain, env.patient)


def test_offline_signature_relayed_by_a_hospital(env: Env, tmp_path: Path) -> None:
    path = tmp_path / "consent.json"
    offline_grant(env).save(path)
    assert env.w3.eth.get_balance(env.hospital) > 0
    receipt = consent.relay(env.registry, consent.SignedConsent.load(path), env.hospital)
    assert receipt["from"] == env.hospital
    [state] = consent.status(env.registry, env.patient.address, env.insurer)
    assert (state.purpose_name, state.class_names, state.status, state.permitted) == (
        "CLAIM",
        ["LAB", "IMAGING"],
        "active",
        True,
    )
    assert env.registry.functions.nonces(env.patient.address).call() == 1


@pytest.mark.parametrize("signer_field", [True, False])
def test_file_with_v_0_or_1_is_relayed(env: Env, tmp_path: Path, signer_field: bool) -> None:
    """Issue 12 item 11: some wallets return v = 0/1; the file reader normalises it to 27/28, so what
    `consent verify` accepts the chain accepts too (before: ConsentInvalidSignature(recovered=0x0))."""
    signed = offline_grant(env)
    doc = signed.to_json()
    raw = bytes(signed.signature)
    doc["signature"] = Web3.to_hex(raw[:64] + bytes([raw[64] - 27]))
    if not signer_field:
        del doc["signer"]
    path = tmp_path / "consent.json"
    path.write_text(json.dumps(doc))
    loaded = consent.SignedConsent.load(path)
    consent.relay(env.registry, loaded, env.hospital)
    assert loaded.signature == raw
    assert env.registry.functions.isPermitted(env.patient.address, env.insurer, CLAIM, LAB_IMAGING).call()


def test_build_grant_reads_domain_and_nonce_from_chain(env: Env) -> None:
    consent.invalidate_nonce(env.registry, env.patient)
    msg, domain = consent.build_grant(env.registry, env.patient.address, env.insurer, CLAIM, LAB_IMAGING)
    assert domain == Domain(env.w3.eth.chain_id, env.registry.address)
    assert msg.nonce == 1
    assert msg.deadline == env.w3.eth.get_block("latest")["timestamp"] + consent.DEFAULT_TTL
    consent.relay(env.registry, consent.sign_consent(msg, domain, env.patient), env.stranger)
    assert env.registry.functions.isPermitted(env.patient.address, env.insurer, CLAIM, LAB_IMAGING).call()


def test_relay_for_another_chain_is_refused_before_sending(env: Env) -> None:
    signed = offline_grant(env)
    other = consent.SignedConsent(signed.message, Domain(1, env.registry.address), signed.signature, None)
    with pytest.raises(InputError, match="signed for chain 1"):
        consent.relay(env.registry, other, env.hospital)


def test_relay_used_nonce_is_refused(env: Env) -> None:
    signed = offline_grant(env)
    consent.relay(env.registry, signed, env.hospital)
    with pytest.raises(InputError, match="nonce 0 is already used or invalidated"):
        consent.relay(env.registry, signed, env.hospital)


def test_relay_future_nonce_is_refused(env: Env) -> None:
    with pytest.raises(InputError, match="not reached yet"):
        consent.relay(env.registry, offline_grant(env, nonce=3), env.hospital)


def test_relay_expired_signature_is_refused(env: Env) -> None:
    now = env.w3.eth.get_block("latest")["timestamp"]
    with pytest.raises(InputError, match="expired"):
        consent.relay(env.registry, offline_grant(env, deadline=now - 1), env.hospital)


def test_presigned_consecutive_nonces_relay_in_order(env: Env) -> None:
    first, second = offline_grant(env, 0), offline_grant(env, 1, grantee=env.insurer_b)
    consent.relay(env.registry, first, env.hospital)
    consent.relay(env.registry, second, env.hospital)
    grantees = {s.grantee for s in consent.status(env.registry, env.patient.address)}
    assert grantees == {env.insurer, env.insurer_b}


def test_relay_revoke(env: Env) -> None:
    consent.relay(env.registry, offline_grant(env), env.hospital)
    msg, domain = consent.build_revoke(env.registry, env.patient.address, env.insurer, CLAIM)
    consent.relay(env.registry, consent.sign_consent(msg, domain, env.patient), env.hospital)
    [state] = consent.status(env.registry, env.patient.address, env.insurer)
    assert state.status == "revoked" and not state.permitted and state.revoked_at > 0


def test_direct_grant_revoke_and_status(env: Env) -> None:
    consent.grant(env.registry, env.patient, env.hospital, TREATMENT, parse_classes("ALL"))
    consent.grant(env.registry, env.patient, env.insurer, CLAIM, LAB_IMAGING)
    consent.revoke(env.registry, env.patient, env.insurer, CLAIM)
    states = {(s.grantee, s.purpose): s for s in consent.status(env.registry, env.patient.address)}
    assert states[(env.hospital, TREATMENT)].status == "active"
    assert states[(env.insurer, CLAIM)].status == "revoked"


def test_status_pending_and_expired(env: Env) -> None:
    now = env.w3.eth.get_block("latest")["timestamp"]
    consent.grant(env.registry, env.patient, env.insurer, CLAIM, LAB_IMAGING, valid_from=now + DAY)
    consent.grant(env.registry, env.patient, env.hospital, TREATMENT, LAB_IMAGING, valid_until=now + 100)
    travel(env.w3, 200)
    states = {s.grantee: s.status for s in consent.status(env.registry, env.patient.address)}
    assert states == {env.insurer: "pending", env.hospital: "expired"}


def test_revert_is_decoded_by_name(env: Env) -> None:
    with pytest.raises(ContractRevert) as err:
        consent.revoke(env.registry, env.patient, env.insurer, CLAIM)
    assert err.value.name == "ConsentNotFound"
    assert err.value.args_dict["grantee"] == env.insurer


def test_history_in_chain_order(env: Env) -> None:
    consent.relay(env.registry, offline_grant(env), env.hospital)
    consent.revoke(env.registry, env.patient, env.insurer, CLAIM)
    consent.invalidate_nonce(env.registry, env.patient)
    entries = consent.history(env.registry, env.patient.address)
    assert [e.event for e in entries] == ["ConsentGranted", "ConsentRevoked", "NonceInvalidated"]
    assert entries[0].args["grantee"] == env.insurer and entries[0].timestamp > 0
    assert "granted CLAIM" in entries[0].describe() and "LAB,IMAGING" in entries[0].describe()
    assert entries[2].describe() == "signatures for nonce 1 invalidated"


def test_invalidated_signature_cannot_be_relayed(env: Env) -> None:
    signed = offline_grant(env)
    assert consent.invalidate_nonce(env.registry, env.patient) == 1
    with pytest.raises(InputError, match="already used or invalidated"):
        consent.relay(env.registry, signed, env.hospital)


def test_guardian_grants_directly_and_by_signature(env: Env) -> None:
    now = env.w3.eth.get_block("latest")["timestamp"]
    consent.set_guardian(env.registry, env.patient, env.guardian.address, now + 30 * DAY)
    info = consent.guardian_of(env.registry, env.patient.address)
    assert info == {
        "patient": env.patient.address,
        "guardian": env.guardian.address,
        "until": now + 30 * DAY,
        "active": True,
    }
    consent.grant(
        env.registry, env.guardian, env.hospital, TREATMENT, LAB_IMAGING, patient=env.patient.address
    )
    msg, domain = consent.build_grant(env.registry, env.patient.address, env.insurer, CLAIM, LAB_IMAGING)
    signed = consent.sign_consent(msg, domain, env.guardian)
    assert signed.signer == env.guardian.address
    consent.relay(env.registry, signed, env.hospital)
    consent.revoke(env.registry, env.guardian, env.hospital, TREATMENT, patient=env.patient.address)
    events = [e.event for e in consent.history(env.registry, env.patient.address)]
    assert events == [
        "GuardianSet",
        "ConsentGranted",
        "GuardianActed",
        "ConsentGranted",
        "GuardianActed",
        "ConsentRevoked",
        "GuardianActed",
    ]
    consent.remove_guardian(env.registry, env.patient)
    assert consent.guardian_of(env.registry, env.patient.address)["guardian"] is None


def test_expired_guardian_is_reported(env: Env) -> None:
    now = env.w3.eth.get_block("latest")["timestamp"]
    consent.set_guardian(env.registry, env.patient, env.guardian.address, now + 10)
    travel(env.w3, 100)
    assert consent.guardian_of(env.registry, env.patient.address)["active"] is False
    with pytest.raises(ContractRevert) as err:
        consent.grant(
            env.registry, env.guardian, env.hospital, TREATMENT, LAB_IMAGING, patient=env.patient.address
        )
    assert err.value.name == "ConsentGuardianExpired"


def test_emergency_open_review_close_overdue(env: Env) -> None:
    digest = bytes(range(1, 33))
    first = consent.open_emergency(env.registry, env.hospital, env.patient.address, 2, digest)
    second = consent.open_emergency(env.registry, env.hospital_b, env.patient.address, 1, digest)
    o = consent.get_opening(env.registry, first)
    assert (o.patient, o.hospital, o.reason_code, o.review, o.open) == (
        env.patient.address,
        env.hospital,
        2,
        "pending",
        True,
    )
    assert o.justification_hash == Web3.to_hex(digest)
    assert env.registry.functions.isPermitted(env.patient.address, env.hospital, EMERGENCY, 2047).call()
    consent.close_emergency(env.registry, env.hospital, first)
    assert not consent.get_opening(env.registry, first).open
    consent.review_emergency(env.registry, env.auditor, second, False)
    assert consent.overdue(env.registry) == []
    travel(env.w3, 8 * DAY)
    overdue = consent.overdue(env.registry, page=1)
    assert [o.id for o in overdue] == [first] and overdue[0].overdue
    assert consent.get_opening(env.registry, second).review == "unjustified"
    history = [e.event for e in consent.history(env.registry, env.patient.address)]
    assert history == ["EmergencyOpened", "EmergencyOpened", "EmergencyClosed", "EmergencyReviewed"]


def test_emergency_input_is_checked(env: Env) -> None:
    with pytest.raises(InputError, match="reason code"):
        consent.open_emergency(env.registry, env.hospital, env.patient.address, 0, b"\x01" * 32)
    with pytest.raises(InputError, match="32 non-zero bytes"):
        consent.open_emergency(env.registry, env.hospital, env.patient.address, 1, bytes(32))
    with pytest.raises(ContractRevert) as err:
        consent.open_emergency(env.registry, env.insurer, env.patient.address, 1, b"\x01" * 32)
    assert err.value.name == "EmergencyUnauthorized"
    with pytest.raises(ContractRevert) as err:
        consent.get_opening(env.registry, 9)
    assert err.value.name == "EmergencyUnknownOpening"


def test_gas_profile(env: Env) -> None:
    gas = consent.gas_profile(env.registry, env.probe, env.council, env.hospital, env.insurer, env.insurer_b)
    rows = dict(gas.rows())
    for name, sample in rows.items():
        print(f"{name}: {sample.gas} (floor {sample.floor}, target {sample.target})")
        assert sample.floor < sample.gas
    assert gas.grant.ok and gas.revoke.ok
    assert gas.grant_by_sig_first.gas - gas.grant_by_sig_second.gas == pytest.approx(17_100, abs=150)
    assert gas.is_permitted.gas < gas.is_permitted_solidity_call.gas
    assert set(gas.as_dict()) == set(rows)
