"""Errors of the FHIR API. Each one is answered as an OperationOutcome with its HTTP status:
400 for a request or resource that cannot be understood, 404 for something unknown or not
visible to the caller, 409 and 412 for conflicts with the stored state, 422 for a resource
that breaks a rule of the service."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Issue:
    """One OperationOutcome issue. `code` is a FHIR issue type (invalid, required, value,
    not-found, forbidden, conflict, business-rule, not-supported...); `expression` the
    FHIRPath of the element or the name of the parameter at fault."""

    code: str
    diagnostics: str
    expression: str | None = None
    severity: str = "error"


class FhirError(Exception):
    """An error answered with `status_code` and an OperationOutcome of `issues`."""

    def __init__(
        self,
        status_code: int,
        issues: Issue | Sequence[Issue],
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.status_code = status_code
        self.issues: tuple[Issue, ...] = (issues,) if isinstance(issues, Issue) else tuple(issues)
        self.headers = dict(headers or {})
        super().__init__("; ".join(issue.diagnostics for issue in self.issues))


def invalid(diagnostics: str, expression: str | None = None, *, code: str = "invalid") -> FhirError:
    """400: the request or the resource sent cannot be understood."""
    return FhirError(400, Issue(code, diagnostics, expression))


def not_found(diagnostics: str) -> FhirError:
    return FhirError(404, Issue("not-found", diagnostics))


def unprocessable(issues: Issue | Sequence[Issue]) -> FhirError:
    """422: a well-formed resource that breaks a rule of the service."""
    return FhirError(422, issues)


def business_rule(diagnostics: str, expression: str | None = None) -> FhirError:
    return unprocessable(Issue("business-rule", diagnostics, expression))


def conflict(diagnostics: str, expression: str | None = None) -> FhirError:
    return FhirError(409, Issue("conflict", diagnostics, expression))
