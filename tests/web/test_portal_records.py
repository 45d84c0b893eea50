"""The portal's "My records" download through a hospital's record gateway, in Debian's Chromium (Playwright),
against a real Anvil, a real gateway (`medchain.gateway` under uvicorn) and the real portal server.

Hospital A publishes its gateway's URI in Consortium and serves an export of the patient's records (a
binary file, a FHIR Observation with Chinese text, a two-file IMAGING batch); Hospital B publishes a URI
where nothing listens. The test wallet (ethers v6) signs the gateway's EIP-712 requests; the page decrypts
with eciesjs and checks every record before offering it. Every outcome is checked on the gateway's side too
(its request count and release log). Screenshots: reports/screens/portal-records-*.png.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser_env import ROOT, SCREENS, Chain, browser, deploy, require_browser, screenshot, serve, wallet_page
from eth_account import Account
from fastapi import Request

from medchain import consortium
from medchain import records as rs
from medchain.gateway import crypto
from medchain.gateway.catalogue import Catalogue
from medchain.gateway.messages import SignedRequest, typed_data
from medchain.gateway.server import create_app as gateway_app
from medchain.gateway.service import RecordGateway
from medchain.hashing import hash_file
from medchain.journal import Journal
from medchain.node import Anvil, free_port
from medchain.store import open_store
from medchain.web import create_app
from medchain.web.portal import PortalService
from medchain.web.portal_app import Limits
from medchain.web.portal_gateway import PortalGateways
from medchain.web.ratelimit import RateLimit

PATIENT_KEY = "0x" + "6c" * 32
OTHER_KEY = "0x" + "6d" * 32
BUNDLE = ROOT / "medchain" / "web" / "static" / "vendor" / "gateway-crypto.js"
OBSERVATION = {
    "resourceType": "Observation",
    "id": "hba1c-1",
    "status": "final",
    "code": {"text": "糖化血红蛋白 HbA1c"},
    "valueQuantity": {"value": 6.1, "unit": "%"},
    "text": {"status": "generated", "div": "<div>HbA1c 6.1 %</div>"},
}


@dataclass
class Env:
    chain: Chain
    url: str
    chromium: Any
    gateway: RecordGateway
    export: Path
    files: dict[str, Path]
    posts: list[str] = field(default_factory=list)  # paths POSTed to hospital A's gateway

    def page(self, key: str = PATIENT_KEY) -> Any:
        return wallet_page(
            self.chromium, key=key, chain_id=self.chain.anvil.chain_id, rpc=self.chain.anvil.url
        )

    def released(self) -> int:
        return int(self.gateway.journal.conn.execute("SELECT COUNT(*) FROM gateway_releases").fetchone()[0])


def _export(base: Path) -> dict[str, Path]:
    export = base / "export-a"
    (export / "imaging").mkdir(parents=True)
    files = {
        "binary": export / "ecg-2026-03.bin",
        "fhir": export / "hba1c.json",
        "doomed": export / "lab-removed-later.txt",
        "ct0": export / "imaging" / "ct-0.dcm",
        "ct1": export / "imaging" / "ct-1.dcm",
    }
    files["binary"].write_bytes(bytes(range(256)) + os.urandom(300))
    files["fhir"].write_text(json.dumps(OBSERVATION, ensure_ascii=False, indent=2), encoding="utf-8")
    files["doomed"].write_text("Ferritin 80 ug/L\n")
    files["ct0"].write_bytes(os.urandom(200))
    files["ct1"].write_bytes(os.urandom(200))
    return files


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    require_browser()
    if not BUNDLE.is_file():
        pytest.skip(f"missing {BUNDLE.relative_to(ROOT)}: run make bootstrap (esbuild bundles eciesjs)")
    base = tmp_path_factory.mktemp("portal-records")
    patient = Account.from_key(PATIENT_KEY).address
    with Anvil() as node:
        chain = deploy(node)
        files = _export(base)
        store = base / "a.sqlite"
        svc = rs.RecordService.open(chain.w3, chain.suite.records, chain.suite.consortium, open_store(store),
                                    chain.hospital)  # fmt: skip
        singles = [hash_file(files[n]) for n in ("binary", "fhir", "doomed")]
        rs.anchor_files(svc, singles, patient, "LAB")
        items = rs.collect_batch_inputs(svc.journal, svc.hospital, files["ct0"].parent, patient=patient,
                                        data_class="IMAGING")  # fmt: skip
        rs.anchor_batch(svc, items)
        journal = Journal(open_store(store), chain.w3.eth.chain_id, chain.suite.records.address)
        suite = chain.suite
        gateway = RecordGateway(chain.w3, suite.records, suite.consortium, suite.require("consent"), journal,
                                chain.hospital, Catalogue(files["binary"].parent))  # fmt: skip
        gateway.refresh()
        app = gateway_app(gateway)
        posts: list[str] = []

        @app.middleware("http")
        async def count(request: Request, call_next: Any) -> Any:
            if request.method == "POST":
                posts.append(request.url.path)
            return await call_next(request)

        deploy_block = chain.deploy_block()
        with serve(app) as gateway_url, browser() as chromium:
            consortium.update_profile(suite.consortium, chain.hospital, "第一医院 Hospital A", gateway_url)
            down = f"http://127.0.0.1:{free_port()}"  # Hospital B's gateway: nothing listens there
            consortium.update_profile(suite.consortium, chain.hospital_b, "第二医院 Hospital B", down)
            service = PortalService(chain.w3, suite, open_store(base / "index.sqlite"), chain.hospital,
                                    from_block=deploy_block)  # fmt: skip
            gateways = PortalGateways(chain.w3, suite, from_block=deploy_block)
            with serve(create_app(None, portal=service, gateways=gateways)) as url:
                yield Env(chain, url, chromium, gateway, files["binary"].parent, files, posts)


def shoot(page: Any, name: str) -> None:
    """The whole page (reports/screens/<name>.png) and, to read at a glance, the message and the records card
    alone (<name>-message.png, <name>-card.png)."""
    screenshot(page, name)
    if page.locator("#message section").count():
        page.locator("#message").screenshot(path=str(SCREENS / f"{name}-message.png"))
    page.locator("#records").screenshot(path=str(SCREENS / f"{name}-card.png"))


def wait_state(page: Any, *states: str) -> str:
    page.wait_for_selector(
        ", ".join(f"body[data-state='{s}']" for s in states), timeout=60_000, state="attached"
    )
    return str(page.evaluate("document.body.dataset.state"))


def connect_and_list(env: Env, page: Any, hospital: str | None = None) -> str:
    page.goto(env.url + "/portal")
    wait_state(page, "ready")
    page.click("#connect")
    wait_state(page, "connected")
    page.select_option("#gateway-hospital", hospital or env.chain.hospital)
    page.click("#gateway-list")
    return wait_state(page, "listed", "gateway-down", "gateway-refused", "verify-failed", "rejected", "error")


def item(page: Any, path: Path) -> Any:
    return page.locator(f"#gateway-records li[data-record-hash='0x{hash_file(path).record_hash.hex()}']")


def download(page: Any, path: Path) -> bytes:
    row = item(page, path)
    row.locator("button.download").click()
    assert wait_state(page, "downloaded", "gateway-refused", "verify-failed", "error") == "downloaded", (
        page.text_content("#message")
    )
    with page.expect_download() as info:
        row.locator("a.save").click()
    saved = info.value
    assert saved.suggested_filename.startswith("0x" + hash_file(path).record_hash.hex())
    return Path(saved.path()).read_bytes()


def download_after(page: Any, path: Path, change: Callable[[Path], Any], expected: str) -> Any:
    """Clicks the download of `path` once `change` has altered the hospital's copy (put back afterwards);
    the page must reach `expected`. Returns the record's row."""
    row, data = item(page, path), path.read_bytes()
    change(path)
    try:
        row.locator("button.download").click()
        reached = wait_state(page, expected, "downloaded", "error")
    finally:
        path.write_bytes(data)
    assert reached == expected, page.text_content("#message")
    return row


