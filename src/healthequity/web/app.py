"""The FastAPI application factory."""

from __future__ import annotations

import logging
import re
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from importlib.resources import files

from fastapi import Depends, FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from healthequity import __version__
from healthequity.audit import router as audit_router
from healthequity.auth import pages as auth_pages
from healthequity.auth import router as auth_router
from healthequity.config import Settings, load_settings
from healthequity.directory import curator_pages as directory_curator_pages
from healthequity.directory import oruk_router as directory_oruk_router
from healthequity.directory import pages as directory_pages
from healthequity.directory import router as directory_router
from healthequity.directory import search_index
from healthequity.fhir_api import router as fhir_router
from healthequity.letters import pages as letters_pages
from healthequity.letters import router as letters_router
from healthequity.people import pages as people_pages
from healthequity.people import router as people_router
from healthequity.places import pages as places_pages
from healthequity.places import router as places_router
from healthequity.referrals import admin_pages as referrals_admin_pages
from healthequity.referrals import manage_pages as referrals_manage_pages
from healthequity.referrals import pages as referrals_pages
from healthequity.social_history import pages as social_history_pages
from healthequity.store.database import Database
from healthequity.store.migrations import check_schema_current
from healthequity.web import assets as web_assets
from healthequity.web import pages as web_pages
from healthequity.web.errors import error_response, install_error_handlers
from healthequity.web.logging import PathRedactor, configure_logging, request_id_var
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
# `NAVIGATION`, `HOME_SECTIONS`, `PERSON_SECTIONS` and `SECRET_PATH_PREFIXES` (paths whose
# next segment is a secret, which the request log hides).
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
    people_pages,
    people_router,
    social_history_pages,
    referrals_pages,
    referrals_manage_pages,
    referrals_admin_pages,
    letters_pages,
    letters_router,
    fhir_router,
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


def create_app(
    settings: Settings | None = None,
    database: Database | None = None,
    *,
    warm_up: bool = False,
) -> FastAPI:
    """Build the app. The database must be migrated: the app refuses to start otherwise.

    With `warm_up`, the directory's search index is built in the background at start, so
    that the first searches do not wait for it.
    """
    settings = settings or load_settings()
    database = database or Database(settings.database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        check_schema_current(database.engine)
        logger.info("healthequity started", extra={"version": __version__})
        if warm_up:
            threading.Thread(
                target=search_index.warm, args=(database,), name="warm-up", daemon=True
            ).start()
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
    app.state.person_sections = [
        item for module in CAPABILITY_MODULES for item in getattr(module, "PERSON_SECTIONS", [])
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

    secret_prefixes = [
        prefix
        for module in CAPABILITY_MODULES
        for prefix in getattr(module, "SECRET_PATH_PREFIXES", ())
    ]
    app.add_middleware(ShellMiddleware, logged_path=PathRedactor(secret_prefixes))
    return app


class ShellMiddleware:
    """Request id, CSRF cookie, security headers, one JSON log line per request, and a
    styled 500 page for any unhandled error (the stack trace goes to the log only).

    Plain ASGI rather than `BaseHTTPMiddleware`, which would add a task and a stream to
    every request."""

    def __init__(self, app: ASGIApp, logged_path: Callable[[str], str] = str) -> None:
        self.app = app
        self.logged_path = logged_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        incoming = request.headers.get("x-request-id", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        request.state.request_id = request_id
        csrf_cookie = request.cookies.get(CSRF_COOKIE)
        request.state.csrf_token = csrf_cookie or new_csrf_token()
        https = scope.get("scheme") == "https"
        path: str = scope["path"]
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                headers = MutableHeaders(scope=message)
                for header, value in SECURITY_HEADERS.items():
                    headers.setdefault(header, value)
                headers["X-Request-ID"] = request_id
                if not path.startswith(("/static/", "/assets/")):
                    # Pages may show personal data: never kept in a browser or proxy cache.
                    headers.setdefault("Cache-Control", "no-store")
                if https:
                    headers.setdefault("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY)
                if csrf_cookie is None:
                    cookie = Response()
                    set_csrf_cookie(cookie, request.state.csrf_token, secure=https)
                    headers.append("set-cookie", cookie.headers["set-cookie"])
            await send(message)

        try:
            try:
                await self.app(scope, receive, send_with_headers)
            except Exception:
                logger.exception("unhandled error", extra={"path": self.logged_path(path)})
                if response_started:
                    raise
                await error_response(
                    request,
                    500,
                    "Try again later. If the problem continues, give the support team this "
                    f"reference: {request_id}.",
                )(scope, receive, send_with_headers)
            logger.info(
                "request",
                extra={
                    "method": request.method,
                    "path": self.logged_path(path),
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                    "client": request.client.host if request.client else None,
                },
            )
        finally:
            request_id_var.reset(token)


def create_app_from_environment() -> FastAPI:
    """Entry point for `uvicorn --factory healthequity.web.app:create_app_from_environment`."""
    settings = load_settings()
    configure_logging(settings.log_level)
    return create_app(settings, warm_up=True)
