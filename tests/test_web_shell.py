"""The web shell: security headers, request ids, error pages, logging, health, API docs."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import sessionmaker

from conftest import csrf_token, sign_in
from healthequity.auth.dependencies import allow_public
from healthequity.auth.models import Role
from healthequity.auth.schemas import Principal
from healthequity.store import Database
from healthequity.store.database import create_database_engine
from healthequity.web.logging import JsonFormatter, PathRedactor, request_id_var
from healthequity.web.security import CSRF_COOKIE, CSRF_FIELD

if TYPE_CHECKING:
    from conftest import TestUser

pytestmark = pytest.mark.usefixtures("fast_password_hashing")

MakeUser = Callable[..., "TestUser"]
SECRET_ERROR = "kaboom: internal detail 7f3a"
UUID_HEX = re.compile(r"^[0-9a-f]{32}$")


def _csp(response: Any) -> dict[str, list[str]]:
    policy = response.headers["content-security-policy"]
    directives: dict[str, list[str]] = {}
    for part in policy.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def assert_security_headers(response: Any) -> None:
    csp = _csp(response)
    assert "'unsafe-inline'" not in response.headers["content-security-policy"]
    assert "'unsafe-eval'" not in response.headers["content-security-policy"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] in {
        "no-referrer",
        "same-origin",
        "strict-origin",
        "strict-origin-when-cross-origin",
    }
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-request-id"]


def assert_no_inline_code(page: str) -> None:
    """What the CSP would block: inline scripts, style attributes or elements, handlers."""
    for script in re.findall(r"<script\b[^>]*>", page, re.I):
        assert "src=" in script, script
    assert not re.search(r"<style\b", page, re.I)
    assert not re.search(r"\sstyle\s*=", page, re.I)
    assert not re.search(r"\son[a-z]+\s*=", page, re.I)
    assert "javascript:" not in page.lower()


@pytest.fixture
def failing_app(app: FastAPI) -> FastAPI:
    """The app with two routes that raise, added for these tests only."""

    @app.get("/test-only/boom")
    def boom(principal: Principal | None = allow_public()) -> None:
        raise RuntimeError(SECRET_ERROR)

    @app.get("/api/test-only/boom")
    def api_boom(principal: Principal | None = allow_public()) -> None:
        raise RuntimeError(SECRET_ERROR)

    return app


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """What the web logger writes, formatted by the app's JsonFormatter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("healthequity.web")
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield stream
    logger.removeHandler(handler)
    logger.setLevel(old_level)