def test_patient_lists_and_downloads_own_records_verified_in_the_browser(env: Env) -> None:
    page = env.page()
    traffic: list[Any] = []  # every exchange of the page with the portal server
    page.on("requestfinished", lambda request: traffic.append(request))
    assert connect_and_list(env, page) == "listed", page.text_content("#message")
    assert page.locator("#gateway-records li.record").count() == 5
    assert "5 record" in page.text_content("#message")
    shoot(page, "portal-records-listed")
    for name in ("binary", "fhir", "ct1"):
        content = download(page, env.files[name])
        assert content == env.files[name].read_bytes(), name
        assert hash_file(env.files[name]).record_hash.hex() in item(page, env.files[name]).get_attribute(
            "data-record-hash"
        )
        assert item(page, env.files[name]).get_attribute("data-verified") == "true"
    assert "batch-anchored" in item(page, env.files["ct1"]).text_content()
    # the portal server saw ciphertext only: no record's bytes (raw or base64) in anything sent or answered
    api = [r for r in traffic if "/api/portal/" in r.url]
    seen = b"".join((r.post_data_buffer or b"") + r.response().body() for r in api)
    assert any("/api/portal/gateway/fetch" in r.url for r in api)
    for name in ("binary", "fhir", "ct1"):
        content = env.files[name].read_bytes()
        assert content[:40] not in seen and crypto.b64(content)[:40].encode() not in seen, name
    shoot(page, "portal-records-downloaded")
    # what the wallet signed is exactly the typed data the Python side builds and the gateway checks
    signed = page.evaluate("window.__wallet.signed")
    assert [s["primaryType"] for s in signed] == ["RecordListRequest"] + ["RecordRequest"] * 3
    patient = Account.from_key(PATIENT_KEY).address
    for doc in signed:
        request = SignedRequest.from_json({"typedData": doc, "signature": "0x" + "00" * 65})
        assert typed_data(request.request, request.domain) == doc
        assert request.request.requester == patient and len(request.request.response_key) == 33
    assert signed[1]["message"]["accessTx"] == "0x" + "00" * 32
    assert len({d["message"]["responseKey"] for d in signed}) == 4  # a fresh key per request
    rows = env.gateway.journal.conn.execute(
        "SELECT kind, requester, signer FROM gateway_releases WHERE requester = ?", (patient,)
    ).fetchall()
    assert sorted(r[0] for r in rows)[-4:] == ["list", "record", "record", "record"]
    assert all(r[1] == r[2] == patient for r in rows)
    page.context.close()


