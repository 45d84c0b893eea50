"""Routes of the patient portal (``/portal``) and the record check page (``/check``), added to the
`medchain web` app by `medchain.web.create_app`.

Pages are server-rendered skeletons (`medchain.web.portal_pages`); their scripts (``static/portal.js``,
``static/check.js``, and ``static/vendor/`` copied from npm at bootstrap) fill them from the JSON API:

- ``GET  /api/portal/config`` — chain id, ConsentRegistry, relayer, purposes, data classes, members
- ``GET  /api/portal/patient/{address}`` — consents in force and history
- ``GET  /api/portal/patient/{address}/disclosures`` — accounting of disclosures (index synced first)
- ``POST /api/portal/prepare`` — typed data to sign, and the calldata of the patient's own transaction
- ``POST /api/portal/relay`` — relay a signed consent from the portal's relayer account
- ``POST /api/check/hash`` — where a record hash is anchored (``{"recordHash": "0x…"}``)
- ``POST /api/check/evidence`` — an evidence package checked against the chain

Errors are JSON ``{"error": "<one line>", "code": "<kind>"}``: 400 bad input, 409 expired signature, 422 a
contract revert, 503 no relayer / chain unreachable. Files checked on /check never leave the browser: only
their hash is sent.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from medchain.errors import ChainError, ConfigError, ContractRevert, InputError, MedchainError
from medchain.text import check_json_depth
from medchain.web import portal_pages
from medchain.web.portal import PortalService, SignatureExpired

__all__ = ["SCRIPT_CSP", "RecordChecker", "add_check", "add_portal"]

#: pages with scripts: only the app's own files, fetch only to the app itself
SCRIPT_CSP: Final = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
MAX_BODY: Final = 1_000_000

log = logging.getLogger(__name__)

#: record hash (0x hex) -> what the chain says about it; evidence package -> checks
RecordChecker = tuple[Callable[[str], dict[str, Any]], Callable[[dict[str, Any]], dict[str, Any]]]


def _page(body: str) -> HTMLResponse:
    return HTMLResponse(body, headers={"Content-Security-Policy": SCRIPT_CSP})


def _error(exc: Exception) -> JSONResponse:
    if isinstance(exc, SignatureExpired):
        status, code = 409, "expired"
    elif isinstance(exc, InputError):
        status, code = 400, "input"
    elif isinstance(exc, ContractRevert):
        status, code = 422, "revert"
    elif isinstance(exc, ConfigError):
        status, code = 503, "config"
    elif isinstance(exc, ChainError):
        status, code = 503, "chain"
    else:
        status, code = 500, "internal"
    return JSONResponse({"error": str(exc).splitlines()[0] if str(exc) else type(exc).__name__, "code": code},
                        status_code=status)  # fmt: skip


def _answer(work: Callable[[], dict[str, Any]]) -> Response:
    try:
        return JSONResponse(work())
    except MedchainError as exc:
        return _error(exc)
    except Exception as exc:
        log.exception("portal request failed")
        return _error(exc)


async def _json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise InputError(f"request body over {MAX_BODY} bytes")
    try:
        check_json_depth(raw, "request body")
        doc = json.loads(raw)
    except ValueError:
        raise InputError("request body is not JSON") from None
    if not isinstance(doc, dict):
        raise InputError("request body must be a JSON object")
    return doc


def _root(request: Request) -> str:
    return str(request.scope.get("root_path", "")).rstrip("/")


def add_portal(app: FastAPI, service: PortalService) -> None:
    @app.get("/portal", response_class=HTMLResponse)
    def portal_page(request: Request) -> Response:
        return _page(portal_pages.portal_page(root=_root(request)))

    @app.get("/api/portal/config")
    def config() -> Response:
        return _answer(service.config)

    @app.get("/api/portal/patient/{address}")
    def patient(address: str) -> Response:
        return _answer(lambda: service.patient(address))

    @app.get("/api/portal/patient/{address}/disclosures")
    def disclosures(address: str) -> Response:
        return _answer(lambda: service.disclosures(address))

    @app.post("/api/portal/prepare")
    async def prepare(request: Request) -> Response:
        try:
            body = await _json_body(request)
        except InputError as exc:
            return _error(exc)
        return _answer(lambda: service.prepare(body))

    @app.post("/api/portal/relay")
    async def relay(request: Request) -> Response:
        try:
            body = await _json_body(request)
        except InputError as exc:
            return _error(exc)
        return _answer(lambda: service.relay(body))


def add_check(app: FastAPI, checker: RecordChecker | None) -> None:
    """The check page; without a `checker` (no RecordRegistry) it still hashes, and says it cannot look up."""

    @app.get("/check", response_class=HTMLResponse)
    def check_page(request: Request) -> Response:
        return _page(portal_pages.check_page(root=_root(request), online=checker is not None))

    @app.post("/api/check/hash")
    async def check_hash(request: Request) -> Response:
        try:
            body = await _json_body(request)
        except InputError as exc:
            return _error(exc)
        if checker is None:
            return _error(ConfigError("RecordRegistry is not deployed on this chain"))
        value = body.get("recordHash")
        if not isinstance(value, str):
            return _error(InputError("recordHash is missing (0x + 64 hex digits)"))
        return _answer(lambda: checker[0](value))

    @app.post("/api/check/evidence")
    async def check_evidence(request: Request) -> Response:
        try:
            body = await _json_body(request)
        except InputError as exc:
            return _error(exc)
        if checker is None:
            return _error(ConfigError("RecordRegistry is not deployed on this chain"))
        return _answer(lambda: checker[1](body))
