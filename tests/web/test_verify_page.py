"""The consumer verification page through FastAPI's TestClient with a fake lookup (pure Python)."""

from __future__ import annotations

import datetime as dt
import html
import re
import warnings
from pathlib import Path
from typing import Any

import pytest
from web_helpers import CONTRACT, GTIN, STATES, T0, dispensed, lookup_by_serial, pack_path, status, tx

from medchain.errors import ChainError
from medchain.web import create_app
from medchain.web.view import classify

with warnings.catch_warnings():  # starlette 1.x nudges towards httpx2; httpx is what requirements pin
    warnings.simplefilter("ignore", UserWarning)
    from fastapi.testclient import TestClient

RESOLVER = "id.medchain.example"


@pytest.fixture
def client() -> TestClient:
    return TestClient(create_app(lookup_by_serial, RESOLVER))


def _client(lookup: Any, **kwargs: Any) -> TestClient:
    return TestClient(create_app(lookup, RESOLVER, **kwargs))


def _banner(page: str) -> str:
    match = re.search(r'<section class="banner (\w+)" role="status">.*?</section>', page, re.S)
    assert match, "no banner"
    return match.group(0)


# ---- one test per banner state ----------------------------------------------------------------------


@pytest.mark.parametrize("state", list(STATES))
def test_banner_per_state(client, state):
    _, tone, zh, en = STATES[state]
    expiry = "251231" if state == "expired" else "270630"
    response = client.get(pack_path(state, expiry))
    assert response.status_code == (404 if state == "not_found" else 200)
    assert f'<body data-state="{state}">' in response.text
    banner = _banner(response.text)
    assert f'class="banner {tone}"' in banner
    assert html.escape(zh) in banner and html.escape(en) in banner


def test_unknown_pack_is_not_found(client):
    response = client.get(pack_path("NO-SUCH-SERIAL"))
    assert response.status_code == 404
    assert 'data-state="not_found"' in response.text
    assert "NO-SUCH-SERIAL" in response.text  # the scanned data is shown for comparison


def test_duplicate_banner_says_how_often(client):
    page = client.get(pack_path("duplicate")).text
    assert "已被重复售出 2 次" in page
    assert "already dispensed 2 more times" in page
    assert "老百姓大药房 LBX Pharmacy" in _banner(page)


def test_one_duplicate_is_singular():
    client = _client(lambda g, lot, s: dispensed(s, duplicates=1))
    assert "already dispensed 1 more time<" in client.get(pack_path("X")).text


def test_dispensed_banner_names_pharmacy_and_date_in_the_page_time_zone():
    china = dt.timezone(dt.timedelta(hours=8))
    page = _client(lookup_by_serial, tz=china).get(pack_path("dispensed")).text
    assert "2026-01-31 08:00 UTC+8" in _banner(page)
    assert "老百姓大药房 LBX Pharmacy" in _banner(page)


def test_precedence_recalled_first_then_secondary_alerts():
    recalled_everything = dispensed("X", duplicates=3, recalled=True, expired=True)
    assert classify(recalled_everything) == "recalled"
    page = _client(lambda g, lot, s: recalled_everything).get(pack_path("X")).text
    assert 'data-state="recalled"' in page
    alerts = re.findall(r'<section class="alert (\w+)" role="note"><h2>([^<]*)', page)
    assert alerts == [("danger", "已过期"), ("warn", "警告:此药已被重复售出 3 次")]


def test_expiry_on_code_differs_from_registered_batch_warns(client):
    page = client.get(pack_path("genuine", expiry="280101")).text
    assert "有效期不一致" in page and "2028-01-01" in page and "2027-06-30" in page


def test_expiry_query_is_optional(client):
    response = client.get(pack_path("genuine", expiry=None))
    assert response.status_code == 200
    assert "有效期不一致" not in response.text


# ---- page content -------------------------------------------------------------------------------------


