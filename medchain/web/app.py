"""The consumer verification web app: GS1 Digital Link paths in, a bilingual status page out.

Routes
- ``GET /01/{gtin}/10/{lot}/21/{serial}[?17=YYMMDD]`` — the QR code's own URI when the resolver host
  points here. Parsed from the raw (still percent-encoded) path, so a lot or serial with ``/`` (``%2F``)
  works. Status: 200, or 404 when nothing is on chain, 400 for a malformed link, 503 when the chain
  cannot be asked.
- ``GET /`` — a form to paste a scan (``?scan=...``, any form `medchain.gs1.parse_scan` reads); a pack
  code redirects (303) to its Digital Link path.
- ``GET /static/verify.css``, ``GET /healthz``.
- ``GET /trees/0x<batchId>.json`` — a batch's published serial tree (no serials; medchain.serial_publish),
  when the app is given `trees` (the manufacturer's store): 404 when the store has no tree of that batch.
- ``GET /portal`` (patient portal) and ``GET /check`` (record check page) with their JSON API, when the app
  is given a `PortalService` / record checker: see `medchain.web.portal_app`. Those two pages run scripts
  (the app's own files only, CSP ``script-src 'self'``); the consumer pages stay script-free.

Read-only: the app only calls the `lookup` it is given and holds no keys. All HTML is server-rendered
by `medchain.web.pages` (escaping by construction), with a strict Content-Security-Policy (no scripts).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from medchain.errors import InputError, MedchainError
from medchain.gs1 import (
    DEFAULT_RESOLVER,
    ChinaTraceCode,
    DrugCode,
    build_digital_link,
    parse_drug_code,
    parse_scan,
)
from medchain.web import pages
from medchain.web.view import Alert, Text, build_view

if TYPE_CHECKING:
    from medchain.drugs import DrugStatus
    from medchain.web.portal import PortalService
    from medchain.web.portal_app import Limits, RecordChecker
    from medchain.web.portal_gateway import PortalGateways

__all__ = ["Lookup", "create_app"]

#: (gtin, lot, serial) -> status, or None when the chain knows nothing of the pack
Lookup = Callable[[str, str, str], "DrugStatus | None"]
#: batch id -> its published serial tree document, or None when there is none here
Trees = Callable[[bytes], "dict[str, Any] | None"]

MAX_SCAN: Final = 512
_LOCAL_HOST: Final = "resolver.invalid"
_STATIC: Final = Path(__file__).with_name("static")
_HEADERS: Final = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}

log = logging.getLogger(__name__)


def create_app(
    lookup: Lookup | None,
    resolver: str = DEFAULT_RESOLVER,
    *,
    tz: dt.tzinfo = dt.UTC,
    portal: PortalService | None = None,
    checker: RecordChecker | None = None,
    check_page: bool = False,
    gateways: PortalGateways | None = None,
    limits: Limits | None = None,
    trees: Trees | None = None,
) -> FastAPI:
    """The verification app. `lookup(gtin, lot, serial)` answers from the chain (typically
    ``medchain.drugs.lookup`` bound to a Web3 and the DrugTrace contract; None: no DrugTrace, packs are
    answered "unavailable"); `resolver` is the host the printed QR codes name (shown on the page as the
    canonical link); `tz` is used for dates. `portal` adds the patient portal (with `gateways`, its record
    download through the hospitals' gateways; `limits`, its per-address rate limits), `checker` (or
    `check_page` alone, hashing without lookups) the record check page; `trees` serves published serial
    trees."""
    build_digital_link(DrugCode("09506000134352"), resolver)  # validate the resolver early
    app = FastAPI(title="MedChain drug verification", docs_url=None, redoc_url=None, openapi_url=None)
    app.mount("/static", StaticFiles(directory=_STATIC), name="static")

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        for key, value in _HEADERS.items():
            response.headers.setdefault(key, value)
        if not request.url.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> PlainTextResponse:
        return PlainTextResponse("ok")

    @app.get("/", response_class=HTMLResponse)
    def home(request: Request, scan: str | None = None) -> Response:
        root = _root(request)
        if scan is None or not scan.strip():
            return _html(pages.home_page(root=root))
        if len(scan) > MAX_SCAN:
            return _html(pages.home_page(error=f"scan too long (over {MAX_SCAN} characters)", root=root), 400)
        try:
            code = parse_scan(scan)
        except InputError as exc:
            return _html(pages.home_page(scan=scan, error=str(exc), root=root), 400)
        if isinstance(code, ChinaTraceCode):
            return _html(
                pages.message_page(_trace_code_alert(code), state="cn_trace_code", scan=scan, root=root)
            )
        if not code.is_pack:
            return _html(pages.message_page(_NOT_PACK, state="not_pack", scan=scan, root=root))
        return RedirectResponse(root + _local_path(code), status_code=303)

    @app.get("/01/{rest:path}", response_class=HTMLResponse)
    def digital_link(request: Request, rest: str) -> Response:
        root = _root(request)
        try:
            code = parse_drug_code(_request_uri(request))
        except InputError as exc:
            return _html(pages.home_page(error=str(exc), root=root), 400)
        if code.lot is None or code.serial is None:
            return _html(pages.message_page(_NOT_PACK, state="not_pack", root=root))
        if lookup is None:
            return _html(pages.message_page(_UNAVAILABLE, state="unavailable", root=root), 503)
        try:
            status = lookup(code.gtin, code.lot, code.serial)
        except MedchainError as exc:
            log.warning("lookup failed for %s: %s", code.hri(), exc)
            return _html(pages.message_page(_UNAVAILABLE, state="unavailable", root=root), 503)
        except Exception:
            log.exception("lookup crashed for %s", code.hri())
            return _html(pages.message_page(_UNAVAILABLE, state="unavailable", root=root), 500)
        view = build_view(code, status, tz=tz)
        body = pages.status_page(view, uri=build_digital_link(code, resolver), root=root)
        return _html(body, 404 if view.state == "not_found" else 200)

    if trees is not None:
        serve_tree = trees

        @app.get("/trees/{name}", include_in_schema=False)
        def tree(name: str) -> Response:
            text = name.removesuffix(".json").removeprefix("0x")
            if len(text) != 64 or not name.endswith(".json"):
                return PlainTextResponse("not a tree name: /trees/0x<64 hex digits>.json", 404)
            try:
                doc = serve_tree(bytes.fromhex(text))
            except ValueError:
                return PlainTextResponse("not a tree name: /trees/0x<64 hex digits>.json", 404)
            if doc is None:
                return PlainTextResponse("no published serial tree for this batch here", 404)
            return JSONResponse(doc, headers={"Access-Control-Allow-Origin": "*"})

    if portal is not None:
        from medchain.web.portal_app import add_portal

        add_portal(app, portal, gateways, limits)
    if checker is not None or check_page or portal is not None:
        from medchain.web.portal_app import add_check

        add_check(app, checker)
    return app


def _html(body: str, status_code: int = 200) -> HTMLResponse:
    return HTMLResponse(body, status_code=status_code)


def _root(request: Request) -> str:
    return str(request.scope.get("root_path", "")).rstrip("/")


def _request_uri(request: Request) -> str:
    """The request as a Digital Link URI, path still percent-encoded (``%2F`` stays inside a value)."""
    raw = request.scope.get("raw_path") or request.url.path.encode("utf-8")
    path = raw.decode("latin-1").split("?", 1)[0]
    query = request.scope.get("query_string", b"").decode("latin-1")
    return f"https://{_LOCAL_HOST}{path}" + (f"?{query}" if query else "")


def _local_path(code: DrugCode) -> str:
    return build_digital_link(code, _LOCAL_HOST).removeprefix(f"https://{_LOCAL_HOST}")


def _trace_code_alert(code: ChinaTraceCode) -> Alert:
    return Alert(
        "info",
        Text("这是中国药品追溯码", "This is a China drug trace code"),
        Text(
            f"药品标识码 {code.drug_id},序列号 {code.serial}。20 位药品追溯码请在国家药监局指定的追溯平台"
            "或医保渠道查询;本页面核验药盒上的 GS1 二维码。",
            f"Drug identification code {code.drug_id}, serial {code.serial}. 20-digit trace codes are "
            "checked on the platforms named by the NMPA or through the medical-insurance channels; "
            "this page verifies the GS1 QR code on the pack.",
        ),
    )


_NOT_PACK: Final = Alert(
    "info",
    Text("此代码未包含批号和序列号", "This code has no lot and serial number"),
    Text(
        "它只标识药品,不标识某一盒药。请扫描药盒上含批号和序列号的二维码。",
        "It names the product, not one pack. "
        "Scan the 2D code on the box that carries the lot and serial number.",
    ),
)

_UNAVAILABLE: Final = Alert(
    "warn",
    Text("暂时无法查询", "Verification is unavailable right now"),
    Text(
        "无法连接区块链节点,请稍后再试。", "The blockchain node could not be reached. Please try again later."
    ),
)