def _log_entries(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


# Security headers


@pytest.mark.parametrize(
    ("method", "path", "status", "kind"),
    [
        ("GET", "/login", 200, "text/html"),
        ("GET", "/healthz", 200, "application/json"),
        ("GET", "/api/me", 401, "application/json"),
        ("GET", "/api/openapi.json", 200, "application/json"),
        ("GET", "/api/docs", 200, "text/html"),
        ("GET", "/no-such-page", 404, "text/html"),
        ("GET", "/api/no-such-thing", 404, "application/json"),
        ("POST", "/login", 403, "text/html"),
        ("GET", "/static/app.css", 200, "text/css"),
    ],
)
def test_security_headers_on_every_kind_of_response(
    client: TestClient, method: str, path: str, status: int, kind: str
) -> None:
    response = client.request(method, path, follow_redirects=False)
    assert response.status_code == status
    assert response.headers["content-type"].startswith(kind)
    assert_security_headers(response)
    if path.startswith("/static/"):
        assert response.headers.get("cache-control") != "no-store"
    else:
        assert response.headers["cache-control"] == "no-store"


def test_security_headers_on_a_server_error(failing_app: FastAPI) -> None:
    with TestClient(failing_app, raise_server_exceptions=False) as client:
        for path in ("/test-only/boom", "/api/test-only/boom"):
            response = client.get(path)
            assert response.status_code == 500
            assert_security_headers(response)


def test_pages_hold_no_inline_code_the_policy_would_block(
    failing_app: FastAPI, make_user: MakeUser
) -> None:
    with TestClient(failing_app, raise_server_exceptions=False) as client:
        pages = [
            client.get("/login"),
            client.get("/no-such-page"),
            client.get("/test-only/boom"),
            client.get("/api/docs"),
            client.post("/login", data={"email": "a@b.org", "password": "x"}),  # 403
        ]
        sign_in(client, make_user(Role.ANALYST))
        pages.append(client.get("/"))
        pages.append(
            client.post(
                "/login",
                data={"email": "a@b.org", "password": "wrong", CSRF_FIELD: csrf_token(client)},
            )
        )
    for page in pages:
        assert page.headers["content-type"].startswith("text/html")
        assert_no_inline_code(page.text)


def test_csrf_cookie_is_http_only_and_strict(app: FastAPI) -> None:
    for base_url, secure in (("http://testserver", False), ("https://testserver", True)):
        with TestClient(app, base_url=base_url) as client:
            response = client.get("/login")
            cookie = next(
                c for c in response.headers.get_list("set-cookie") if c.startswith(CSRF_COOKIE)
            )
            attributes = {part.strip().lower() for part in cookie.split(";")}
            assert {"httponly", "samesite=strict"} <= attributes
            assert ("secure" in attributes) is secure
            # The page's form carries the same token as the cookie.
            assert f'value="{client.cookies[CSRF_COOKIE]}"' in response.text
            # It is set once, not renewed on every response.
            assert CSRF_COOKIE not in client.get("/login").cookies


# Request ids


def test_request_id_is_made_when_absent_and_differs_per_request(client: TestClient) -> None:
    first = client.get("/healthz").headers["x-request-id"]
    second = client.get("/healthz").headers["x-request-id"]
    assert UUID_HEX.match(first)
    assert UUID_HEX.match(second)
    assert first != second


@pytest.mark.parametrize("supplied", ["abc-123", "edge.proxy_01", "A" * 64])
def test_a_safe_supplied_request_id_is_kept(client: TestClient, supplied: str) -> None:
    for path in ("/healthz", "/login", "/no-such-page", "/api/me"):
        response = client.get(path, headers={"X-Request-ID": supplied})
        assert response.headers["x-request-id"] == supplied


@pytest.mark.parametrize(
    "supplied", ["", "has space", "<script>", "A" * 65, "line\u2028break", "semi;colon"]
)
def test_an_unsafe_supplied_request_id_is_replaced(client: TestClient, supplied: str) -> None:
    response = client.get("/healthz", headers={"X-Request-ID": supplied.encode()})
    assert UUID_HEX.match(response.headers["x-request-id"])


# Error pages


def test_not_found_page_is_nhs_styled_html(client: TestClient) -> None:
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "<h1>Page not found</h1>" in page
    assert "nhsuk-header" in page
    assert "nhsuk-footer" in page
    assert "/assets/nhsuk-frontend.css" in page


@pytest.mark.parametrize("path", ["/api/no-such-thing", "/api/me/extra"])
def test_not_found_under_api_is_json(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"detail": "Not Found"}


def test_wrong_method_is_json_under_api_and_a_page_elsewhere(client: TestClient) -> None:
    response = client.delete("/api/me")
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"detail": "Method Not Allowed"}
    assert response.headers["allow"] == "GET"
    page = client.delete("/login")
    assert page.status_code == 405
    assert page.headers["content-type"].startswith("text/html")
    assert "That action is not possible here" in page.text


def test_server_error_shows_the_styled_page_with_the_request_id_and_no_trace(
    failing_app: FastAPI, json_log: io.StringIO
) -> None:
    with TestClient(failing_app, raise_server_exceptions=False) as client:
        response = client.get("/test-only/boom", headers={"X-Request-ID": "trace-me-500"})
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["x-request-id"] == "trace-me-500"
    page = response.text
    assert "Sorry, there is a problem with the service" in page
    assert "trace-me-500" in page
    assert "nhsuk-header" in page
    for leak in ("Traceback", "RuntimeError", SECRET_ERROR, 'File "', "test_web_shell"):
        assert leak not in page

    entries = _log_entries(json_log)
    errors = [entry for entry in entries if entry["message"] == "unhandled error"]
    assert len(errors) == 1
    error = errors[0]
    assert error["level"] == "ERROR"
    assert error["request_id"] == "trace-me-500"
    assert error["path"] == "/test-only/boom"
    assert "Traceback" in error["exception"]
    assert f"RuntimeError: {SECRET_ERROR}" in error["exception"]
    requests = [entry for entry in entries if entry["message"] == "request"]
    assert [(r["status"], r["request_id"], r["method"]) for r in requests] == [
        (500, "trace-me-500", "GET")
    ]