def test_rejected_signature_sends_nothing_to_the_gateway(env: Env) -> None:
    page = env.page()
    assert connect_and_list(env, page) == "listed", page.text_content("#message")
    posts, released = len(env.posts), env.released()
    page.evaluate("window.__wallet.reject = true")
    item(page, env.files["binary"]).locator("button.download").click()
    assert wait_state(page, "rejected", "downloaded", "error") == "rejected", page.text_content("#message")
    assert "nothing was sent" in page.text_content("#message")
    assert page.evaluate("window.__wallet.log").count("eth_signTypedData_v4") == 2
    assert len(env.posts) == posts and env.released() == released  # the gateway heard nothing
    assert item(page, env.files["binary"]).locator("a.save").count() == 0
    shoot(page, "portal-records-rejected")
    page.context.close()


def test_gateway_down_is_a_message_and_nothing_is_listed(env: Env) -> None:
    page = env.page()
    assert connect_and_list(env, page, env.chain.hospital_b) == "gateway-down", page.text_content("#message")
    text = page.text_content("#message")
    assert "Hospital B's record gateway cannot be reached" in text and "nothing was downloaded" in text
    assert page.locator("#gateway-records li.record").count() == 0
    shoot(page, "portal-records-gateway-down")
    page.context.close()


def test_gateway_refusal_shows_its_one_line_reason(env: Env) -> None:
    page = env.page()
    assert connect_and_list(env, page) == "listed", page.text_content("#message")
    # the hospital's export lost the file after listing it
    row = download_after(page, env.files["doomed"], Path.unlink, "gateway-refused")
    text = page.text_content("#message")
    assert "Hospital A's record gateway refused the request" in text
    assert "(404): record 0x" in text and "no longer in this hospital's export" in text
    assert row.locator("a.save").count() == 0
    shoot(page, "portal-records-refused")
    page.context.close()


