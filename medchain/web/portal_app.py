"""Routes of the patient portal (``/portal``) and the record check page (``/check``), added to the
`medchain web` app by `medchain.web.create_app`.

Pages are server-rendered skeletons (`medchain.web.portal_pages`); their scripts (``static/portal.js``,
``static/check.js``, and ``static/vendor/`` copied from npm at bootstrap) fill them from the JSON API:

- ``GET  /api/portal/config`` — chain id, ConsentRegistry, relayer, purposes, data classes, members
- ``GET  /api/portal/patient/{address}`` — consents in force and history
- ``GET  /api/portal/patient/{address}/disclosures`` — accounting of disclosures (index synced first)
- ``POST /api/portal/prepare`` — typed data to sign, and the calldata of the patient's own transaction
- ``POST /api/portal/relay`` — relay a signed consent from the portal's relayer account
- ``POST /api/portal/gateway/records`` / ``…/gateway/fetch`` — forward the patient's own signed
  RecordListRequest / RecordRequest to a hospital's record gateway; the answer is the gateway's encrypted
  FHIR Binary, opened in the browser (``medchain.web.portal_gateway``)
- ``POST /api/portal/anchored`` — whether a hospital anchored (recordHash, commitment, dataClass)
- ``POST /api/check/hash`` — where a record hash is anchored (``{"recordHash": "0x…"}``)
- ``POST /api/check/evidence`` — an evidence package checked against the chain

Errors are JSON ``{"error": "<one line>", "code": "<kind>"}``: 400 bad input, 409 expired signature, 413 a
body over the endpoint's limit, 422 a contract revert, 429 too many requests from one address (the relay
and gateway endpoints: a token bucket per client address, with Retry-After), 502 a gateway that refused
(code ``gateway-refused``, its one-line reason) or answered nonsense, 503 no relayer / chain or gateway
unreachable (code ``gateway-down`` for a gateway). Files checked on /check never leave the browser: only
their hash is sent; records downloaded on /portal reach this server only as ciphertext.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from medchain.errors import ChainError, ConfigError, ContractRevert, InputError, MedchainError
from medchain.gateway.errors import GatewayRefused, GatewayUnavailable
from medchain.text import check_json_depth
from medchain.web import portal_pages
from medchain.web.portal import PortalService, SignatureExpired
from medchain.web.portal_gateway import PortalGateways
from medchain.web.ratelimit import RateLimit

__all__ = ["SCRIPT_CSP", "Limits", "RecordChecker", "add_check", "add_portal"]

#: pages with scripts: only the app's own files, fetch only to the app itself
SCRIPT_CSP: Final = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
MAX_BODY: Final = 1_000_000
#: a signed consent or gateway request is a few KiB (a gateway takes at most 16 KiB)
MAX_SIGNED_BODY: Final = 16 * 1024

log = logging.getLogger(__name__)

#: record hash (0x hex) -> what the chain says about it; evidence package -> checks
RecordChecker = tuple[Callable[[str], dict[str, Any]], Callable[[dict[str, Any]], dict[str, Any]]]


class BodyTooLarge(InputError):
    """A request body over the endpoint's limit (413)."""


class Limits:
    """Per-address rate limits of the endpoints that make the server act: relaying a consent (the relayer
    pays gas) and forwarding to a record gateway."""

    def __init__(self, relay: RateLimit | None = None, gateway: RateLimit | None = None) -> None:
        self.relay = relay or RateLimit(burst=10, rate=1 / 6)  # 10 at once, then 10 a minute
        self.gateway = gateway or RateLimit(burst=30, rate=1.0)  # a listing and a few dozen downloads


def _page(body: str) -> HTMLResponse:
    return HTMLResponse(body, headers={"Content-Security-Policy": SCRIPT_CSP})


#: error class -> (HTTP status, code), the first match wins (subclasses before their bases)
_STATUS: Final[tuple[tuple[type[Exception], int, str], ...]] = (
    (SignatureExpired, 409, "expired"),
    (BodyTooLarge, 413, "too-large"),
    (GatewayUnavailable, 503, "gateway-down"),
    (GatewayRefused, 502, "gateway-refused"),
    (InputError, 400, "input"),
    (ContractRevert, 422, "revert"),
    (ConfigError, 503, "config"),
    (ChainError, 503, "chain"),
)


def _error(exc: Exception) -> JSONResponse:
    status, code = next(((s, c) for kind, s, c in _STATUS if isinstance(exc, kind)), (500, "internal"))
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


async def _json_body(request: Request, limit: int = MAX_BODY) -> dict[str, Any]:
    """The JSON object body, read no further than `limit` bytes (BodyTooLarge past it)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(f"request body over {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(f"request body over {limit} bytes")
        chunks.append(chunk)
    raw = b"".join(chunks)
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


def _client(request: Request) -> str:
    """The client's address as uvicorn reports it (behind a reverse proxy on this host, uvicorn's proxy
    headers make it the real client's)."""
    return request.client.host if request.client is not None else "unknown"


def _limited(limit: RateLimit, request: Request) -> JSONResponse | None:
    """A 429 answer when this client is over `limit`, else None (one token taken)."""
    wait = limit.take(_client(request))
    if wait is None:
        return None
    seconds = max(1, int(wait + 0.999))
    message = f"too many requests from {_client(request)} ({limit.describe()}): try again in {seconds} s"
    return JSONResponse({"error": message, "code": "rate-limited"}, status_code=429,
                        headers={"Retry-After": str(seconds)})  # fmt: skip


def add_portal(
    app: FastAPI, service: PortalService, gateways: PortalGateways | None = None, limits: Limits | None = None
) -> None:
    """The portal's page and API; `gateways` (None: no RecordRegistry) adds the record gateway relay."""
    limits = limits or Limits()

    @app.get("/portal", response_class=HTMLResponse)
    def portal_page(request: Request) -> Response:
        return _page(portal_pages.portal_page(root=_root(request)))

    @app.get("/api/portal/config")
    def config() -> Response:
        return _answer(lambda: service.config() | {"gateway": gateways.config() if gateways else None})

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
        refused = _limited(limits.relay, request)
        if refused is not None:
            return refused
        try:
            body = await _json_body(request, MAX_SIGNED_BODY)
        except InputError as exc:
            return _error(exc)
        return _answer(lambda: service.relay(body))  # one relay at a time: the relayer's nonce

    @app.post("/api/portal/gateway/{kind}")
    async def gateway_relay(kind: str, request: Request) -> Response:
        if kind not in ("records", "fetch"):
            return _error(InputError(f"/api/portal/gateway/{kind}: use …/records or …/fetch"))
        refused = _limited(limits.gateway, request)
        if refused is not None:
            return refused
        if gateways is None:
            return _error(ConfigError("RecordRegistry is not deployed on this chain: no record gateways"))
        try:
            body = await _json_body(request, MAX_SIGNED_BODY)
        except InputError as exc:
            return _error(exc)
        return await run_in_threadpool(_answer, lambda: gateways.relay(kind, body))

    @app.post("/api/portal/anchored")
    async def anchored(request: Request) -> Response:
        if gateways is None:
            return _error(ConfigError("RecordRegistry is not deployed on this chain"))
        try:
            body = await _json_body(request, MAX_SIGNED_BODY)
        except InputError as exc:
            return _error(exc)
        return await run_in_threadpool(_answer, lambda: gateways.anchored(body))


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