def test_server_error_under_api_is_json_with_the_request_id(failing_app: FastAPI) -> None:
    with TestClient(failing_app, raise_server_exceptions=False) as client:
        response = client.get("/api/test-only/boom")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/json"
    request_id = response.headers["x-request-id"]
    detail = response.json()["detail"]
    assert request_id in detail
    assert SECRET_ERROR not in detail


def test_every_request_is_logged_as_one_json_line(
    client: TestClient, json_log: io.StringIO
) -> None:
    response = client.get("/no-such-page", headers={"X-Request-ID": "log-line-1"})
    entries = [e for e in _log_entries(json_log) if e["message"] == "request"]
    assert len(entries) == 1
    entry = entries[0]
    assert entry["request_id"] == "log-line-1" == response.headers["x-request-id"]
    assert (entry["method"], entry["path"], entry["status"]) == ("GET", "/no-such-page", 404)
    assert entry["logger"] == "healthequity.web"
    assert isinstance(entry["duration_ms"], float)
    assert entry["time"].endswith("+00:00")


def test_the_logged_path_hides_the_segment_after_a_secret_prefix() -> None:
    logged = PathRedactor(["/my-answers/", "/s/"])
    assert logged("/my-answers/Zm9vYmFy-_x") == "/my-answers/…"
    assert logged("/my-answers/Zm9vYmFy-_x/follow-ups") == "/my-answers/…/follow-ups"
    assert logged("//my-answers/Zm9vYmFy") == "//my-answers/…"
    assert logged("/s/abc") == "/s/…"
    for kept in ("/people/p1", "/my-answers", "/my-answers-help/x", "/static/app.css"):
        assert logged(kept) == kept
    assert PathRedactor([])("/my-answers/x") == "/my-answers/x"


def test_json_formatter_outside_a_request() -> None:
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "hello %s", ("you",), None)
    record.folder = "/somewhere"
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "hello you"
    assert entry["level"] == "WARNING"
    assert entry["folder"] == "/somewhere"
    assert "request_id" not in entry
    token = request_id_var.set("inside-1")
    try:
        assert json.loads(JsonFormatter().format(record))["request_id"] == "inside-1"
    finally:
        request_id_var.reset(token)


# Health and API documentation


def test_healthz_reports_the_database_ok(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_healthz_answers_503_when_the_database_does_not(
    app: FastAPI, database: Database, tmp_path: Path
) -> None:
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/healthz").status_code == 200
        broken = create_database_engine(f"sqlite:///{tmp_path / 'missing' / 'folder' / 'x.db'}")
        database._sessions = sessionmaker(broken, expire_on_commit=False)
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert_security_headers(response)


def test_openapi_lists_the_json_apis_only(client: TestClient) -> None:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["info"]["title"] == "healthequity"
    paths = document["paths"]
    assert "get" in paths["/api/me"]
    assert "/api/users" in paths
    assert "/login" not in paths
    assert "/logout" not in paths


def test_api_docs_page_uses_the_local_swagger_ui(client: TestClient) -> None:
    response = client.get("/api/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert '<script src="/assets/swagger-ui/swagger-ui-bundle.js">' in page
    assert 'href="/assets/swagger-ui/swagger-ui.css"' in page
    assert 'data-openapi-url="/api/openapi.json"' in page
    assert not re.search(r"(src|href)=\"https?://", page)
    assert_no_inline_code(page)
    assert client.get("/static/api-docs.js").status_code == 200