def test_record_altered_at_the_hospital_fails_its_hash_check_in_the_browser(env: Env) -> None:
    page = env.page()
    assert connect_and_list(env, page) == "listed", page.text_content("#message")
    doomed = env.files["doomed"]
    # altered after anchoring: the gateway serves it (encrypted), the browser finds it is not the anchored one
    row = download_after(page, doomed, lambda p: p.write_text("Ferritin 8 ug/L\n"), "verify-failed")
    text = page.text_content("#message")
    anchored = "0x" + hash_file(doomed).record_hash.hex()
    assert "nothing was saved" in text and f"not to the anchored {anchored}" in text
    assert row.locator("a.save").count() == 0
    page.context.close()


def test_altered_answer_fails_decryption_and_nothing_is_offered(env: Env) -> None:
    page = env.page()
    assert connect_and_list(env, page) == "listed", page.text_content("#message")

    def tamper(route: Any) -> None:
        answer = route.fetch()
        body = answer.json()
        raw = bytearray(crypto.unb64(body["data"], "data"))
        raw[-1] ^= 0x01  # one bit of the AES-GCM ciphertext
        route.fulfill(response=answer, json=body | {"data": crypto.b64(bytes(raw))})

    page.route("**/api/portal/gateway/fetch", tamper)
    row = item(page, env.files["fhir"])
    row.locator("button.download").click()
    reached = wait_state(page, "verify-failed", "downloaded", "error")
    assert reached == "verify-failed", page.text_content("#message")
    assert "cannot be decrypted with this request's key" in page.text_content("#message")
    assert row.locator("a.save").count() == 0 and row.get_attribute("data-verified") is None
    shoot(page, "portal-records-verify-failed")
    page.context.close()


def test_ecies_interop_between_eciespy_and_the_bundled_eciesjs(tmp_path: Path) -> None:
    """The browser's bundle (eciesjs) opens what the gateway (eciespy) sends, and the other way round."""
    if not BUNDLE.is_file():
        pytest.skip(f"missing {BUNDLE.relative_to(ROOT)}: run make bootstrap")
    module = tmp_path / "gateway-crypto.mjs"
    module.write_bytes(BUNDLE.read_bytes())
    python_key = crypto.ResponseKey.generate()
    from_python = crypto.encrypt(python_key.public, "病历 record ✓".encode())
    script = f"""
import {{ PrivateKey, decrypt, encrypt }} from {json.dumps(str(module))};
const hex = b => Buffer.from(b).toString('hex');
const theirs = decrypt('{python_key.secret.hex()}', Buffer.from('{from_python.hex()}', 'hex'));
const key = new PrivateKey();
const mine = encrypt(key.publicKey.toHex(true), new TextEncoder().encode('浏览器 browser ✓'));
const theirsText = new TextDecoder().decode(theirs);
console.log(JSON.stringify({{ theirs: theirsText, secret: key.toHex(), mine: hex(mine) }}));
"""
    command = ["node", "--input-type=module", "-e", script]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["theirs"] == "病历 record ✓"
    mine = bytes.fromhex(out["mine"])
    size = len("浏览器 browser ✓".encode())
    assert mine[0] == 4 and len(mine) == 65 + 16 + 16 + size  # eciespy 0.4: key, nonce, tag, ciphertext
    assert crypto.decrypt(bytes.fromhex(out["secret"]), mine).decode() == "浏览器 browser ✓"