def test_product_and_batch_facts_to_compare_with_the_box(client):
    page = client.get(pack_path("genuine")).text
    facts = re.search(r'<dl class="facts">(.*?)</dl>', page, re.S).group(1)
    for value in (
        "阿莫西林胶囊 Amoxicillin capsules 0.25 g × 24",
        GTIN,
        "LOT/42",
        "genuine",
        "2027-06-30",
        "1000",
        "华润医药 CR Pharma (0x1111…1111)",
    ):
        assert html.escape(value) in facts
    for label in ("批号", "Lot", "序列号", "Serial", "有效期至", "Expiry", "生产企业", "Manufacturer"):
        assert label in facts


def test_journey_manufacturer_to_distributor_to_pharmacy_with_dates(client):
    page = client.get(pack_path("dispensed")).text
    journey = re.search(r'<ol class="journey">(.*?)</ol>', page, re.S).group(1)
    kinds = re.findall(r'<li class="(\w+)">', journey)
    assert kinds == ["commission", "ship", "receive", "ship", "receive", "dispense"]
    assert journey.index("华润医药 CR Pharma → 国药控股 Sinopharm") < journey.index(
        "国药控股 Sinopharm → 老百姓大药房 LBX Pharmacy"
    )
    assert "2026-01-03 00:00 UTC" in journey  # first shipment, two days after commissioning
    assert "数量 Qty 200" in journey


def test_on_chain_proof_is_collapsed_details(client):
    page = client.get(pack_path("genuine")).text
    proof = re.search(r'<details class="card proof">(.*?)</details>', page, re.S).group(1)
    assert "<details open" not in page
    assert "链上证明" in proof and "On-chain proof" in proof
    assert CONTRACT in proof and tx(1) in proof and "(block 101)" in proof
    assert "https://id.medchain.example/01/09506000134352/10/LOT%2F42/21/genuine?17=270630" in proof


def test_page_is_bilingual_and_mobile_ready(client):
    page = client.get(pack_path("genuine")).text
    assert '<html lang="zh-CN">' in page
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert 'lang="en"' in page


# ---- the Digital Link path -----------------------------------------------------------------------------


def test_lookup_receives_decoded_values():
    seen = []
    client = _client(lambda g, lot, s: seen.append((g, lot, s)))
    client.get("/01/09506000134352/10/A%2FB%25/21/x%2Ay?17=270630")
    assert seen == [(GTIN, "A/B%", "x*y")]


def test_gtin13_in_link_is_padded():
    seen = []
    _client(lambda g, lot, s: seen.append(g)).get("/01/9506000134352/10/L/21/S")
    assert seen == [GTIN]


def test_malformed_link_is_a_400_with_the_reason(client):
    response = client.get("/01/09506000134353/10/L/21/S")
    assert response.status_code == 400
    assert "bad GTIN check digit" in response.text


def test_link_without_serial_asks_for_the_pack_code(client):
    response = client.get(f"/01/{GTIN}/10/L")
    assert response.status_code == 200
    assert 'data-state="not_pack"' in response.text


def test_chain_failure_is_a_503_page():
    def broken(g: str, lot: str, s: str) -> None:
        raise ChainError("node at http://10.0.0.5:8545 unreachable")

    response = _client(broken).get(pack_path("X"))
    assert response.status_code == 503
    assert "暂时无法查询" in response.text
    assert "10.0.0.5" not in response.text


def test_unexpected_lookup_error_is_a_500_without_details():
    def crash(g: str, lot: str, s: str) -> None:
        raise RuntimeError("secret internals")

    response = _client(crash).get(pack_path("X"))
    assert response.status_code == 500
    assert "secret internals" not in response.text


# ---- escaping -------------------------------------------------------------------------------------------


def test_lot_and_serial_from_the_url_are_escaped():
    # <, >, &, " and ' are all legal in a GS1 lot (character set 82).
    client = _client(lambda g, lot, s: None)
    page = client.get("/01/09506000134352/10/%3Cb%3E%26%22%27/21/%3Cscript%3E").text
    assert "<b>" not in page and "<script>" not in page
    assert "&lt;b&gt;&amp;&quot;&#x27;" in page and "&lt;script&gt;" in page


