"""The patient portal in Debian's Chromium (Playwright) against a real Anvil and a real uvicorn server.

The patient is a fresh key with no ETH held by the test EIP-1193 wallet (ethers v6); the portal relays
from Hospital A's node account. Every outcome is read back from the chain, not from the page alone.
Screenshots of each state go to reports/screens/portal-*.png.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from browser_env import Chain, browser, deploy, require_browser, screenshot, serve, wallet_page
from eth_account import Account
from web3 import Web3

from medchain import consent
from medchain import records as rs
from medchain.codes import PURPOSES, parse_classes
from medchain.hashing import hash_file
from medchain.node import Anvil
from medchain.store import open_store
from medchain.web import create_app
from medchain.web.portal import PortalService

PATIENT_KEY = "0x" + "5a" * 32
OWN_TX_KEY = "0x" + "5b" * 32
TREATMENT, CLAIM = PURPOSES["TREATMENT"], PURPOSES["CLAIM"]
LAB_IMAGING = parse_classes("LAB,IMAGING")


@dataclass
class Env:
    chain: Chain
    url: str
    chromium: Any
    service: PortalService

    def page(self, key: str = PATIENT_KEY, chain_id: int | None = None) -> Any:
        return wallet_page(
            self.chromium, key=key, chain_id=chain_id or self.chain.anvil.chain_id, rpc=self.chain.anvil.url
        )

    @property
    def registry(self) -> Any:
        return self.chain.suite.consent

    def permitted(self, patient: str, grantee: str, purpose: int, classes: int) -> bool:
        return bool(self.registry.functions.isPermitted(patient, grantee, purpose, classes).call())

    def nonce(self, patient: str) -> int:
        return int(self.registry.functions.nonces(patient).call())


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    require_browser()
    with Anvil() as node:
        chain = deploy(node)
        store = open_store(tmp_path_factory.mktemp("portal") / "index.sqlite")
        service = PortalService(chain.w3, chain.suite, store, chain.hospital, from_block=chain.deploy_block())
        app = create_app(None, portal=service)
        with serve(app) as url, browser() as chromium:
            yield Env(chain, url, chromium, service)


def connect(env: Env, page: Any) -> str:
    page.goto(env.url + "/portal")
    wait_state(page, "ready")
    page.click("#connect")
    wait_state(page, "connected")
    return str(page.text_content("#account"))


def fill_grant(page: Any, grantee: str, purpose: int, classes: list[str], via: str = "relay") -> None:
    page.select_option("#grantee", grantee)
    page.select_option("#purpose", str(purpose))
    for name in classes:
        page.check(f"#classes input[value='{_bit(name)}']")
    page.check(f"#via-{via}")


def _bit(name: str) -> int:
    return parse_classes(name).bit_length() - 1


def wait_state(page: Any, *states: str) -> str:
    """Wait until the page reaches one of `states` (a CSS selector: wait_for_function would need eval, which
    the page's Content-Security-Policy forbids) and return the one it reached."""
    page.wait_for_selector(
        ", ".join(f"body[data-state='{s}']" for s in states), timeout=60_000, state="attached"
    )
    return str(page.evaluate("document.body.dataset.state"))


def test_connect_shows_account_and_members(env):
    page = env.page()
    account = connect(env, page)
    assert account == Account.from_key(PATIENT_KEY).address
    options = page.eval_on_selector_all("#grantee option", "els => els.map(e => e.textContent)")
    assert any("第一医院 Hospital A" in o for o in options) and any(
        "平安保险 Insurer X" in o for o in options
    )
    assert not any("Health Commission" in o for o in options)  # the council reads no records
    assert "No consent in force" in page.text_content("#consent-list")
    assert page.evaluate("window.__wallet.log").count("eth_requestAccounts") == 1
    screenshot(page, "portal-connected")
    page.context.close()


def test_grant_then_revoke_through_the_relayer(env):
    patient = Account.from_key(PATIENT_KEY).address
    grantee = env.chain.hospital_b
    assert env.chain.w3.eth.get_balance(patient) == 0  # the patient needs no ETH
    page = env.page()
    connect(env, page)
    fill_grant(page, grantee, TREATMENT, ["LAB", "IMAGING"])
    page.click("#grant-button")
    assert wait_state(page, "granted", "error", "expired", "relay-down", "rejected") == "granted", (
        page.text_content("#message")
    )
    assert env.permitted(patient, grantee, TREATMENT, LAB_IMAGING)
    tx_hash = page.text_content("#tx-hash")
    receipt = env.chain.w3.eth.get_transaction_receipt(tx_hash)
    assert receipt["from"] == env.chain.hospital and receipt["status"] == 1  # relayed: the hospital paid
    item = page.locator(f"#consent-list li[data-grantee='{grantee}'][data-purpose='{TREATMENT}']")
    assert item.get_attribute("data-status") == "active"
    assert "LAB, IMAGING" in item.text_content()
    screenshot(page, "portal-granted")

    item.locator("button.revoke").click()
    assert wait_state(page, "revoked", "error", "expired", "relay-down", "rejected") == "revoked", (
        page.text_content("#message")
    )
    assert not env.permitted(patient, grantee, TREATMENT, LAB_IMAGING)
    assert env.chain.w3.eth.get_balance(patient) == 0
    assert page.locator(f"#consent-list li[data-grantee='{grantee}']").count() == 0
    assert page.locator(f"#history-list li[data-grantee='{grantee}'][data-status='revoked']").count() == 1
    screenshot(page, "portal-revoked")
    page.context.close()


def test_own_transaction_grant(env):
    account = Account.from_key(OWN_TX_KEY)
    w3 = env.chain.w3
    w3.eth.send_transaction(
        {"from": env.chain.council, "to": account.address, "value": Web3.to_wei(1, "ether")}
    )
    relayer_nonce = w3.eth.get_transaction_count(env.chain.hospital)
    page = env.page(OWN_TX_KEY)
    connect(env, page)
    fill_grant(page, env.chain.insurer, CLAIM, ["BILLING"], via="wallet")
    page.click("#grant-button")
    assert wait_state(page, "granted", "error", "rejected") == "granted", page.text_content("#message")
    assert env.permitted(account.address, env.chain.insurer, CLAIM, parse_classes("BILLING"))
    sent = page.evaluate("window.__wallet.sent")
    assert page.text_content("#tx-hash") == sent[0]
    assert w3.eth.get_transaction(sent[0])["from"] == account.address
    assert w3.eth.get_transaction_count(env.chain.hospital) == relayer_nonce  # the relayer sent nothing
    page.context.close()


def test_rejected_signature_sends_nothing(env):
    patient = Account.from_key(PATIENT_KEY).address
    nonce = env.nonce(patient)
    relayer_nonce = env.chain.w3.eth.get_transaction_count(env.chain.hospital)
    page = env.page()
    connect(env, page)
    page.evaluate("window.__wallet.reject = true")
    fill_grant(page, env.chain.hospital, RESEARCH := PURPOSES["RESEARCH"], ["GENOMIC"])
    page.click("#grant-button")
    assert wait_state(page, "rejected", "granted", "error") == "rejected", page.text_content("#message")
    assert "nothing was sent" in page.text_content("#message")
    assert "eth_signTypedData_v4" in page.evaluate("window.__wallet.log")
    assert env.nonce(patient) == nonce
    assert env.chain.w3.eth.get_transaction_count(env.chain.hospital) == relayer_nonce
    assert not env.permitted(patient, env.chain.hospital, RESEARCH, parse_classes("GENOMIC"))
    screenshot(page, "portal-rejected")
    page.context.close()


def test_wrong_chain_is_refused_before_signing(env):
    page = env.page(chain_id=1)
    page.goto(env.url + "/portal")
    wait_state(page, "ready")
    page.click("#connect")
    assert wait_state(page, "wrong-chain", "connected") == "wrong-chain", page.text_content("#message")
    text = page.text_content("#message")
    assert "chain 1" in text and f"chain {env.chain.anvil.chain_id}" in text
    assert page.is_hidden("#grant") and page.is_visible("#switch-chain")
    assert "eth_signTypedData_v4" not in page.evaluate("window.__wallet.log")
    screenshot(page, "portal-wrong-chain")
    page.click("#switch-chain")  # the wallet switches; the page follows chainChanged
    assert wait_state(page, "connected") == "connected", page.text_content("#message")
    assert page.is_visible("#grant")
    page.context.close()


def test_expired_deadline_is_not_relayed(env):
    patient = Account.from_key(PATIENT_KEY).address
    nonce = env.nonce(patient)
    relayer_nonce = env.chain.w3.eth.get_transaction_count(env.chain.hospital)
    page = env.page()
    connect(env, page)
    page.evaluate(f"window.__wallet.advanceSeconds = {env.service.ttl + 60}")
    fill_grant(page, env.chain.hospital, TREATMENT, ["SUMMARY"])
    page.click("#grant-button")
    assert wait_state(page, "expired", "granted", "error") == "expired", page.text_content("#message")
    assert "expired" in page.text_content("#message")
    assert env.nonce(patient) == nonce
    assert env.chain.w3.eth.get_transaction_count(env.chain.hospital) == relayer_nonce
    screenshot(page, "portal-expired")
    page.context.close()


def test_relayer_down_relays_nothing(env):
    patient = Account.from_key(PATIENT_KEY).address
    nonce = env.nonce(patient)
    page = env.page()
    connect(env, page)
    page.route("**/api/portal/relay", lambda route: route.abort("connectionrefused"))
    fill_grant(page, env.chain.hospital, TREATMENT, ["OUTPATIENT"])
    page.click("#grant-button")
    assert wait_state(page, "relay-down", "granted", "error") == "relay-down", page.text_content("#message")
    assert "relay cannot be reached" in page.text_content("#message")
    assert len(page.evaluate("window.__wallet.signed")) == 1  # signed, but never relayed
    assert env.nonce(patient) == nonce
    assert not env.permitted(patient, env.chain.hospital, TREATMENT, parse_classes("OUTPATIENT"))
    screenshot(page, "portal-relay-down")
    page.context.close()


def test_disclosures_match_the_chain_and_update_live(env, tmp_path):
    patient = Account.from_key(PATIENT_KEY).address
    chain = env.chain
    page = env.page()
    connect(env, page)
    shown = page.eval_on_selector_all("#disclosure-list li[data-tx]", "els => els.length")
    # Hospital A anchors a lab report of the patient; Hospital B opens break-glass and reads it. Both the
    # opening and the access appear without reloading the page.
    report = tmp_path / "lab.txt"
    report.write_text("血常规 CBC\n", encoding="utf-8")
    suite = chain.suite
    svc_a = rs.RecordService.open(
        chain.w3, suite.records, suite.consortium, open_store(tmp_path / "a.sqlite"), chain.hospital
    )
    rs.anchor_files(svc_a, [hash_file(report)], patient, "LAB")
    opening = rs.opening_of(svc_a, rs.one(svc_a.journal, str(report)))
    consent.open_emergency(env.registry, chain.hospital_b, patient, 1, b"\x01" * 32)
    svc_b = rs.RecordService.open(
        chain.w3, suite.records, suite.consortium, open_store(tmp_path / "b.sqlite"), chain.hospital_b
    )
    rs.log_access(svc_b, opening, "EMERGENCY")
    page.wait_for_selector("#disclosure-list li[data-event='RecordAccessed']", timeout=30_000)
    on_page = page.eval_on_selector_all(
        "#disclosure-list li[data-tx]", "els => els.map(e => [e.dataset.tx, e.dataset.event])"
    )
    assert len(on_page) == shown + 2
    history = consent.history(env.registry, patient, from_block=chain.deploy_block())
    accesses = suite.records.events.RecordAccessed().get_logs(
        argument_filters={"patient": patient}, from_block=chain.deploy_block()
    )
    expected = [(h.tx_hash, h.event) for h in history]
    expected += [(Web3.to_hex(log["transactionHash"]), "RecordAccessed") for log in accesses]
    assert sorted(map(tuple, on_page)) == sorted(expected)
    access = page.text_content("#disclosure-list li[data-event='RecordAccessed']")
    assert "第二医院 Hospital B" in access and "EMERGENCY" in access
    screenshot(page, "portal-disclosures")
    page.context.close()


def test_api_refuses_bad_requests_and_pages_keep_their_csp(env):
    patient = Account.from_key(PATIENT_KEY)
    url = env.url
    assert "script-src 'self'" in httpx.get(url + "/portal").headers["content-security-policy"]
    assert "script-src" not in httpx.get(url + "/").headers["content-security-policy"]  # consumer page
    bad = httpx.post(url + "/api/portal/prepare", content=b"{not json", timeout=30)
    assert bad.status_code == 400 and bad.json()["code"] == "input"
    body = {"action": "grant", "patient": patient.address, "grantee": env.chain.hospital, "purpose": 4,
            "dataClasses": 1}  # fmt: skip
    emergency = httpx.post(url + "/api/portal/prepare", json=body, timeout=30)
    assert emergency.status_code == 400 and "break-glass" in emergency.json()["error"]
    prepared = httpx.post(url + "/api/portal/prepare", json=body | {"purpose": TREATMENT}, timeout=30).json()
    typed = prepared["typedData"]
    assert typed["domain"]["chainId"] == env.chain.anvil.chain_id and typed["message"]["nonce"] == env.nonce(
        patient.address
    )
    # a signature by another key is refused before anything is sent
    other = Account.from_key("0x" + "77" * 32)
    signature = other.sign_typed_data(full_message=typed).signature.hex()
    refused = httpx.post(url + "/api/portal/relay", json={"typedData": typed, "signature": "0x" + signature})
    assert refused.status_code == 400 and "not by the patient" in refused.json()["error"]
    assert not env.permitted(patient.address, env.chain.hospital, TREATMENT, 1)


def test_a_portal_without_relayer_holds_no_key_and_relays_nothing(env, tmp_path):
    service = PortalService(
        env.chain.w3,
        env.chain.suite,
        open_store(tmp_path / "i.sqlite"),
        None,
        from_block=env.chain.deploy_block(),
    )
    with serve(create_app(None, portal=service)) as url:
        assert httpx.get(url + "/api/portal/config").json()["relayer"] is None
        refused = httpx.post(url + "/api/portal/relay", json={"typedData": {}, "signature": "0x"})
        assert refused.status_code == 503 and "send the transaction yourself" in refused.json()["error"]
        page = env.page()
        page.goto(url + "/portal")
        wait_state(page, "ready")
        assert page.is_disabled("#via-relay") and page.is_checked("#via-wallet")
        page.context.close()