def test_gateway_and_consent_relays_are_rate_limited_per_address_with_bounded_bodies(
    env: Env, tmp_path: Path
) -> None:
    limits = Limits(relay=RateLimit(burst=2, rate=0.01), gateway=RateLimit(burst=3, rate=0.01))
    chain = env.chain
    store = open_store(tmp_path / "index.sqlite")
    portal = PortalService(chain.w3, chain.suite, store, None, from_block=chain.deploy_block())
    gateways = PortalGateways(chain.w3, chain.suite, from_block=chain.deploy_block())
    with serve(create_app(None, portal=portal, gateways=gateways, limits=limits)) as url:
        junk = {"hospital": "0x12"}
        answers = [httpx.post(url + "/api/portal/gateway/records", json=junk) for _ in range(4)]
        assert [a.status_code for a in answers] == [400, 400, 400, 429]
        refused = answers[-1]
        assert refused.json()["code"] == "rate-limited" and int(refused.headers["Retry-After"]) >= 1
        assert "too many requests from 127.0.0.1" in refused.json()["error"]
        assert "\n" not in refused.json()["error"]
        relays = [httpx.post(url + "/api/portal/relay", json={}) for _ in range(3)]
        assert [a.status_code for a in relays] == [503, 503, 429]  # (this portal relays nothing: 503)
    with serve(create_app(None, portal=portal, gateways=gateways)) as url:
        big = httpx.post(url + "/api/portal/gateway/fetch", content=b"{" + b" " * 20_000 + b"}")
        assert big.status_code == 413 and "over 16384 bytes" in big.json()["error"]
        big = httpx.post(url + "/api/portal/relay", content=b"{" + b" " * 20_000 + b"}")
        assert big.status_code == 413


def test_relay_forwards_only_the_patients_own_requests_to_consortium_gateways(env: Env) -> None:
    patient, other = Account.from_key(PATIENT_KEY), Account.from_key(OTHER_KEY)
    config = httpx.get(env.url + "/api/portal/config").json()["gateway"]
    assert [h["hospital"] for h in config["hospitals"]] == [env.chain.hospital, env.chain.hospital_b]
    key = "0x" + crypto.ResponseKey.generate().public.hex()
    message = {"requester": patient.address, "patient": patient.address, "purpose": 1, "responseKey": key,
               "requestId": "0x" + "ab" * 32, "expiresAt": 2**40}  # fmt: skip
    doc = {"types": {"EIP712Domain": config["types"]["EIP712Domain"],
                     "RecordListRequest": config["types"]["RecordListRequest"]},
           "primaryType": "RecordListRequest", "domain": config["domain"], "message": message}  # fmt: skip
    posts = len(env.posts)
    forged = "0x" + other.sign_typed_data(full_message=doc).signature.hex()
    body = {"hospital": env.chain.hospital, "typedData": doc, "signature": forged}
    answer = httpx.post(env.url + "/api/portal/gateway/records", json=body)
    assert answer.status_code == 400 and f"signed by {other.address}" in answer.json()["error"]
    stranger = body | {"hospital": env.chain.insurer}
    answer = httpx.post(env.url + "/api/portal/gateway/records", json=stranger)
    assert answer.status_code == 400 and "not an active Consortium hospital" in answer.json()["error"]
    assert len(env.posts) == posts  # nothing reached the gateway
    signature = "0x" + patient.sign_typed_data(full_message=doc).signature.hex()
    far = httpx.post(env.url + "/api/portal/gateway/records", json=body | {"signature": signature})
    assert far.status_code == 502 and far.json()["code"] == "gateway-refused"
    assert "(400): request expires" in far.json()["error"]  # the gateway's own one-line reason
    assert len(env.posts) == posts + 1


