"""Record exchange (issue 13) on real servers and a real chain: two hospital gateways under uvicorn on
loopback ports (hospital A's through the `medchain gateway serve` command, hospital B's in this process) and a
module-scoped Anvil with the suite deployed. Hospital C requests; hospital D is suspended."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.logs import DISCARD

from medchain import consent as consent_mod
from medchain import records as rs
from medchain import tx
from medchain.codes import PURPOSES, ROLE_BITS, parse_classes
from medchain.contracts import Suite
from medchain.deploy import deploy_all, write_manifest
from medchain.errors import ContractRevert
from medchain.gateway.catalogue import Catalogue
from medchain.gateway.client import Gateway, GatewayClient, Listed, wait_ready
from medchain.gateway.crypto import ResponseKey
from medchain.gateway.errors import GatewayRefused, GatewayUnavailable, TamperedRecord
from medchain.gateway.exchange import download_own, fetch_all, fetch_one, hospital_gateways
from medchain.gateway.messages import GatewayDomain, RecordRequest, SignedRequest, expiry, new_request_id
from medchain.gateway.server import create_app
from medchain.gateway.service import RecordGateway
from medchain.hashing import hash_bytes, hash_file
from medchain.journal import Journal
from medchain.node import Anvil, free_port
from medchain.openings import RecordOpening
from medchain.store import open_store

ROOT = Path(__file__).resolve().parents[3]
OBSERVATION = {
    "resourceType": "Observation",
    "id": "glucose-1",
    "status": "final",
    "code": {"text": "Glucose"},
    "valueQuantity": {"value": 6.5, "unit": "mmol/L"},
}


@dataclass
class Net:
    anvil: Anvil
    w3: Web3
    suite: Suite
    manifest: Path
    keys: dict[str, LocalAccount]
    gateways: dict[str, Gateway]
    export_a: Path
    store_a: Path
    files: dict[str, Path] = field(default_factory=dict)  # name -> original file at hospital A
    proc: subprocess.Popen[bytes] | None = None

    @property
    def domain(self) -> GatewayDomain:
        return GatewayDomain(self.w3.eth.chain_id, self.suite.records.address)

    def svc(self, who: str, store: Path | None = None) -> rs.RecordService:
        conn = open_store(store or ":memory:")
        return rs.RecordService.open(self.w3, self.suite.records, self.suite.consortium, conn, self.keys[who])

    def client(self, who: str, requester: str | None = None) -> GatewayClient:
        key = self.keys[who]
        return GatewayClient(self.domain, key, requester or key.address, wait=5)

    def grant(self, grantee: str, purpose: str, classes: str, patient: str = "patient") -> None:
        consent_mod.grant(
            self.suite.consent, self.keys[patient], self.keys[grantee].address, PURPOSES[purpose],
            parse_classes(classes),
        )  # fmt: skip

    def revoke(self, grantee: str, purpose: str, patient: str = "patient") -> None:
        grantee_address = self.keys[grantee].address
        consent_mod.revoke(self.suite.consent, self.keys[patient], grantee_address, PURPOSES[purpose])


class ThreadServer:
    """uvicorn serving an app on a loopback port from a thread of this process."""

    def __init__(self, app: Any, port: int) -> None:
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> ThreadServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        assert self.server.started, "gateway B did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)


def _admit(net_w3: Web3, suite: Suite, council: str, member: str, name: str, uri: str) -> None:
    c = suite.consortium
    receipt = tx.send(net_w3, c.functions.propose(1, member, ROLE_BITS["HOSPITAL"], name, uri), council)
    proposal = c.events.ProposalCreated().process_receipt(receipt, errors=DISCARD)[0]["args"]["proposalId"]
    tx.send(net_w3, c.functions.execute(proposal), council)


def _suspend(w3: Web3, suite: Suite, council: str, member: str) -> None:
    c = suite.consortium
    receipt = tx.send(w3, c.functions.propose(2, member, 0, "", ""), council)
    proposal = c.events.ProposalCreated().process_receipt(receipt, errors=DISCARD)[0]["args"]["proposalId"]
    tx.send(w3, c.functions.execute(proposal), council)


def _wait_http(url: str, log: Path | None = None) -> None:
    try:
        wait_ready(url, timeout=30)
    except GatewayUnavailable:
        output = log.read_text() if log is not None and log.exists() else ""
        raise AssertionError(f"no gateway at {url}: {output}") from None


@pytest.fixture(scope="module")
def net(anvil: Anvil, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Net]:
    base = tmp_path_factory.mktemp("exchange")
    w3 = Web3(Web3.HTTPProvider(anvil.url, request_kwargs={"timeout": 60}))
    council = w3.eth.accounts[0]
    manifest = deploy_all(w3, council, [council], ["Council"], 1, write=False)
    manifest_path = base / "manifest.json"
    write_manifest(manifest, manifest_path)
    suite = Suite.load(w3, manifest)
    keys = {n: Account.create() for n in ("a", "b", "c", "d", "stranger", "patient", "patient2")}
    for name in keys:
        tx_hash = w3.eth.send_transaction({"from": council, "to": keys[name].address, "value": 10**20})
        w3.eth.wait_for_transaction_receipt(tx_hash)
    ports = {"a": free_port(), "b": free_port(), "c": free_port()}
    gateways = {}
    for name, label in (("a", "Hospital A"), ("b", "Hospital B"), ("c", "Hospital C"), ("d", "Hospital D")):
        uri = f"http://127.0.0.1:{ports[name]}" if name in ports else ""
        _admit(w3, suite, council, keys[name].address, label, uri)
        gateways[name] = Gateway(keys[name].address, uri, label)
    export_a, export_b = base / "export-a", base / "export-b"
    net = Net(anvil, w3, suite, manifest_path, keys, gateways, export_a, base / "a.sqlite")
    _anchor_a(net, base / "a.sqlite")
    _anchor_b(net, export_b, base / "b.sqlite")
    env = {**os.environ, "MEDCHAIN_PRIVATE_KEY_HOSPITAL_A": keys["a"].key.hex(), "MEDCHAIN_HOME": str(base)}
    command = [
        sys.executable, "-m", "medchain.cli", "--rpc-url", anvil.url, "--manifest", str(manifest_path),
        "--account", "hospital-a", "gateway", "serve", "--source", str(export_a), "--port", str(ports["a"]),
        "--store", str(base / "a.sqlite"), "--max-lifetime", "20m",
    ]  # fmt: skip
    log = base / "gateway-a.log"  # (a file, not a pipe nobody reads)
    with log.open("wb") as err:
        net.proc = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err)
    journal_b = Journal(open_store(base / "b.sqlite"), w3.eth.chain_id, suite.records.address)
    gateway_b = RecordGateway(
        w3, suite.records, suite.consortium, suite.require("consent"), journal_b, keys["b"].address,
        Catalogue(export_b),
    )  # fmt: skip
    gateway_b.refresh()
    try:
        with ThreadServer(create_app(gateway_b), ports["b"]):
            _wait_http(gateways["a"].url, log)
            _wait_http(gateways["b"].url)
            yield net
    finally:
        net.proc.terminate()
        net.proc.wait(timeout=10)


def _anchor_a(net: Net, store: Path) -> None:
    """Hospital A's export: LAB files (one a FHIR Observation), an IMAGING batch, a MENTAL_HEALTH file, a FHIR
    Bulk NDJSON export (LAB), and one LAB file of patient2."""
    export = net.export_a
    (export / "imaging").mkdir(parents=True)
    patient, patient2 = net.keys["patient"].address, net.keys["patient2"].address
    files = {
        "lab": export / "lab-2026-01.txt",
        "obs": export / "glucose.json",
        "tamper": export / "lab-2026-02.txt",
        "mental": export / "psych-note.txt",
        "other": export / "lab-patient2.txt",
    }
    files["lab"].write_text("HbA1c 6.1 % (2026-01-10)\n")
    files["obs"].write_text(json.dumps(OBSERVATION, indent=2))
    files["tamper"].write_text("Cholesterol 5.2 mmol/L\n")
    files["mental"].write_text("session notes\n")
    files["other"].write_text("patient2 ferritin 80 ug/L\n")
    for i in range(3):
        (export / "imaging" / f"ct-{i}.dcm").write_bytes(os.urandom(64))
    lines = [{"resourceType": "Observation", "id": f"bulk-{i}", "status": "final"} for i in range(3)]
    (export / "observations.ndjson").write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    svc = net.svc("a", store)
    hashed = [hash_file(files[n]) for n in ("lab", "obs", "tamper")]
    rs.anchor_files(svc, hashed, patient, "LAB")
    rs.anchor_files(svc, [hash_file(files["mental"])], patient, "MENTAL_HEALTH")
    rs.anchor_files(svc, [hash_file(files["other"])], patient2, "LAB")
    bulk = [hash_bytes(json.dumps(x).encode(), mode="fhir") for x in lines]
    rs.anchor_files(svc, bulk, patient, "LAB")
    imaging = export / "imaging"
    items = rs.collect_batch_inputs(svc.journal, svc.hospital, imaging, patient=patient, data_class="IMAGING")
    rs.anchor_batch(svc, items)
    net.files = files


def _anchor_b(net: Net, export: Path, store: Path) -> None:
    export.mkdir(parents=True)
    (export / "discharge.txt").write_text("discharge summary 2026-02\n")
    svc = net.svc("b", store)
    rs.anchor_files(svc, [hash_file(export / "discharge.txt")], net.keys["patient"].address, "SUMMARY")


def _listed(
    net: Net, who: str, gateway: str, purpose: str = "TREATMENT", patient: str = "patient"
) -> list[Listed]:
    client = net.client(who)
    try:
        return client.list(net.gateways[gateway], net.keys[patient].address, purpose)
    finally:
        client.close()


def _pick(listed: list[Listed], record_hash: bytes) -> Listed:
    return next(x for x in listed if x.opening.record_hash == record_hash)


def _post(net: Net, gateway: str, path: str, signed: SignedRequest) -> httpx.Response:
    return httpx.post(net.gateways[gateway].endpoint(path), json=signed.to_json(), timeout=10)


def _request(
    net: Net, who: str, opening: RecordOpening, access_tx: bytes, purpose: str = "TREATMENT", **changes: Any
) -> SignedRequest:
    fields: dict[str, Any] = {
        "requester": net.keys[who].address,
        "leaf": opening.leaf,
        "purpose": PURPOSES[purpose],
        "access_tx": access_tx,
        "response_key": ResponseKey.generate().public,
        "request_id": new_request_id(),
        "expires_at": expiry(120),
    }
    domain = changes.pop("domain", net.domain)
    signer = net.keys[changes.pop("signer", who)]
    fields.update(changes)
    return SignedRequest.sign(RecordRequest(**fields), domain, signer)


def _outcome(response: httpx.Response) -> tuple[int, str, str]:
    issue = response.json()["issue"][0]
    assert response.json()["resourceType"] == "OperationOutcome"
    return response.status_code, issue["code"], issue["diagnostics"]


def _log(net: Net, who: str, opening: RecordOpening, purpose: str = "TREATMENT") -> bytes:
    result = rs.log_access(net.svc(who), opening, purpose)
    return bytes.fromhex(result["txHash"][2:])


# ---- tests ----


def test_fetch_with_consent_logs_then_releases_and_stores_verified_record(net: Net, tmp_path: Path) -> None:
    net.grant("c", "TREATMENT", "LAB")
    client = net.client("c")
    record_hash = hash_file(net.files["obs"]).record_hash
    patient = net.keys["patient"].address
    record = "0x" + record_hash.hex()
    row = fetch_one(net.svc("c"), client, net.gateways["a"], record, patient, "TREATMENT", tmp_path / "in")
    client.close()
    stored = Path(row["file"])
    assert stored.read_bytes() == net.files["obs"].read_bytes() and stored.suffix == ".json"
    assert row["hashMethod"] == "sha256+fhir-jcs-static" and row["verified"]
    events = rs.access_events(net.svc("c"), patient=patient, accessor=net.keys["c"].address)
    assert row["accessTx"] in {e["txHash"] for e in events}  # the disclosure is on the accounting


def test_records_fetch_cli_stores_the_record(net: Net, tmp_path: Path, cli_env: dict[str, str]) -> None:
    from typer.testing import CliRunner

    from medchain.cli import app

    net.grant("c", "TREATMENT", "LAB")
    record_hash = "0x" + hash_file(net.files["lab"]).record_hash.hex()
    args = ["--rpc-url", net.anvil.url, "--manifest", str(net.manifest), "--account", "hospital-c", "records",
            "fetch", record_hash, "--from", "Hospital A", "--patient", net.keys["patient"].address,
            "--purpose", "TREATMENT", "--out", str(tmp_path / "out"), "--json"]  # fmt: skip
    result = CliRunner().invoke(app, args, env=cli_env)
    assert result.exit_code == 0, result.output
    row = json.loads(result.stdout)
    assert Path(row["file"]).read_bytes() == net.files["lab"].read_bytes()


def test_records_fetch_cli_with_an_evidence_package_and_by_the_patient(
    net: Net, tmp_path: Path, cli_env: dict[str, str]
) -> None:
    from typer.testing import CliRunner

    from medchain.cli import app

    net.grant("c", "TREATMENT", "LAB")
    runner, base = CliRunner(), ["--rpc-url", net.anvil.url, "--manifest", str(net.manifest)]
    evidence = tmp_path / "evidence.json"
    proof = [*base, "records", "proof", str(net.files["obs"]), "--out", str(evidence), "--reveal",
             "--store", str(net.store_a)]  # fmt: skip
    assert runner.invoke(app, proof, env=cli_env).exit_code == 0
    leaf = json.loads(evidence.read_text())["leaf"]
    fetch = [*base, "--account", "hospital-c", "records", "fetch", leaf, "--from", net.keys["a"].address,
             "--patient", net.keys["patient"].address, "--evidence", str(evidence),
             "--out", str(tmp_path / "c"), "--json"]  # fmt: skip
    result = runner.invoke(app, fetch, env=cli_env)
    assert result.exit_code == 0, result.output
    assert Path(json.loads(result.stdout)["file"]).read_bytes() == net.files["obs"].read_bytes()
    env = {**cli_env, "MEDCHAIN_PRIVATE_KEY_PATIENT": net.keys["patient"].key.hex()}
    mine = [*base, "--account", "patient", "records", "fetch", leaf, "--from", "hospital a",
            "--patient", net.keys["patient"].address, "--out", str(tmp_path / "mine"), "--json"]  # fmt: skip
    result = runner.invoke(app, mine, env=env)
    assert result.exit_code == 0, result.output
    row = json.loads(result.stdout)
    assert "accessTx" not in row  # self-access: nothing logged
    assert Path(row["file"]).read_bytes() == net.files["obs"].read_bytes()


def test_no_consent_log_reverts_and_gateway_refuses_without_access_log(net: Net) -> None:
    net.grant("c", "TREATMENT", "LAB")
    opening = _pick(_listed(net, "c", "a"), hash_file(net.files["lab"]).record_hash).opening
    with pytest.raises(ContractRevert, match="RecordAccessNotPermitted"):
        _log(net, "c", opening, "RESEARCH")
    unlogged = _request(net, "c", opening, b"\0" * 32)
    response = _post(net, "a", f"/Record/0x{opening.leaf.hex()}/$fetch", unlogged)
    assert _outcome(response)[:2] == (403, "forbidden") and "no access log" in _outcome(response)[2]


def test_list_without_consent_lists_nothing(net: Net) -> None:
    with pytest.raises(GatewayRefused, match=r"403 forbidden.*nothing is listed") as info:
        _listed(net, "c", "a", purpose="RESEARCH")
    assert info.value.status == 403


def test_list_with_consent_for_some_classes_lists_only_those(net: Net) -> None:
    net.grant("c", "PUBLIC_HEALTH", "IMAGING,MENTAL_HEALTH")
    listed = _listed(net, "c", "a", purpose="PUBLIC_HEALTH")
    assert sorted(x.opening.data_class for x in listed) == [4, 4, 4, 8]  # 3 IMAGING (batch) + 1 MENTAL_HEALTH
    assert all(x.opening.patient == net.keys["patient"].address for x in listed)
    assert {x.opening.root is not None for x in listed} == {True, False}  # batch records carry root + proof


def test_batch_record_is_materialised_logged_and_released(net: Net, tmp_path: Path) -> None:
    net.grant("c", "PUBLIC_HEALTH", "IMAGING,MENTAL_HEALTH")
    listed = [x for x in _listed(net, "c", "a", purpose="PUBLIC_HEALTH") if x.opening.root is not None][0]
    client = net.client("c")
    row = fetch_one(net.svc("c"), client, net.gateways["a"], "0x" + listed.opening.leaf.hex(),
                    net.keys["patient"].address, "PUBLIC_HEALTH", tmp_path)  # fmt: skip
    client.close()
    assert Path(row["file"]).suffix == ".dcm"
    assert hash_file(row["file"]).record_hash == listed.opening.record_hash


def test_revocation_released_before_refused_after(net: Net) -> None:
    net.grant("c", "CLAIM", "LAB")
    listed = _pick(_listed(net, "c", "a", "CLAIM"), hash_file(net.files["lab"]).record_hash)
    access_tx = _log(net, "c", listed.opening, "CLAIM")
    client = net.client("c")
    assert client.fetch(listed, "CLAIM", access_tx).content == net.files["lab"].read_bytes()
    net.revoke("c", "CLAIM")
    with pytest.raises(GatewayRefused, match="no consent .* permits") as info:
        client.fetch(listed, "CLAIM", access_tx)
    client.close()
    assert info.value.status == 403


def test_access_log_must_name_this_record_requester_and_purpose(net: Net) -> None:
    net.grant("c", "TREATMENT", "LAB")
    net.grant("a", "TREATMENT", "LAB")
    net.grant("c", "PUBLIC_HEALTH", "LAB")
    listed = _listed(net, "c", "a")
    lab = _pick(listed, hash_file(net.files["lab"]).record_hash).opening
    obs = _pick(listed, hash_file(net.files["obs"]).record_hash).opening
    path = f"/Record/0x{lab.leaf.hex()}/$fetch"
    cases = {
        "is not a mined transaction": os.urandom(32),
        "names another record": _log(net, "c", obs),
        f"was made by {net.keys['a'].address}": _log(net, "a", lab),
        "is for PUBLIC_HEALTH": _log(net, "c", lab, "PUBLIC_HEALTH"),
    }
    for message, access_tx in cases.items():
        status, code, diagnostics = _outcome(_post(net, "a", path, _request(net, "c", lab, access_tx)))
        assert (status, code) == (403, "forbidden") and message in diagnostics, diagnostics


def test_replayed_expired_foreign_and_wrongly_signed_requests_are_refused(net: Net) -> None:
    net.grant("c", "TREATMENT", "LAB")
    lab = _pick(_listed(net, "c", "a"), hash_file(net.files["lab"]).record_hash).opening
    access_tx = _log(net, "c", lab)
    path = f"/Record/0x{lab.leaf.hex()}/$fetch"
    signed = _request(net, "c", lab, access_tx)
    assert _post(net, "a", path, signed).status_code == 200
    assert _outcome(_post(net, "a", path, signed))[:2] == (409, "duplicate")  # replay
    expired = _request(net, "c", lab, access_tx, expires_at=int(time.time()) - 5)
    assert _outcome(_post(net, "a", path, expired))[:2] == (401, "expired")
    chain_id, registry = net.w3.eth.chain_id, net.suite.records.address
    foreign = _request(net, "c", lab, access_tx, domain=GatewayDomain(chain_id + 1, registry))
    assert _outcome(_post(net, "a", path, foreign))[:2] == (401, "security")
    other_domain = GatewayDomain(chain_id, net.suite.consent.address)
    other_contract = _request(net, "c", lab, access_tx, domain=other_domain)
    assert "verifyingContract" in _outcome(_post(net, "a", path, other_contract))[2]
    forged = _request(net, "c", lab, access_tx, signer="stranger")  # names C, signed by another key
    status, code, diagnostics = _outcome(_post(net, "a", path, forged))
    assert (status, code) == (401, "security") and "not an operator key" in diagnostics
    malformed = httpx.post(net.gateways["a"].endpoint(path), content=b"{not json", timeout=10)
    assert _outcome(malformed)[:2] == (400, "invalid")


def test_metadata_domain_and_unknown_routes(net: Net) -> None:
    base = net.gateways["a"].url
    assert httpx.get(base + "/metadata").json()["resourceType"] == "CapabilityStatement"
    known = httpx.get(base + "/.well-known/medchain-gateway").json()
    assert known["domain"] == net.domain.as_dict() and known["hospital"] == net.keys["a"].address
    assert known["maxRequestLifetime"] == 20 * 60  # `gateway serve --max-lifetime 20m`
    missing = httpx.get(base + "/Patient/0x12")
    assert _outcome(missing)[:2] == (404, "not-found") and missing.headers["content-type"].startswith(
        "application/fhir+json"
    )
    unknown_record = _request(net, "c", RecordOpening(os.urandom(32), net.keys["patient"].address,
                                                      os.urandom(32), 3), os.urandom(32))  # fmt: skip
    leaf = unknown_record.request.leaf.hex()  # type: ignore[union-attr]
    assert _outcome(_post(net, "a", f"/Record/0x{leaf}/$fetch", unknown_record))[:2] == (404, "not-found")


def test_non_member_and_suspended_member_signatures_are_refused(net: Net) -> None:
    net.grant("c", "TREATMENT", "LAB")
    lab = _pick(_listed(net, "c", "a"), hash_file(net.files["lab"]).record_hash).opening
    path = f"/Record/0x{lab.leaf.hex()}/$fetch"
    stranger = _request(net, "stranger", lab, os.urandom(32))
    status, code, diagnostics = _outcome(_post(net, "a", path, stranger))
    assert (status, code) == (401, "security")
    assert "not an operator key of an active HOSPITAL member" in diagnostics
    net.grant("d", "TREATMENT", "LAB")
    access_tx = _log(net, "d", lab)
    assert _post(net, "a", path, _request(net, "d", lab, access_tx)).status_code == 200
    _suspend(net.w3, net.suite, net.w3.eth.accounts[0], net.keys["d"].address)
    status, code, diagnostics = _outcome(_post(net, "a", path, _request(net, "d", lab, access_tx)))
    assert (status, code) == (401, "security") and "not an operator key" in diagnostics


def test_patient_downloads_own_records_without_consent_or_log(net: Net) -> None:
    patient2 = net.keys["patient2"]
    fetched = download_own(net.w3, net.suite.records, net.gateways["a"], patient2)
    assert [f.content for f in fetched] == [net.files["other"].read_bytes()]
    mine = download_own(net.w3, net.suite.records, net.gateways["a"], net.keys["patient"])
    assert len(mine) == 10  # 3 LAB + 3 NDJSON + 3 IMAGING (batch) + 1 MENTAL_HEALTH
    ndjson = [f for f in mine if f.suffix == ".json" and b"bulk-" in f.content]
    assert len(ndjson) == 3 and all(f.hash_method == "sha256+fhir-jcs-static" for f in ndjson)
    # someone else signing for the patient is refused
    client = GatewayClient(net.domain, net.keys["stranger"], patient2.address)
    with pytest.raises(GatewayRefused, match="signed by"):
        client.list(net.gateways["a"], patient2.address, "TREATMENT")
    client.close()


def test_tampered_record_is_refused_and_nothing_is_stored(net: Net, tmp_path: Path) -> None:
    net.grant("c", "TREATMENT", "LAB")
    listed = _pick(_listed(net, "c", "a"), hash_file(net.files["tamper"]).record_hash)
    net.files["tamper"].write_text("Cholesterol 2.1 mmol/L\n")  # altered after anchoring
    client = net.client("c")
    out = tmp_path / "in"
    with pytest.raises(TamperedRecord, match="is not the anchored .* nothing stored"):
        fetch_one(net.svc("c"), client, net.gateways["a"], "0x" + listed.opening.leaf.hex(),
                  net.keys["patient"].address, "TREATMENT", out)  # fmt: skip
    client.close()
    assert not out.exists() or not any(out.iterdir())


def test_fetch_all_logs_once_and_fetches_from_every_hospital(net: Net, tmp_path: Path) -> None:
    net.grant("c", "TREATMENT", "ALL")
    client = net.client("c")
    gateways = hospital_gateways(net.suite.consortium)
    assert [g.name for g in gateways] == ["Hospital A", "Hospital B", "Hospital C"]  # D is suspended
    report = fetch_all(net.svc("c"), client, gateways, net.keys["patient"].address, "TREATMENT", tmp_path)
    client.close()
    hospitals = {row["hospital"] for row in report.stored}
    assert hospitals == {net.keys["a"].address, net.keys["b"].address}
    assert len(report.stored) == 10 + 1 - 1  # A's 10 minus the tampered one, plus B's summary
    assert len(report.failures) == 1 and "is not the anchored" in report.failures[0]["error"]
    assert len(report.access_txs) == 1  # one logAccessMany for every record of both hospitals


def test_gateway_down_is_one_line_naming_it(net: Net, cli_env: dict[str, str], tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from medchain.cli import app

    client = net.client("a")
    with pytest.raises(GatewayUnavailable, match="of Hospital C at http://127.0.0.1:.* not reachable"):
        client.list(net.gateways["c"], net.keys["patient"].address, "TREATMENT")
    client.close()
    args = ["--rpc-url", net.anvil.url, "--manifest", str(net.manifest), "--account", "hospital-a", "records",
            "fetch", "0x" + "11" * 32, "--from", "Hospital C", "--patient", net.keys["patient"].address,
            "--out", str(tmp_path)]  # fmt: skip
    result = CliRunner().invoke(app, args, env=cli_env)
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Hospital C" in lines[0] and "not reachable" in lines[0]


def test_records_batch_ndjson_malformed_line_names_it_and_anchors_nothing(
    net: Net, tmp_path: Path, cli_env: dict[str, str]
) -> None:
    from typer.testing import CliRunner

    from medchain.cli import app

    export = tmp_path / "Observation.ndjson"
    good = [json.dumps({"resourceType": "Observation", "id": f"x{i}", "status": "final"}) for i in range(4)]
    export.write_text("\n".join([*good[:2], '{"resourceType": "Observation", "id": ', *good[2:]]) + "\n")
    args = ["--rpc-url", net.anvil.url, "--manifest", str(net.manifest), "--account", "hospital-a", "records",
            "batch", str(export), "--patient", net.keys["patient2"].address,
            "--store", str(net.store_a)]  # fmt: skip
    before = _journal_size(net)
    result = CliRunner().invoke(app, args, env=cli_env)
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"{export} line 3: malformed JSON" in lines[0], result.stderr
    assert _journal_size(net) == before  # nothing journaled, nothing anchored


def test_records_batch_streams_an_ndjson_export_that_the_gateway_then_serves(
    net: Net, tmp_path: Path, cli_env: dict[str, str]
) -> None:
    from typer.testing import CliRunner

    from medchain.cli import app

    export = tmp_path / "export"
    (export / "notes").mkdir(parents=True)
    resources = [{"resourceType": "MedicationRequest", "id": f"rx{i}", "status": "active"} for i in range(5)]
    (export / "MedicationRequest.ndjson").write_text("".join(json.dumps(r) + "\n" for r in resources))
    args = ["--rpc-url", net.anvil.url, "--manifest", str(net.manifest), "--account", "hospital-a", "--json",
            "records", "batch", str(export), "--patient", net.keys["patient2"].address, "--store",
            str(net.store_a)]  # fmt: skip
    result = CliRunner().invoke(app, args, env=cli_env)
    assert result.exit_code == 0, result.output
    [submission] = json.loads(result.stdout)["submissions"]
    assert (submission["kind"], submission["records"], submission["status"]) == ("batch", 5, "done")
    target = net.export_a / "MedicationRequest.ndjson"  # the hospital's gateway serves its own export
    target.write_bytes((export / "MedicationRequest.ndjson").read_bytes())
    deadline, fetched = time.monotonic() + 10, []
    while time.monotonic() < deadline and len(fetched) < 6:
        fetched = download_own(net.w3, net.suite.records, net.gateways["a"], net.keys["patient2"])
        time.sleep(0.5)
    rx = sorted(json.loads(f.content)["id"] for f in fetched if b"MedicationRequest" in f.content)
    assert rx == [f"rx{i}" for i in range(5)]
    assert {f.opening.data_class for f in fetched if b"MedicationRequest" in f.content} == {5}  # PRESCRIPTION


def _journal_size(net: Net) -> int:
    journal = Journal(open_store(net.store_a), net.w3.eth.chain_id, net.suite.records.address)
    return len(journal.submissions())


def test_break_glass_releases_within_24h_and_not_after(net: Net) -> None:
    """Last: moves the chain's clock 25 hours on."""
    patient2 = net.keys["patient2"].address
    consent_mod.open_emergency(net.suite.consent, net.keys["c"], patient2, 1, os.urandom(32))
    other = hash_file(net.files["other"]).record_hash
    listed = [_pick(_listed(net, "c", "a", "EMERGENCY", "patient2"), other)]
    access_tx = _log(net, "c", listed[0].opening, "EMERGENCY")
    client = net.client("c")
    assert client.fetch(listed[0], "EMERGENCY", access_tx).content == net.files["other"].read_bytes()
    net.w3.provider.make_request("evm_increaseTime", [25 * 3600])  # type: ignore[arg-type]
    net.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    with pytest.raises(GatewayRefused, match="no consent \\(or open emergency opening\\)"):
        client.fetch(listed[0], "EMERGENCY", access_tx)
    client.close()
    with pytest.raises(ContractRevert, match="RecordAccessNotPermitted"):
        _log(net, "c", listed[0].opening, "EMERGENCY")


@pytest.fixture
def cli_env(net: Net, tmp_path: Path) -> dict[str, str]:
    return {
        "MEDCHAIN_PRIVATE_KEY_HOSPITAL_C": net.keys["c"].key.hex(),
        "MEDCHAIN_PRIVATE_KEY_HOSPITAL_A": net.keys["a"].key.hex(),
        "MEDCHAIN_HOME": str(tmp_path / "home"),
    }


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ("5s", "--max-lifetime must be at least 10 seconds, got 5s"),
        ("2x", "--max-lifetime '2x' is not N[s|m|h|d|w|y]"),
    ],
)
def test_gateway_max_lifetime_is_a_duration_and_bad_values_are_one_line(
    tmp_path: Path, given: str, says: str
) -> None:
    from typer.testing import CliRunner

    from medchain.cli import app

    result = CliRunner().invoke(app, ["gateway", "serve", "--source", str(tmp_path), "--max-lifetime", given])
    assert result.exit_code != 0
    assert says in result.output and len(result.output.strip().splitlines()) == 1
