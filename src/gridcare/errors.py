"""Domain errors. Each carries a stable code, an HTTP status and a message people can read (zh-CN)."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code = "error"
    status = 400

    def __init__(self, message: str, *, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return {"error": body}


class NotFound(DomainError):
    code = "not_found"
    status = 404


class Conflict(DomainError):
    code = "conflict"
    status = 409


class InvalidInput(DomainError):
    code = "invalid_input"
    status = 422


class AuthenticationFailed(DomainError):
    code = "authentication_failed"
    status = 401


class PermissionDenied(DomainError):
    code = "permission_denied"
    status = 403


class TooManyAttempts(DomainError):
    code = "too_many_attempts"
    status = 429

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ServiceBusy(TooManyAttempts):
    """A bounded resource (the PDF printer) stayed busy: try again later."""

    code = "busy"
    status = 503