def test_rate_limit_refills_and_keeps_a_bounded_table() -> None:
    now = [0.0]
    limit = RateLimit(burst=2, rate=0.5, max_clients=3, clock=lambda: now[0])
    assert limit.take("a") is None and limit.take("a") is None
    assert limit.take("a") == pytest.approx(2.0)  # one token comes back every 2 s
    now[0] = 1.0
    assert limit.take("a") == pytest.approx(1.0)
    now[0] = 2.0
    assert limit.take("a") is None
    assert limit.take("b") is None  # another address has its own bucket
    for client in ("c", "d", "e"):
        limit.take(client)
    assert len(limit._buckets) == 3  # the table is bounded; quiet clients are forgotten first
    with pytest.raises(ValueError):
        RateLimit(burst=0, rate=1)


def test_gateway_override_and_cli_option(env: Env) -> None:
    from medchain.cli.web import _overrides
    from medchain.errors import InputError

    overrides = _overrides([f"{env.chain.hospital_b}=http://10.9.8.7:8081/"])
    gateways = PortalGateways(env.chain.w3, env.chain.suite, from_block=env.chain.deploy_block(),
                              overrides=overrides)  # fmt: skip
    urls = {g.hospital: g.url for g in gateways.gateways()}
    assert urls[env.chain.hospital_b] == "http://10.9.8.7:8081"
    assert urls[env.chain.hospital].startswith("http://127.0.0.1:")  # the published URI
    with pytest.raises(InputError, match="MEMBER=URL"):
        _overrides(["http://10.9.8.7:8081"])
    with pytest.raises(InputError, match="must start with http"):
        PortalGateways(env.chain.w3, env.chain.suite, overrides={env.chain.hospital: "ftp://x"})


def test_web_serve_wires_the_gateways_and_the_override(
    env: Env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`medchain web serve --gateway MEMBER=URL` on the real chain: the app it hands to uvicorn lists the
    hospitals' gateways with the RecordRegistry's EIP-712 domain and uses the override."""
    import warnings

    from typer.testing import CliRunner

    with warnings.catch_warnings():  # starlette nudges towards httpx2; httpx is what requirements pin
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    from medchain.cli import app as cli
    from medchain.deploy import write_manifest

    manifest = tmp_path / "manifest.json"
    write_manifest(env.chain.manifest, manifest)
    captured: dict[str, Any] = {}
    monkeypatch.setattr("uvicorn.run", lambda app, **kwargs: captured.update(app=app))
    elsewhere = f"http://127.0.0.1:{free_port()}"  # nothing listens: the override is what is used
    args = ["--rpc-url", env.chain.anvil.url, "--manifest", str(manifest), "web", "serve", "--store",
            str(tmp_path / "index.sqlite"), "--gateway", f"{env.chain.hospital}={elsewhere}"]  # fmt: skip
    result = CliRunner().invoke(cli, args, env={"MEDCHAIN_HOME": str(tmp_path / "home")})
    assert result.exit_code == 0, result.output
    client = TestClient(captured["app"])
    config = client.get("/api/portal/config").json()["gateway"]
    assert config["domain"]["verifyingContract"] == env.chain.suite.records.address
    assert config["types"]["RecordRequest"][3] == {"name": "accessTx", "type": "bytes32"}
    patient = Account.from_key(PATIENT_KEY)
    key = "0x" + crypto.ResponseKey.generate().public.hex()
    message = {"requester": patient.address, "patient": patient.address, "purpose": 1, "responseKey": key,
               "requestId": "0x" + os.urandom(32).hex(), "expiresAt": 2**40}  # fmt: skip
    doc = {"types": {"EIP712Domain": config["types"]["EIP712Domain"],
                     "RecordListRequest": config["types"]["RecordListRequest"]},
           "primaryType": "RecordListRequest", "domain": config["domain"], "message": message}  # fmt: skip
    signature = "0x" + patient.sign_typed_data(full_message=doc).signature.hex()
    posts = len(env.posts)
    body = {"hospital": env.chain.hospital, "typedData": doc, "signature": signature}
    down = client.post("/api/portal/gateway/records", json=body)
    assert down.status_code == 503 and down.json()["code"] == "gateway-down"
    assert len(env.posts) == posts  # the published gateway was not asked: the override was
