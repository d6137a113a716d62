"""Errors of the audit log."""


class AuditError(Exception):
    """Base class for audit errors."""


class UnknownExportFormat(AuditError):
    """An export format other than csv or jsonl was asked for."""
