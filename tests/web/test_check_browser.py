"""The record check page (and the portal's "My records") in Debian's Chromium against a real Anvil.

The page hashes in the browser; every hash is compared with `medchain records hash --json` on the same
bytes (binary, FHIR JSON with text/meta, non-ASCII, JSON that is not FHIR, pasted FHIR). Records are
anchored by Hospital A through `medchain.records` (single, amended = superseded, batch); the page's
answers are compared with the chain. Screenshots: reports/screens/check-*.png.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from browser_env import Chain, browser, deploy, require_browser, screenshot, serve, wallet_page
from eth_account import Account
from typer.testing import CliRunner

from medchain import records as rs
from medchain.cli import app as cli_app
from medchain.hashing import hash_file
from medchain.node import Anvil
from medchain.store import open_store
from medchain.web import create_app
from medchain.web.check import RecordCheck
from medchain.web.portal import PortalService

PATIENT_KEY = "0x" + "5c" * 32
PATIENT = Account.from_key(PATIENT_KEY).address

FHIR = {
    "resourceType": "Observation",
    "id": "血糖-1",
    "meta": {"versionId": "7", "lastUpdated": "2026-05-01T08:00:00+08:00"},
    "text": {"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml">空腹血糖 6.50</div>'},
    "status": "final",
    "code": {"text": "空腹血糖 Fasting glucose ✓ 🩸"},
    "subject": {"display": "张三 Zhāng Sān"},
    "valueQuantity": {"value": 6.50, "unit": "mmol/L", "system": "http://unitsofmeasure.org"},
    "component": [{"valueInteger": 1000000, "valueDecimal": 1e-7}, {"valueDecimal": 0.1}],
}


@dataclass
class Env:
    chain: Chain
    url: str
    chromium: Any
    svc: rs.RecordService
    files: Path

    def page(self) -> Any:
        return wallet_page(
            self.chromium, key=PATIENT_KEY, chain_id=self.chain.anvil.chain_id, rpc=self.chain.anvil.url
        )


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    require_browser()
    files = tmp_path_factory.mktemp("records")
    with Anvil() as node:
        chain = deploy(node)
        store = open_store(files / "hospital-a.sqlite")
        svc = rs.RecordService.open(
            chain.w3, chain.suite.records, chain.suite.consortium, store, chain.hospital
        )
        check = RecordCheck(chain.w3, chain.suite, from_block=chain.deploy_block())
        index = open_store(files / "index.sqlite")
        portal = PortalService(chain.w3, chain.suite, index, chain.hospital, from_block=chain.deploy_block())
        app = create_app(None, portal=portal, checker=(check.lookup, check.evidence))
        with serve(app) as url, browser() as chromium:
            yield Env(chain, url, chromium, svc, files)


def cli_hash(path: Path) -> dict[str, Any]:
    result = CliRunner().invoke(cli_app, ["records", "hash", str(path), "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    (doc,) = json.loads(result.stdout)
    return dict(doc)


def write(env: Env, name: str, data: bytes | str) -> Path:
    path = env.files / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def check_file(
    env: Env, page: Any, path: Path | None = None, text: str | None = None
) -> tuple[str, str, str]:
    """Check one file (or pasted text) on a fresh load of /check: (state, hash shown, method shown)."""
    page.goto(env.url + "/check")
    page.wait_for_selector("body[data-state='ready']", state="attached")
    if path is not None:
        page.set_input_files("#record-file", str(path))
    if text is not None:
        page.fill("#fhir-text", text)
    page.click("#check-button")
    states = ("anchored", "not-anchored", "superseded", "hashed", "error")
    page.wait_for_selector(", ".join(f"body[data-state='{s}']" for s in states), state="attached")
    state = str(page.evaluate("document.body.dataset.state"))
    if state == "error":
        return state, "", str(page.text_content("#message"))
    return state, str(page.text_content("#record-hash")), str(page.text_content("#hash-method"))


def anchor(env: Env, path: Path, klass: str = "LAB", amends: Path | None = None) -> bytes:
    previous = rs.one(env.svc.journal, str(amends)).leaf if amends is not None else None
    rs.anchor_files(env.svc, [hash_file(path)], PATIENT, klass, amends=previous)
    return rs.one(env.svc.journal, str(path)).leaf


@pytest.mark.parametrize(
    "name, content",
    [
        ("scan.bin", bytes(range(256)) * 3 + b"\x00\xff{"),
        ("observation.json", json.dumps(FHIR, ensure_ascii=False, indent=2)),
        ("observation-escaped.json", json.dumps(FHIR, ensure_ascii=True)),
        ("not-fhir.json", '{"name": "张三", "x": 1.50}'),
        ("note.txt", "门诊记录:患者主诉头痛。Patient reports headache. ✓\n"),
        ("brace.txt", '  {"resourceType": "Patient", "name": [{"text": "李四"}], "meta": {"a": 1}}'),
    ],
)
def test_browser_hash_equals_medchain_records_hash(env, name, content):
    path = write(env, name, content)
    expected = cli_hash(path)
    page = env.page()
    state, shown, method = check_file(env, page, path)
    assert state == "not-anchored", method
    assert (shown, method) == (expected["recordHash"], expected["method"])
    page.context.close()


@pytest.mark.parametrize(
    "name, content",
    [
        ("dup.txt", '{"resourceType": "Patient", "id": "a", "id": "b"}'),  # not JSON: its bytes
        ("big-not-fhir.json", '{"n": 9007199254740993}'),  # JSON, not FHIR: its bytes
        ("big-in-meta.json", '{"resourceType": "Basic", "meta": {"n": 9007199254740993}}'),  # meta dropped
        ("bom.txt", "\ufeff" + json.dumps({"resourceType": "Basic"})),  # BOM: not JSON to either
        ("vt.txt", '\x0b{"resourceType": "Basic"}'),  # leading \v: stripped, then not JSON
        ("neg-zero.json", '{"resourceType": "Basic", "a": -0, "b": -0.0, "c": 1E2, "d": 5e-324}'),
    ],
)
def test_edge_cases_hash_alike(env, name, content):
    path = write(env, name, content)
    expected = cli_hash(path)
    page = env.page()
    _, shown, method = check_file(env, page, path)
    assert (shown, method) == (expected["recordHash"], expected["method"])
    page.context.close()


@pytest.mark.parametrize(
    "name, content, why",
    [
        ("dup.json", '{"resourceType": "Patient", "id": "a", "id": "b"}', "duplicate key"),
        ("big.json", '{"resourceType": "Basic", "n": 9007199254740993}', "2^53"),
        ("deep.json", '{"resourceType": "Basic", "x": ' + "[" * 100 + "]" * 100 + "}", "nested"),
        ("inf.json", '{"resourceType": "Basic", "x": 1e400}', "canonicalised"),
        ("broken.json", '{"resourceType": ', "malformed JSON"),
    ],
)
def test_json_the_tooling_refuses_is_refused_in_the_browser(env, name, content, why):
    path = write(env, name, content)
    result = CliRunner().invoke(cli_app, ["records", "hash", str(path), "--json"])
    assert result.exit_code != 0
    page = env.page()
    state, _, message = check_file(env, page, path)
    assert state == "error" and why in message, message
    page.context.close()


def test_fhir_text_and_meta_do_not_change_the_hash(env):
    bare = {k: v for k, v in FHIR.items() if k not in ("text", "meta")}
    a = write(env, "with-narrative.json", json.dumps(FHIR, ensure_ascii=False))
    b = write(env, "without-narrative.json", json.dumps(bare, ensure_ascii=False, sort_keys=True))
    assert cli_hash(a)["recordHash"] == cli_hash(b)["recordHash"]
    page = env.page()
    assert check_file(env, page, a)[1] == check_file(env, page, b)[1] == cli_hash(a)["recordHash"]
    page.context.close()


def test_pasted_fhir_json(env):
    text = json.dumps(FHIR, ensure_ascii=False, indent=1)
    expected = cli_hash(write(env, "pasted.json", text))
    page = env.page()
    state, shown, method = check_file(env, page, text=text)
    assert (shown, method) == (expected["recordHash"], "sha256+fhir-jcs-static"), state
    page.fill("#fhir-text", '{"no": "resourceType"}')
    page.click("#check-button")
    page.wait_for_selector("body[data-state='error']", state="attached")
    assert "not a FHIR resource" in page.text_content("#message")
    page.context.close()


def test_anchored_record_names_the_hospital(env):
    path = write(env, "lab-report.json", json.dumps(FHIR | {"id": "anchored-1"}, ensure_ascii=False))
    leaf = anchor(env, path)
    page = env.page()
    posted: list[str | None] = []
    page.on("request", lambda request: posted.append(request.post_data) if request.method == "POST" else None)
    state, shown, _ = check_file(env, page, path)
    assert posted == [json.dumps({"recordHash": shown}, separators=(",", ":"))]  # only the hash left the page
    assert state == "anchored" and shown == cli_hash(path)["recordHash"]
    body = page.text_content("#result")
    assert "第一医院 Hospital A" in body and "Single" in body
    (found,) = rs.find_anchors(env.chain.w3, env.chain.suite.records, hash_file(path).record_hash)
    assert found["leaf"] == leaf and found["supersededBy"] is None
    screenshot(page, "check-anchored")
    page.context.close()


def test_superseded_record_shows_its_successor(env):
    old = write(env, "discharge-v1.txt", "出院小结 v1\n")
    new = write(env, "discharge-v2.txt", "出院小结 v2(更正)\n")
    anchor(env, old, "INPATIENT")
    new_leaf = anchor(env, new, "INPATIENT", amends=old)
    page = env.page()
    state, _, _ = check_file(env, page, old)
    assert state == "superseded"
    assert "0x" + new_leaf.hex() in page.text_content("#result")
    screenshot(page, "check-superseded")
    state, _, _ = check_file(env, page, new)
    assert state == "anchored"
    page.context.close()


def test_not_anchored_file(env):
    path = write(env, "never-anchored.bin", b"\x89PNG not on chain")
    page = env.page()
    assert check_file(env, page, path)[0] == "not-anchored"
    assert "Not anchored" in page.text_content("#result")
    screenshot(page, "check-not-anchored")
    page.context.close()


def test_evidence_package_of_a_batch_record(env):
    directory = env.files / "batch"
    directory.mkdir()
    for n in range(3):
        (directory / f"img-{n}.txt").write_text(f"影像报告 {n}\n", encoding="utf-8")
    items = rs.collect_batch_inputs(
        env.svc.journal, env.svc.hospital, directory, patient=PATIENT, data_class="IMAGING"
    )
    rs.anchor_batch(env.svc, items, source="batch")
    evidence = rs.build_evidence(env.svc, rs.one(env.svc.journal, str(directory / "img-1.txt")))
    package = write(env, "img-1.evidence.json", json.dumps(evidence))
    page = env.page()
    page.goto(env.url + "/check")
    page.wait_for_selector("body[data-state='ready']", state="attached")
    page.set_input_files("#evidence-file", str(package))
    outcomes = ("evidence-ok", "evidence-bad", "error")
    page.wait_for_selector(", ".join(f"body[data-state='{s}']" for s in outcomes), state="attached")
    assert page.evaluate("document.body.dataset.state") == "evidence-ok", page.text_content("#message")
    body = page.text_content("#evidence-body")
    assert "Batch" in body and "第一医院 Hospital A" in body and "Matches the chain" in body
    screenshot(page, "check-evidence")
    # a tampered package is refused
    evidence["anchor"]["anchoredAt"] += 1
    bad = write(env, "img-1.tampered.json", json.dumps(evidence))
    page.set_input_files("#evidence-file", str(bad))
    page.wait_for_selector("body[data-state='evidence-bad']", state="attached")
    assert "Does not match the chain" in page.text_content("#evidence-body")
    page.context.close()


def test_portal_my_records_from_an_evidence_package(env):
    path = write(env, "summary.txt", "病历摘要\n")
    anchor(env, path, "SUMMARY")
    evidence = rs.build_evidence(env.svc, rs.one(env.svc.journal, str(path)))
    package = write(env, "summary.evidence.json", json.dumps(evidence))
    page = env.page()
    page.goto(env.url + "/portal")
    page.wait_for_selector("body[data-state='ready']", state="attached")
    page.click("#connect")
    page.wait_for_selector("body[data-state='connected']", state="attached")
    page.set_input_files("#records #evidence-file", str(package))
    page.wait_for_selector("#record-list li[data-ok='true']")
    assert "summary.txt" in page.text_content("#record-list")
    # this portal was started without record gateways (tests/web/test_portal_records.py has them): it says so
    assert page.is_disabled("#gateway-list")
    assert "No hospital publishes a record gateway" in page.text_content("#gateway-records")
    page.locator("#records").scroll_into_view_if_needed()
    screenshot(page, "portal-records")
    page.context.close()
