"""The audit log for administrators: a JSON API (for a SIEM) and a page."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from healthequity.audit import service
from healthequity.audit.schemas import AuditContext, AuditEventOut
from healthequity.auth.dependencies import allow, audit_context
from healthequity.auth.models import Role
from healthequity.auth.schemas import Principal
from healthequity.web.dependencies import get_session
from healthequity.web.navigation import HomeSection, NavItem
from healthequity.web.templating import render

router = APIRouter(tags=["audit"])

ADMINS = frozenset({Role.ADMIN})
NAVIGATION = [NavItem("Audit log", "/admin/audit", ADMINS)]
HOME_SECTIONS = [
    HomeSection(
        "Audit log",
        "Who read or changed what, when and why: every sign-in, every change of an account "
        "or token, and every look at a person's record.",
        "/admin/audit",
        ADMINS,
    )
]
PAGE_SIZE = 200


@router.get("/api/audit/events")
def list_events(
    since: datetime | None = None,
    action: str | None = None,
    subject_type: str | None = None,
    subject_id: str | None = None,
    limit: int = Query(1000, ge=1, le=10_000),
    principal: Principal = allow(Role.ADMIN),
    context: AuditContext = Depends(audit_context),
    session: Session = Depends(get_session, scope="function"),
) -> list[AuditEventOut]:
    """Events, oldest first. Reading the log is itself logged."""
    events = service.list_events(
        session,
        since=since,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        limit=limit,
    )
    service.record_event(session, context.for_purpose("audit review"), "audit.read")
    return [AuditEventOut.model_validate(event) for event in events]


@router.get("/admin/audit", response_class=HTMLResponse, include_in_schema=False)
def audit_page(
    request: Request,
    action: str = "",
    principal: Principal = allow(Role.ADMIN),
    context: AuditContext = Depends(audit_context),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    events = service.list_events(
        session, action=action.strip() or None, limit=PAGE_SIZE, newest_first=True
    )
    service.record_event(session, context.for_purpose("audit review"), "audit.read")
    return render(
        request,
        "audit/events.html",
        {"title": "Audit log", "events": events, "action": action, "page_size": PAGE_SIZE},
    )
