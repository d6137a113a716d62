"""Write and read the audit log. `record_event` is the one way in; nothing changes a row."""

from __future__ import annotations

import csv
import json
from datetime import datetime
from typing import IO, Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from healthequity.audit.exceptions import UnknownExportFormat
from healthequity.audit.models import AuditEvent
from healthequity.audit.schemas import AuditContext

EXPORT_FORMATS = ("csv", "jsonl")
EXPORT_COLUMNS = (
    "id",
    "occurred_at",
    "user_id",
    "api_token_id",
    "organisation_id",
    "action",
    "subject_type",
    "subject_id",
    "purpose",
    "request_id",
    "client_address",
    "detail",
)


def record_event(
    session: Session,
    context: AuditContext,
    action: str,
    *,
    subject_type: str | None = None,
    subject_id: str | int | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event. Call it whenever person-level data is read or changed."""
    event = AuditEvent(
        user_id=context.user_id,
        api_token_id=context.api_token_id,
        organisation_id=context.organisation_id,
        action=action,
        subject_type=subject_type,
        subject_id=None if subject_id is None else str(subject_id),
        purpose=context.purpose,
        request_id=context.request_id,
        client_address=context.client_address,
        detail=None if detail is None else json.dumps(detail, sort_keys=True, default=str),
    )
    session.add(event)
    session.flush()
    return event


def _events_query(
    since: datetime | None,
    subject_type: str | None = None,
    subject_id: str | None = None,
    action: str | None = None,
    *,
    newest_first: bool = False,
) -> Select[AuditEvent]:
    order = (AuditEvent.occurred_at, AuditEvent.id)
    query = select(AuditEvent).order_by(*(c.desc() for c in order) if newest_first else order)
    if action is not None:
        query = query.where(AuditEvent.action == action)
    if since is not None:
        query = query.where(AuditEvent.occurred_at >= since)
    if subject_type is not None:
        query = query.where(AuditEvent.subject_type == subject_type)
    if subject_id is not None:
        query = query.where(AuditEvent.subject_id == subject_id)
    return query


def list_events(
    session: Session,
    *,
    since: datetime | None = None,
    subject_type: str | None = None,
    subject_id: str | None = None,
    action: str | None = None,
    limit: int | None = None,
    newest_first: bool = False,
) -> list[AuditEvent]:
    """Events, oldest first unless asked, optionally from `since` on, of one action, or
    about one subject."""
    query = _events_query(since, subject_type, subject_id, action, newest_first=newest_first)
    return list(session.scalars(query.limit(limit)))


def _event_row(event: AuditEvent) -> dict[str, Any]:
    row = {column: getattr(event, column) for column in EXPORT_COLUMNS}
    row["occurred_at"] = event.occurred_at.isoformat()
    return row


def export_events(
    session: Session, output: IO[str], *, since: datetime | None, export_format: str
) -> int:
    """Write events from `since` on to `output` as CSV or JSON lines; return the count."""
    if export_format not in EXPORT_FORMATS:
        raise UnknownExportFormat(
            f"audit export format {export_format!r} is not known: expected one of "
            + ", ".join(EXPORT_FORMATS)
        )
    query = _events_query(since).execution_options(yield_per=1000)
    rows = (_event_row(event) for event in session.scalars(query))
    count = 0
    if export_format == "csv":
        writer = csv.DictWriter(output, fieldnames=EXPORT_COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
            count += 1
    else:
        for row in rows:
            output.write(json.dumps(row, sort_keys=True) + "\n")
            count += 1
    return count
