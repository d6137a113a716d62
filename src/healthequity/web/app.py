"""The FastAPI application factory."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from importlib.resources import files

from fastapi import Depends, FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles

from healthequity import __version__
from healthequity.audit import router as audit_router
from healthequity.auth import pages as auth_pages
from healthequity.auth import router as auth_router
from healthequity.config import Settings, load_settings
from healthequity.directory import curator_pages as directory_curator_pages
from healthequity.directory import oruk_router as directory_oruk_router
from healthequity.directory import pages as directory_pages
from healthequity.directory import router as directory_router
from healthequity.places import pages as places_pages
from healthequity.places import router as places_router
from healthequity.store.database import Database
from healthequity.store.migrations import check_schema_current
from healthequity.web import assets as web_assets
from healthequity.web import pages as web_pages
from healthequity.web.errors import error_response, install_error_handlers
from healthequity.web.logging import configure_logging, request_id_var
from healthequity.web.security import (
    CSRF_COOKIE,
    SECURITY_HEADERS,
    STRICT_TRANSPORT_SECURITY,
    new_csrf_token,
    set_csrf_cookie,
    verify_csrf,
)

logger = logging.getLogger("healthequity.web")

# Each capability with pages or APIs; its module gives `router` and may give
# `NAVIGATION` and `HOME_SECTIONS`.
CAPABILITY_MODULES = (
    web_pages,
    web_assets,
    auth_pages,
    auth_router,
    audit_router,
    places_pages,
    places_router,
    directory_pages,
    directory_router,
    directory_oruk_router,
    directory_curator_pages,
)

# Front-end packages from the npm registry, installed by `make` into the assets folder.
VENDOR_ASSETS = {
    "nhsuk": "nhsuk-frontend/dist/nhsuk",
    # The design system's stylesheet refers to its icons at /assets/images/.
    "images": "nhsuk-frontend/dist/nhsuk/assets/images",
    "htmx": "htmx.org/dist",
    "swagger-ui": "swagger-ui-dist",
}

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    """Build the app. The database must be migrated: the app refuses to start otherwise."""
    settings = settings or load_settings()
    database = database or Database(settings.database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        check_schema_current(database.engine)
        logger.info("healthequity started", extra={"version": __version__})
        yield
        database.dispose()

    app = FastAPI(
        title="healthequity",
        version=__version__,
        summary="Social history, closed-loop referral and inequality statistics.",
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
        lifespan=lifespan,
        dependencies=[Depends(verify_csrf)],
    )
    app.state.settings = settings
    app.state.database = database
    app.state.navigation = [
        item for module in CAPABILITY_MODULES for item in getattr(module, "NAVIGATION", [])
    ]
    app.state.home_sections = [
        item for module in CAPABILITY_MODULES for item in getattr(module, "HOME_SECTIONS", [])
    ]
    install_error_handlers(app)
    for module in CAPABILITY_MODULES:
        app.include_router(module.router)

    app.mount(
        "/static", StaticFiles(directory=str(files("healthequity.web") / "static")), name="static"
    )
    for name, folder in VENDOR_ASSETS.items():
        directory = settings.assets_dir / folder
        if directory.is_dir():
            app.mount(f"/assets/{name}", StaticFiles(directory=directory), name=f"assets-{name}")
        else:
            logger.warning(
                "front-end assets missing: run `make assets`", extra={"folder": str(directory)}
            )

    app.middleware("http")(_shell_middleware)
    return app


async def _shell_middleware(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """Request id, CSRF cookie, security headers, one JSON log line per request, and a
    styled 500 page for any unhandled error (the stack trace goes to the log only)."""
    incoming = request.headers.get("x-request-id", "")
    request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
    token = request_id_var.set(request_id)
    request.state.request_id = request_id
    csrf_cookie = request.cookies.get(CSRF_COOKIE)
    request.state.csrf_token = csrf_cookie or new_csrf_token()
    started = time.perf_counter()
    try:
        try:
            response = await call_next(request)
        except Exception:
            logger.exception("unhandled error", extra={"path": request.url.path})
            response = error_response(
                request,
                500,
                "Try again later. If the problem continues, give the support team this "
                f"reference: {request_id}.",
            )
        for header, value in SECURITY_HEADERS.items():
            response.headers.setdefault(header, value)
        response.headers["X-Request-ID"] = request_id
        if not request.url.path.startswith(("/static/", "/assets/")):
            # Pages may show personal data: never kept in a browser or proxy cache.
            response.headers.setdefault("Cache-Control", "no-store")
        if request.url.scheme == "https":
            response.headers.setdefault("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY)
        if csrf_cookie is None:
            set_csrf_cookie(
                response, request.state.csrf_token, secure=request.url.scheme == "https"
            )
        logger.info(
            "request",
            extra={
                "method": request.method,
                "path": request.url.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                "client": request.client.host if request.client else None,
            },
        )
        return response
    finally:
        request_id_var.reset(token)


def create_app_from_environment() -> FastAPI:
    """Entry point for `uvicorn --factory healthequity.web.app:create_app_from_environment`."""
    settings = load_settings()
    configure_logging(settings.log_level)
    return create_app(settings)