def test_names_from_the_chain_are_escaped():
    evil = status(
        "X", manufacturer_name="<img src=x onerror=alert(1)>", product_name="<script>alert(1)</script>"
    )
    page = _client(lambda g, lot, s: evil).get(pack_path("X")).text
    assert "<img" not in page and "<script>" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_pasted_scan_is_escaped_in_form_and_error(client):
    response = client.get("/", params={"scan": '"><script>alert(1)</script>'})
    assert response.status_code == 400
    assert "<script>" not in response.text
    assert 'value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in response.text


# ---- the scan form ---------------------------------------------------------------------------------------


def test_home_has_a_get_form(client):
    page = client.get("/").text
    assert '<form method="get" action="/">' in page and 'name="scan"' in page


@pytest.mark.parametrize(
    "scan",
    [
        "(01)09506000134352(17)270630(10)LOT/42(21)genuine",
        "]d201095060001343521727063010LOT/42\x1d21genuine",
        "01095060001343521727063010LOT/42<GS>21genuine",
        "https://elsewhere.example/01/09506000134352/10/LOT%2F42/21/genuine?17=270630",
    ],
)
def test_form_redirects_any_pack_scan_to_its_digital_link_path(client, scan):
    response = client.get("/", params={"scan": scan}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == pack_path("genuine")


def test_form_with_bad_scan_shows_the_reason(client):
    response = client.get("/", params={"scan": "(01)09506000134352(10)ABCDEFGHIJKLMNOPQRSTU"})
    assert response.status_code == 400
    assert "lot too long: 21 characters (max 20)" in response.text


def test_form_with_china_trace_code_explains_it(client):
    response = client.get("/", params={"scan": "81234567890123456789"})
    assert response.status_code == 200
    assert 'data-state="cn_trace_code"' in response.text
    assert "药品标识码 8123456" in response.text


def test_form_rejects_huge_input(client):
    assert client.get("/", params={"scan": "0" * 5000}).status_code == 400


# ---- read-only and headers --------------------------------------------------------------------------------


def test_only_get_is_served(client):
    assert client.post("/", data={"scan": "x"}).status_code == 405
    assert client.post(pack_path("genuine")).status_code == 405


def test_security_headers_and_no_caching_of_status(client):
    response = client.get(pack_path("genuine"))
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert "script-src" not in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_stylesheet_is_served(client):
    response = client.get("/static/verify.css")
    assert response.status_code == 200
    assert ".banner.danger" in response.text


def test_bad_resolver_is_refused_at_start():
    from medchain.errors import InputError

    with pytest.raises(InputError, match="bad resolver"):
        create_app(lookup_by_serial, "not a host")


def test_timestamps_use_block_time():
    assert T0 == int(dt.datetime(2026, 1, 1, tzinfo=dt.UTC).timestamp())


def test_without_drugtrace_packs_are_unavailable_and_the_form_still_works():
    client = TestClient(create_app(None, RESOLVER))
    response = client.get(pack_path("genuine"))
    assert response.status_code == 503 and 'data-state="unavailable"' in response.text
    assert client.get("/").status_code == 200
    assert client.get("/portal").status_code == 404  # no portal without a ConsentRegistry


def test_standalone_page_inlines_the_stylesheet_and_images():
    from medchain.web.pages import standalone

    served = '<link rel="stylesheet" href="/base/static/verify.css"><img alt="x" src="/static/verify.css">'
    page = standalone(served)
    css = (Path(__file__).resolve().parents[2] / "medchain" / "web" / "static" / "verify.css").read_text()
    assert page.startswith("<style>\n") and css.replace("</", "<\\/") in page
    assert '<img alt="x" src="data:text/css;base64,' in page and "/static/" not in page
    assert standalone('<img src="data:image/png;base64,AA==">') == '<img src="data:image/png;base64,AA==">'


@pytest.mark.parametrize("href", ["https://cdn.example/x.css", "/static/../app.py", "/static/missing.css"])
def test_standalone_refuses_what_is_not_one_of_the_apps_static_files(href):
    from medchain.web.pages import standalone

    with pytest.raises(ValueError, match="not one of the app's static files"):
        standalone(f'<link rel="stylesheet" href="{href}">')
