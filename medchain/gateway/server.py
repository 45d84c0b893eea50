"""The record gateway's HTTP face (FastAPI), shaped after FHIR REST.

Routes (docs/RECORD-EXCHANGE.md)
- ``GET  /metadata`` — a FHIR CapabilityStatement (the gateway's software and operations).
- ``GET  /.well-known/medchain-gateway`` — the EIP-712 domain requests are signed for, the hospital, the
  confirmations it waits for and the longest request lifetime it accepts.
- ``POST /Record/{leaf or record hash}/$fetch`` — a signed RecordRequest in, the record out as a FHIR
  ``Binary`` whose data is the ECIES ciphertext of the record envelope.
- ``POST /Patient/{address}/$records`` — a signed RecordListRequest in, the encrypted listing out.

Every error is a FHIR ``OperationOutcome`` with its HTTP status (400 malformed, 401 signature / signer /
domain / expiry, 403 no access log or no consent, 404 unknown record, 409 replay, 503 chain not readable or
access log not yet confirmed, with Retry-After). Responses are never cached.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from medchain import __version__
from medchain.errors import InputError
from medchain.gateway.errors import Refusal
from medchain.gateway.messages import SignedRequest
from medchain.gateway.service import RecordGateway
from medchain.text import check_json_depth

__all__ = ["FHIR_JSON", "create_app", "operation_outcome"]

FHIR_JSON: Final = "application/fhir+json"
MAX_BODY: Final = 16 * 1024  # a signed request is well under 2 KiB
_HEADERS: Final = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def operation_outcome(status: int, code: str, message: str, retry_after: int | None = None) -> JSONResponse:
    body = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": message}],
    }
    headers = dict(_HEADERS)
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return JSONResponse(body, status_code=status, media_type=FHIR_JSON, headers=headers)


def _fhir(body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(body, media_type=FHIR_JSON, headers=_HEADERS)


async def _signed(request: Request) -> SignedRequest:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise Refusal(413, "too-long", f"request body over {MAX_BODY} bytes")
    try:
        check_json_depth(raw, "request body")
        body = json.loads(raw)
        return SignedRequest.from_json(body)
    except InputError as exc:
        raise Refusal(400, "invalid", str(exc)) from None
    except ValueError as exc:
        raise Refusal(400, "invalid", f"request body is not JSON ({exc})") from None


def create_app(gateway: RecordGateway) -> FastAPI:
    """The gateway app around one :class:`RecordGateway`."""
    app = FastAPI(title="MedChain record gateway", docs_url=None, redoc_url=None, openapi_url=None)

    @app.exception_handler(Refusal)
    async def refused(request: Request, exc: Refusal) -> Response:
        return operation_outcome(exc.status, exc.code, str(exc), exc.retry_after)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "not-found", 405: "not-supported"}.get(exc.status_code, "processing")
        return operation_outcome(exc.status_code, code, f"{request.method} {request.url.path}: {exc.detail}")

    @app.middleware("http")
    async def unexpected(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        try:
            return await call_next(request)
        except Exception as exc:  # never a stack trace to a client
            return operation_outcome(500, "exception", f"internal error ({type(exc).__name__})")

    @app.get("/metadata")
    def metadata() -> Response:
        return _fhir(
            {
                "resourceType": "CapabilityStatement",
                "status": "active",
                "kind": "instance",
                "fhirVersion": "5.0.0",
                "format": ["json"],
                "software": {"name": "MedChain record gateway", "version": __version__},
                "implementation": {"description": f"records anchored by hospital {gateway.member}"},
                "rest": [
                    {
                        "mode": "server",
                        "resource": [
                            {"type": "Binary", "operation": [{"name": "fetch", "definition": "$fetch"}]},
                            {"type": "Patient", "operation": [{"name": "records", "definition": "$records"}]},
                        ],
                    }
                ],
            }
        )

    @app.get("/.well-known/medchain-gateway")
    def well_known() -> Response:
        return JSONResponse(
            {
                "domain": gateway.domain.as_dict(),
                "hospital": gateway.member,
                "confirmations": gateway.confirmations,
                "maxRequestLifetime": gateway.max_lifetime,
            },
            headers=_HEADERS,
        )

    @app.post("/Record/{record_id}/$fetch")
    async def fetch(record_id: str, request: Request) -> Response:
        signed = await _signed(request)
        return _fhir(await run_in_threadpool(gateway.release_record, signed, record_id))

    @app.post("/Patient/{patient}/$records")
    async def records(patient: str, request: Request) -> Response:
        signed = await _signed(request)
        return _fhir(await run_in_threadpool(gateway.release_list, signed, patient))

    return app
