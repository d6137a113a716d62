"""Shell pages: home (a dashboard per role), health check, API documentation."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy import text
from sqlalchemy.orm import Session

from healthequity.auth.dependencies import allow_public
from healthequity.auth.schemas import Principal
from healthequity.web.dependencies import get_session
from healthequity.web.templating import home_sections, render

router = APIRouter()


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def home(
    request: Request,
    principal: Principal | None = allow_public(),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    if principal is None:
        return RedirectResponse("/login", status_code=303)
    sections = home_sections(request)
    cards = [
        (section, section.figure(session, principal) if section.figure is not None else None)
        for section in sections
    ]
    return render(request, "web/home.html", {"sections": cards})


@router.get("/healthz", tags=["platform"])
def healthz(
    principal: Principal | None = allow_public(),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    """Liveness and readiness: answers 200 only if the database answers."""
    try:
        session.execute(text("SELECT 1"))
    except Exception as error:  # any database failure means not ready
        return JSONResponse(
            {"status": "unavailable", "database": type(error).__name__}, status_code=503
        )
    return JSONResponse({"status": "ok", "database": "ok"})


@router.get("/api/docs", response_class=HTMLResponse, include_in_schema=False)
def api_docs(request: Request, principal: Principal | None = allow_public()) -> Response:
    """Swagger UI from the locally installed assets (the CSP allows no third-party script)."""
    context: dict[str, Any] = {"openapi_url": request.app.openapi_url}
    return render(request, "web/api_docs.html", context)
