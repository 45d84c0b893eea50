"""The record exchange's failures: a gateway's refusal (server side, with its HTTP status and FHIR issue
code) and what a requester reports (gateway down, refused, a record that fails its anchor check)."""

from __future__ import annotations

from medchain.errors import MedchainError

__all__ = ["GatewayRefused", "GatewayUnavailable", "Refusal", "TamperedRecord"]


class Refusal(MedchainError):
    """The gateway refuses a request: ``status`` is the HTTP status, ``code`` the FHIR IssueType code."""

    def __init__(self, status: int, code: str, message: str, *, retry_after: int | None = None) -> None:
        self.status = status
        self.code = code
        self.retry_after = retry_after
        super().__init__(message)


class GatewayUnavailable(MedchainError):
    """A gateway could not be reached (down, wrong endpoint, timeout)."""


class GatewayRefused(MedchainError):
    """A gateway answered with an OperationOutcome (the status and its diagnostics are in the message)."""

    def __init__(self, message: str, status: int, code: str) -> None:
        self.status = status
        self.code = code
        super().__init__(message)


class TamperedRecord(MedchainError):
    """A gateway served a record whose hash is not the anchored one: nothing was stored."""
