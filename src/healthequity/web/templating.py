"""Jinja2 templates from every capability's `templates/` folder, rendered with the page shell."""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape

from healthequity.web.navigation import HomeSection, NavItem, visible_to
from healthequity.web.security import CSRF_FIELD

# Capabilities with pages; each keeps its templates in `<capability>/templates/<capability>/`.
CAPABILITIES_WITH_PAGES = ("web", "auth", "places")


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
    principal = getattr(request.state, "principal", None)
    navigation: list[NavItem] = request.app.state.navigation
    page_context = {
        "principal": principal,
        "navigation": visible_to(navigation, principal),
        "csrf_field": CSRF_FIELD,
        "csrf_token": request.state.csrf_token,
        **(context or {}),
    }
    return templates.TemplateResponse(request, template, page_context, status_code=status_code)


def home_sections(request: Request) -> list[HomeSection]:
    sections: list[HomeSection] = request.app.state.home_sections
    return visible_to(sections, getattr(request.state, "principal", None))
