"""The NHS.UK design system's stylesheet, served without its web-font declarations.

The stylesheet asks for Frutiger from assets.nhs.uk, a font licensed for NHS.UK sites.
Fetching it would send every page view to a third party, and the Content-Security-Policy
(font-src 'self') refuses it anyway, so the browser reports a violation on every page.
Served without the @font-face rules, the design system's own fallback (Arial) applies and
no request is made.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from healthequity.auth.dependencies import allow_public
from healthequity.auth.schemas import Principal

router = APIRouter(include_in_schema=False)

NHSUK_STYLESHEET = "nhsuk-frontend/dist/nhsuk/nhsuk-frontend.min.css"
_FONT_FACE = re.compile(r"@font-face\s*\{[^}]*\}")


@functools.cache
def stylesheet_without_fonts(path: Path) -> bytes:
    return _FONT_FACE.sub("", path.read_text(encoding="utf-8")).encode()


@router.get("/assets/nhsuk-frontend.css")
def nhsuk_stylesheet(request: Request, principal: Principal | None = allow_public()) -> Response:
    path = request.app.state.settings.assets_dir / NHSUK_STYLESHEET
    if not path.is_file():
        raise HTTPException(404, "the NHS.UK frontend is not installed: run `make assets`")
    return Response(
        stylesheet_without_fonts(path),
        media_type="text/css",
        headers={"Cache-Control": "public, max-age=3600"},
    )
