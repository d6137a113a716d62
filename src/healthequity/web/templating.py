"""Jinja2 templates from every capability's `templates/` folder, rendered with the page shell."""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from sqlalchemy.exc import SQLAlchemyError

from healthequity.auth.dependencies import SESSION_COOKIE
from healthequity.auth.schemas import Principal
from healthequity.auth.service import principal_for_session
from healthequity.web.dependencies import get_database
from healthequity.web.navigation import HomeSection, NavItem, PersonSection, visible_to
from healthequity.web.security import CSRF_FIELD

# Capabilities with pages; each keeps its templates in `<capability>/templates/<capability>/`.
CAPABILITIES_WITH_PAGES = (
    "web",
    "auth",
    "audit",
    "places",
    "directory",
    "people",
    "letters",
    "referrals",
    "social_history",
)


def _environment() -> Environment:
    loaders = [
        FileSystemLoader(str(files(f"healthequity.{name}").joinpath("templates")))
        for name in CAPABILITIES_WITH_PAGES
    ]
    return Environment(
        loader=ChoiceLoader(loaders), autoescape=select_autoescape(), auto_reload=False
    )


templates = Jinja2Templates(env=_environment())


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> HTMLResponse:
    """Render a page inside the shell: header navigation for the viewer's roles, CSRF token."""
    principal = _viewer(request)
    navigation: list[NavItem] = request.app.state.navigation
    page_context = {
        "principal": principal,
        "navigation": visible_to(navigation, principal),
        "csrf_field": CSRF_FIELD,
        "csrf_token": request.state.csrf_token,
        **(context or {}),
    }
    return templates.TemplateResponse(request, template, page_context, status_code=status_code)


def _viewer(request: Request) -> Principal | None:
    """Who is looking. Routes set it; error pages (a 404 runs no route) look it up here."""
    if not hasattr(request.state, "principal"):
        cookie = request.cookies.get(SESSION_COOKIE)
        request.state.principal = None
        if cookie:
            try:
                with get_database(request).session() as session:
                    request.state.principal = principal_for_session(session, cookie)
            except SQLAlchemyError:
                pass  # an error page must render even when the database is down
    principal: Principal | None = request.state.principal
    return principal


def home_sections(request: Request) -> list[HomeSection]:
    sections: list[HomeSection] = request.app.state.home_sections
    return visible_to(sections, _viewer(request))


def person_sections(request: Request) -> list[PersonSection]:
    sections: list[PersonSection] = request.app.state.person_sections
    return visible_to(sections, _viewer(request))
