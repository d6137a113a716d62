"""Users, organisations, roles, sign-in sessions and API tokens."""

from __future__ import annotations

import hashlib
import html
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import argon2
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, inspect, select, text

from conftest import TEST_PASSWORD, csrf_token, sign_in
from healthequity.audit.models import AuditEvent
from healthequity.audit.schemas import AuditContext
from healthequity.auth import passwords, service
from healthequity.auth.dependencies import SESSION_COOKIE, allow_signed_in
from healthequity.auth.exceptions import AuthenticationFailed, InvalidUserDetails, UserExists
from healthequity.auth.models import ApiToken, OrganisationKind, Role, User, UserSession
from healthequity.auth.pages import SIGN_IN_FAILED
from healthequity.auth.passwords import hash_password, verify_password
from healthequity.auth.schemas import Principal
from healthequity.store import Database
from healthequity.web.security import CSRF_COOKIE, CSRF_FIELD, CSRF_HEADER

if TYPE_CHECKING:
    from conftest import TestUser

pytestmark = pytest.mark.usefixtures("fast_password_hashing")

MakeUser = Callable[..., "TestUser"]
PRODUCTION_HASHER = passwords._HASHER  # captured before any test swaps in cheap parameters
CONTEXT = AuditContext(purpose="test")
T0 = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)


def _all_rows_text(database: Database) -> str:
    """Every value of every table, as text: to prove a secret is not stored anywhere."""
    parts = []
    with database.engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            for row in connection.execute(text(f'SELECT * FROM "{table}"')):  # noqa: S608
                parts.append(repr(tuple(row)))
    return "\n".join(parts)


def _session_cookie_header(response: Any) -> str:
    headers = [h for h in response.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE)]
    assert len(headers) == 1, response.headers.get_list("set-cookie")
    return headers[0]


def _count(database: Database, model: Any, *where: Any) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _actions(database: Database) -> list[str]:
    with database.session() as session:
        return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def _login(client: TestClient, email: str, password: str, **extra: str) -> Any:
    data = {"email": email, "password": password, CSRF_FIELD: csrf_token(client), **extra}
    return client.post("/login", data=data, follow_redirects=False)


def _error_summary(page: str) -> str:
    match = re.search(r'<div class="nhsuk-error-summary".*?</div>\s*</div>', page, re.S)
    assert match, page
    return match.group(0)


# Passwords


def test_password_hashes_are_argon2id_and_verify(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords, "_HASHER", PRODUCTION_HASHER)
    # Argon2id with at least the OWASP minimum cost (19 MiB, 2 passes).
    assert PRODUCTION_HASHER.type is argon2.Type.ID
    assert PRODUCTION_HASHER.memory_cost >= 19 * 1024
    assert PRODUCTION_HASHER.time_cost >= 2
    hashed = hash_password(TEST_PASSWORD)
    assert f"$m={PRODUCTION_HASHER.memory_cost},t={PRODUCTION_HASHER.time_cost}," in hashed
    assert hashed.startswith("$argon2id$")
    assert TEST_PASSWORD not in hashed
    assert hash_password(TEST_PASSWORD) != hashed  # salted
    assert verify_password(hashed, TEST_PASSWORD)
    assert not verify_password(hashed, TEST_PASSWORD + "!")
    assert not verify_password(None, TEST_PASSWORD)
    assert not verify_password("not a hash", TEST_PASSWORD)


def test_users_are_stored_with_argon2id_hashes_never_the_password(
    database: Database, make_user: MakeUser
) -> None:
    user = make_user(Role.CLINICIAN)
    with database.session() as session:
        stored = session.scalar(select(User.password_hash).where(User.id == user.user_id))
    assert stored is not None
    assert stored.startswith("$argon2id$")
    assert TEST_PASSWORD not in _all_rows_text(database)


@pytest.mark.parametrize(
    ("details", "problem"),
    [
        ({"email": "not-an-email"}, "is not an email address"),
        ({"display_name": "  "}, "display name is empty"),
        ({"password": "short"}, "expected at least 12"),
    ],
)
def test_create_user_refuses_bad_details(
    database: Database, details: dict[str, str], problem: str
) -> None:
    fields = {"email": "new@example.org", "display_name": "New Person", "password": TEST_PASSWORD}
    fields.update(details)
    with pytest.raises(InvalidUserDetails, match=problem), database.session() as session:
        organisation = service.ensure_organisation(session, "Org", OrganisationKind.PRACTICE)
        service.create_user(
            session, CONTEXT, organisation=organisation, roles=[Role.CLINICIAN], **fields
        )
    assert _count(database, User) == 0


def test_emails_are_unique_whatever_their_case(database: Database, make_user: MakeUser) -> None:
    user = make_user(Role.CLINICIAN)
    with pytest.raises(UserExists, match="exists already"), database.session() as session:
        organisation = service.get_organisation(session, "Test Practice")
        service.create_user(
            session,
            CONTEXT,
            email=f"  {user.email.upper()} ",
            display_name="Copy",
            password=TEST_PASSWORD,
            organisation=organisation,
            roles=[Role.ANALYST],
        )
    assert _count(database, User) == 1


# Signing in


def test_sign_in_sets_an_http_only_same_site_lax_session_cookie(
    client: TestClient, database: Database, make_user: MakeUser
) -> None:
    user = make_user(Role.CLINICIAN, Role.LINK_WORKER)
    response = _login(client, user.email, user.password)
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    cookie = _session_cookie_header(response)
    attributes = [part.strip().lower() for part in cookie.split(";")]
    assert "httponly" in attributes
    assert "samesite=lax" in attributes
    assert "path=/" in attributes
    assert "secure" not in attributes  # plain http in this test

    me = client.get("/api/me")
    assert me.status_code == 200
    assert me.json() == {
        "display_name": f"Test {user.email}",
        "email": user.email,
        "organisation_id": user.organisation_id,
        "organisation_name": "Test Practice",
        "roles": ["clinician", "link_worker"],
        "kind": "user",
    }
    # Only a hash of the cookie value is stored.
    secret = client.cookies[SESSION_COOKIE]
    with database.session() as session:
        hashes = list(session.scalars(select(UserSession.token_hash)))
    assert hashes == [hashlib.sha256(secret.encode()).hexdigest()]
    assert secret not in _all_rows_text(database)


def test_session_cookie_is_secure_over_https(app: FastAPI, make_user: MakeUser) -> None:
    user = make_user(Role.ANALYST)
    with TestClient(app, base_url="https://testserver") as client:
        response = _login(client, user.email, user.password)
        assert response.status_code == 303
        attributes = [p.strip().lower() for p in _session_cookie_header(response).split(";")]
        assert {"secure", "httponly", "samesite=lax"} <= set(attributes)
        assert client.get("/api/me").status_code == 200


def test_wrong_password_and_unknown_email_get_the_same_answer(
    client: TestClient, database: Database, make_user: MakeUser
) -> None:
    user = make_user(Role.CLINICIAN)
    wrong_password = _login(client, user.email, "not the right password")
    unknown = "nobody-here@example.org"
    unknown_email = _login(client, unknown, user.password)

    for response, typed in ((wrong_password, user.email), (unknown_email, unknown)):
        assert response.status_code == 401
        assert SESSION_COOKIE not in response.cookies
        page = response.text
        assert html.escape(SIGN_IN_FAILED) in page
        assert f'value="{typed}"' in page  # what the person typed is kept
        assert user.password not in page  # but never the password
    # Nothing tells the two apart: the pages differ only in the email typed.
    assert wrong_password.text.replace(user.email, "EMAIL") == unknown_email.text.replace(
        unknown, "EMAIL"
    )
    assert _error_summary(wrong_password.text) == _error_summary(unknown_email.text)
    assert client.get("/api/me").status_code == 401


def test_empty_fields_are_named(client: TestClient) -> None:
    response = _login(client, "  ", "")
    assert response.status_code == 400
    assert "Enter your email address" in response.text
    assert "Enter your password" in response.text


def _attempt(database: Database, email: str, password: str, now: datetime) -> bool:
    with database.session() as session:
        try:
            service.authenticate(session, CONTEXT, email, password, now=now)
        except AuthenticationFailed:
            return False
        return True


def _lock_state(database: Database, user_id: int) -> tuple[int, datetime | None]:
    with database.session() as session:
        user = session.get(User, user_id)
        assert user is not None
        return user.failed_logins, user.locked_until


def test_five_wrong_passwords_lock_the_account_and_the_lock_doubles(
    database: Database, make_user: MakeUser
) -> None:
    user = make_user(Role.CLINICIAN)
    for _ in range(5):
        assert not _attempt(database, user.email, "wrong password!", T0)
    assert _lock_state(database, user.user_id) == (5, T0 + timedelta(minutes=1))

    # While locked, even the right password is refused (and does not extend the lock).
    assert not _attempt(database, user.email, user.password, T0 + timedelta(seconds=30))
    assert not _attempt(database, user.email, user.password, T0 + timedelta(seconds=59))
    assert _lock_state(database, user.user_id) == (5, T0 + timedelta(minutes=1))

    # Once it passes, one more wrong password locks for twice as long.
    t1 = T0 + timedelta(seconds=61)
    assert not _attempt(database, user.email, "wrong password!", t1)
    assert _lock_state(database, user.user_id) == (6, t1 + timedelta(minutes=2))
    assert not _attempt(database, user.email, user.password, t1 + timedelta(seconds=119))

    # After the doubled lock the right password works and clears the count.
    assert _attempt(database, user.email, user.password, t1 + timedelta(seconds=121))
    assert _lock_state(database, user.user_id) == (0, None)

    with database.session() as session:
        reasons = list(
            session.scalars(
                select(AuditEvent.detail)
                .where(AuditEvent.action == "login.failed")
                .order_by(AuditEvent.id)
            )
        )
    assert sum('"reason": "password"' in str(r) for r in reasons) == 6
    assert sum('"reason": "locked"' in str(r) for r in reasons) == 3


def test_wrong_passwords_sent_in_parallel_each_count(
    database: Database, make_user: MakeUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Guessing in parallel must not slip past the lock-out (no lost update of the count)."""
    user = make_user(Role.CLINICIAN)
    real_verify = service.verify_password

    def slow_verify(password_hash: str | None, password: str) -> bool:
        time.sleep(0.3)  # as a real hash takes: every guess reads the count before any writes
        return real_verify(password_hash, password)

    monkeypatch.setattr(service, "verify_password", slow_verify)
    attempts = 5
    start = threading.Barrier(attempts)

    def guess(number: int) -> bool:
        start.wait()
        return _attempt(database, user.email, f"wrong guess {number}!", T0)

    with ThreadPoolExecutor(attempts) as pool:
        results = list(pool.map(guess, range(attempts)))
    assert results == [False] * attempts
    assert _lock_state(database, user.user_id) == (5, T0 + timedelta(minutes=1))
    assert not _attempt(database, user.email, user.password, T0 + timedelta(seconds=30))


def test_lock_is_capped_at_an_hour() -> None:
    assert service._lock_duration(4) is None
    assert service._lock_duration(5) == timedelta(minutes=1)
    assert service._lock_duration(7) == timedelta(minutes=4)
    assert service._lock_duration(50) == service.LONGEST_LOCK == timedelta(hours=1)


def test_many_failures_keep_locking_for_an_hour(database: Database, make_user: MakeUser) -> None:
    user = make_user(Role.CLINICIAN)
    with database.session() as session:
        record = session.get(User, user.user_id)
        assert record is not None
        record.failed_logins = 60  # someone has guessed once an hour for days
    assert not _attempt(database, user.email, "wrong password!", T0)
    assert _lock_state(database, user.user_id) == (61, T0 + timedelta(hours=1))
    assert _actions(database)[-1] == "login.failed"


def test_fewer_than_five_failures_do_not_lock(database: Database, make_user: MakeUser) -> None:
    user = make_user(Role.CLINICIAN)
    for _ in range(4):
        assert not _attempt(database, user.email, "wrong password!", T0)
    assert _lock_state(database, user.user_id) == (4, None)
    assert _attempt(database, user.email, user.password, T0)
    assert _lock_state(database, user.user_id) == (0, None)


def test_locked_account_refuses_the_right_password_on_the_sign_in_page(
    client: TestClient, make_user: MakeUser
) -> None:
    user = make_user(Role.CLINICIAN)
    for _ in range(5):
        assert _login(client, user.email, "wrong password!").status_code == 401
    response = _login(client, user.email, user.password)
    assert response.status_code == 401
    assert html.escape(SIGN_IN_FAILED) in response.text
    assert SESSION_COOKIE not in response.cookies
    assert client.get("/api/me").status_code == 401


def test_disabled_user_cannot_sign_in_and_loses_sessions(
    app: FastAPI, client: TestClient, database: Database, make_user: MakeUser
) -> None:
    user = make_user(Role.CLINICIAN)
    other = make_user(Role.CLINICIAN)
    sign_in(client, user)
    with TestClient(app) as other_client:
        sign_in(other_client, other)
        assert client.get("/api/me").status_code == 200

        with database.session() as session:
            service.disable_user(session, CONTEXT, user.email)

        assert client.get("/api/me").status_code == 401
        assert _count(database, UserSession, UserSession.user_id == user.user_id) == 0
        # Someone else's session is untouched.
        assert other_client.get("/api/me").status_code == 200

    with TestClient(app) as fresh:
        response = _login(fresh, user.email, user.password)
        assert response.status_code == 401
        assert html.escape(SIGN_IN_FAILED) in response.text
        assert SESSION_COOKIE not in response.cookies


def test_a_session_of_a_disabled_user_is_refused_even_if_left_behind(
    client: TestClient, database: Database, make_user: MakeUser
) -> None:
    user = make_user(Role.CLINICIAN)
    sign_in(client, user)
    with database.session() as session:
        record = session.get(User, user.user_id)
        assert record is not None
        record.is_active = False  # disabled without going through the service
    assert client.get("/api/me").status_code == 401


def test_expired_session_is_refused(database: Database, make_user: MakeUser) -> None:
    user = make_user(Role.CLINICIAN)
    with database.session() as session:
        record = session.get(User, user.user_id)
        assert record is not None
        issued = service.start_session(session, CONTEXT, record, now=T0)
    assert issued.expires_at == T0 + service.SESSION_LIFETIME
    with database.session() as session:
        later = T0 + service.SESSION_LIFETIME - timedelta(seconds=1)
        assert service.principal_for_session(session, issued.secret, now=later) is not None
        expired = T0 + service.SESSION_LIFETIME
        assert service.principal_for_session(session, issued.secret, now=expired) is None


# CSRF


def test_sign_in_without_a_csrf_token_is_refused_and_changes_nothing(
    app: FastAPI, database: Database, make_user: MakeUser
) -> None:
    user = make_user(Role.CLINICIAN)
    events_before = _actions(database)
    with TestClient(app) as client:
        # No CSRF cookie at all.
        bare = client.post(
            "/login", data={"email": user.email, "password": user.password}, follow_redirects=False
        )
        assert bare.status_code == 403
        assert "The form has expired" in bare.text
        # A CSRF cookie, but the form does not echo it, or echoes another value.
        token = csrf_token(client)
        for supplied in (None, "forged-token", token[:-1]):
            data = {"email": user.email, "password": "wrong password!"}
            if supplied is not None:
                data[CSRF_FIELD] = supplied
            response = client.post("/login", data=data, follow_redirects=False)
            assert response.status_code == 403
            assert SESSION_COOKIE not in response.cookies
        right_password_wrong_header = client.post(
            "/login",
            data={"email": user.email, "password": user.password},
            headers={CSRF_HEADER: "forged-token"},
            follow_redirects=False,
        )
        assert right_password_wrong_header.status_code == 403
        assert SESSION_COOKIE not in client.cookies
    assert _count(database, UserSession) == 0
    assert _lock_state(database, user.user_id) == (0, None)
    assert _actions(database) == events_before


def test_sign_out_without_a_csrf_token_is_refused_and_keeps_the_session(
    client: TestClient, database: Database, make_user: MakeUser
) -> None:
    user = make_user(Role.CLINICIAN)
    sign_in(client, user)
    events_before = _actions(database)
    assert client.post("/logout", follow_redirects=False).status_code == 403
    wrong = client.post("/logout", data={CSRF_FIELD: "forged"}, follow_redirects=False)
    assert wrong.status_code == 403
    wrong_header = client.post("/logout", headers={CSRF_HEADER: "x"}, follow_redirects=False)
    assert wrong_header.status_code == 403
    assert client.get("/api/me").status_code == 200
    assert _count(database, UserSession) == 1
    assert _actions(database) == events_before


def test_csrf_token_may_come_in_a_header(client: TestClient, make_user: MakeUser) -> None:
    user = make_user(Role.CLINICIAN)
    sign_in(client, user)
    response = client.post(
        "/logout", headers={CSRF_HEADER: client.cookies[CSRF_COOKIE]}, follow_redirects=False
    )
    assert response.status_code == 303
    assert client.get("/api/me").status_code == 401


# Signing out


def test_sign_out_ends_the_session_on_the_server(
    app: FastAPI, client: TestClient, database: Database, make_user: MakeUser
) -> None:
    user = make_user(Role.CLINICIAN)
    sign_in(client, user)
    old_cookie = client.cookies[SESSION_COOKIE]
    response = client.post("/logout", data={CSRF_FIELD: csrf_token(client)}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    cleared = _session_cookie_header(response).lower()
    assert "max-age=0" in cleared or "expires=thu, 01 jan 1970" in cleared
    assert _count(database, UserSession) == 0

    # Replaying the old cookie (as a thief who copied it would) no longer works.
    with TestClient(app, cookies={SESSION_COOKIE: old_cookie}) as replay:
        assert replay.get("/api/me").status_code == 401
        home = replay.get("/", follow_redirects=False)
        assert home.status_code == 303
        assert home.headers["location"] == "/login"


# Where sign-in leads


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/api/me", "/api/me"),
        ("/some/page?x=1", "/some/page?x=1"),
        ("https://evil.example/phish", "/"),
        ("//evil.example/phish", "/"),
        ("javascript:alert(1)", "/"),
        ("", "/"),
    ],
)
def test_sign_in_redirects_only_to_local_paths(
    client: TestClient, make_user: MakeUser, target: str, expected: str
) -> None:
    user = make_user(Role.CLINICIAN)
    response = _login(client, user.email, user.password, next=target)
    assert response.status_code == 303
    assert response.headers["location"] == expected


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example",
        "/\\evil.example",
        "/\\/evil.example",
        "\\\\evil.example",
        "/\t/evil.example",
        "http:evil.example",
        "https:/evil.example",
    ],
)
def test_next_never_leads_off_site(client: TestClient, make_user: MakeUser, target: str) -> None:
    """Browsers read a backslash as a slash and drop tabs: none of these may leave the site."""
    page = client.get("/login", params={"next": target})
    hidden = re.search(r'name="next" value="([^"]*)"', page.text)
    assert hidden is not None
    user = make_user(Role.CLINICIAN)
    response = _login(client, user.email, user.password, next=html.unescape(hidden.group(1)))
    for location in (
        response.headers["location"],
        client.get("/login", params={"next": target}, follow_redirects=False).headers["location"],
    ):
        as_browser_reads_it = location.replace("\\", "/").replace("\t", "")
        assert as_browser_reads_it.startswith("/")
        assert not as_browser_reads_it.startswith("//")


def test_sign_in_page_sends_a_signed_in_user_on(client: TestClient, make_user: MakeUser) -> None:
    sign_in(client, make_user(Role.CLINICIAN))
    response = client.get("/login", params={"next": "/api/me"}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/api/me"


def test_anonymous_page_request_is_sent_to_sign_in_with_next(
    app: FastAPI, client: TestClient
) -> None:
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login"

    @app.get("/test-only/caseload")
    def caseload(principal: Principal = allow_signed_in()) -> dict[str, str]:
        return {"name": principal.display_name}

    protected = client.get("/test-only/caseload?sort=due", follow_redirects=False)
    assert protected.status_code == 303
    assert protected.headers["location"] == "/login?next=/test-only/caseload%3Fsort%3Ddue"


def test_sign_out_needs_no_role(client: TestClient, make_user: MakeUser) -> None:
    user = make_user()  # no role at all
    sign_in(client, user)
    assert client.get("/api/me").status_code == 403
    response = client.post("/logout", data={CSRF_FIELD: csrf_token(client)}, follow_redirects=False)
    assert response.status_code == 303
    assert client.get("/api/me").status_code == 401


# API tokens


@pytest.fixture
def token_setup(database: Database, make_user: MakeUser) -> tuple[TestUser, str, int]:
    admin = make_user(Role.ADMIN)
    with database.session() as session:
        organisation = service.get_organisation(session, "Test Practice")
        creator = session.get(User, admin.user_id)
        issued = service.create_api_token(
            session,
            CONTEXT,
            name="advice centre CRM",
            organisation=organisation,
            roles=[Role.PROVIDER],
            created_by=creator,
        )
    return admin, issued.secret, issued.record_id


def _bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def test_api_token_is_stored_hashed(database: Database, token_setup: Any) -> None:
    _admin, secret, token_id = token_setup
    assert secret.startswith(service.API_TOKEN_PREFIX)
    assert len(secret) > 40
    with database.session() as session:
        token = session.get(ApiToken, token_id)
        assert token is not None
        assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert secret.startswith(token.token_prefix)
        assert len(token.token_prefix) < len(secret) // 3
    assert secret not in _all_rows_text(database)


def test_bearer_token_works_with_its_own_roles_only(
    client: TestClient, database: Database, token_setup: Any
) -> None:
    _admin, secret, token_id = token_setup
    me = client.get("/api/me", headers=_bearer(secret))
    assert me.status_code == 200
    assert me.json() == {
        "display_name": "API token advice centre CRM",
        "email": None,
        "organisation_id": me.json()["organisation_id"],
        "organisation_name": "Test Practice",
        "roles": ["provider"],
        "kind": "api_token",
    }
    # The admin who made it does not lend the token their roles.
    users = client.get("/api/users", headers=_bearer(secret))
    assert users.status_code == 403
    assert users.headers["content-type"].startswith("application/json")
    assert "admin" in users.json()["detail"]
    with database.session() as session:
        token = session.get(ApiToken, token_id)
        assert token is not None
        assert token.last_used_at is not None


def test_bearer_token_wins_over_a_session_cookie(
    client: TestClient, make_user: MakeUser, token_setup: Any
) -> None:
    sign_in(client, make_user(Role.ADMIN))
    assert client.get("/api/users").status_code == 200
    _admin, secret, _id = token_setup
    assert client.get("/api/me", headers=_bearer(secret)).json()["kind"] == "api_token"
    assert client.get("/api/users", headers=_bearer(secret)).status_code == 403
    # A bad token is refused even though the cookie is good.
    assert client.get("/api/me", headers=_bearer(secret + "x")).status_code == 401


def test_revoked_token_gets_401_json(
    client: TestClient, database: Database, token_setup: Any
) -> None:
    _admin, secret, token_id = token_setup
    assert client.get("/api/me", headers=_bearer(secret)).status_code == 200
    with database.session() as session:
        service.revoke_api_token(session, CONTEXT, str(token_id))
    response = client.get("/api/me", headers=_bearer(secret))
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["www-authenticate"] == "Bearer"
    assert "revoked" in response.json()["detail"]


def test_expired_token_gets_401_json(client: TestClient, database: Database) -> None:
    with database.session() as session:
        organisation = service.ensure_organisation(session, "Org", OrganisationKind.PROVIDER)
        soon = service.create_api_token(
            session,
            CONTEXT,
            name="short-lived",
            organisation=organisation,
            roles=[Role.PROVIDER],
            expires_at=datetime.now(UTC) + timedelta(hours=1),
        )
        gone = service.create_api_token(
            session,
            CONTEXT,
            name="expired",
            organisation=organisation,
            roles=[Role.PROVIDER],
            expires_at=datetime.now(UTC) - timedelta(seconds=1),
        )
    assert client.get("/api/me", headers=_bearer(soon.secret)).status_code == 200
    response = client.get("/api/me", headers=_bearer(gone.secret))
    assert response.status_code == 401
    assert response.json() == {
        "detail": "the API token is not valid, or was revoked or has expired"
    }
    with database.session() as session:
        later = datetime.now(UTC) + timedelta(hours=2)
        assert service.principal_for_api_token(session, soon.secret, now=later) is None


@pytest.mark.parametrize(
    "authorization",
    ["Basic dXNlcjpwYXNz", "Token he_abc", "Bearer", "Bearer    ", "he_abc", "Bearer he_unknown"],
)
def test_invalid_authorization_header_gets_401(client: TestClient, authorization: str) -> None:
    response = client.get("/api/me", headers={"Authorization": authorization})
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["www-authenticate"] == "Bearer"
    assert "detail" in response.json()


def test_invalid_authorization_header_on_a_page_sends_to_sign_in(client: TestClient) -> None:
    response = client.get("/", headers={"Authorization": "Basic abc"}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


def test_bearer_requests_need_no_csrf_token(
    app: FastAPI, database: Database, make_user: MakeUser, token_setup: Any
) -> None:
    @app.post("/api/test-only/echo")
    def echo(principal: Principal = allow_signed_in()) -> dict[str, object]:
        return {"roles": sorted(principal.roles)}

    _admin, secret, _id = token_setup
    with TestClient(app) as client:
        response = client.post("/api/test-only/echo", headers=_bearer(secret))
        assert response.status_code == 200
        assert response.json() == {"roles": ["provider"]}
        # The same request authenticated by a cookie must carry the CSRF token.
        sign_in(client, make_user(Role.ANALYST))
        assert client.post("/api/test-only/echo").status_code == 403
        with_token = client.post(
            "/api/test-only/echo", headers={CSRF_HEADER: client.cookies[CSRF_COOKIE]}
        )
        assert with_token.status_code == 200
        assert with_token.json() == {"roles": ["analyst"]}


def test_token_needs_a_role_and_a_name(database: Database) -> None:
    with database.session() as session:
        organisation = service.ensure_organisation(session, "Org", OrganisationKind.PROVIDER)
        with pytest.raises(Exception, match="at least one role"):
            service.create_api_token(
                session, CONTEXT, name="x", organisation=organisation, roles=[]
            )
        with pytest.raises(Exception, match="token name is empty"):
            service.create_api_token(
                session, CONTEXT, name=" ", organisation=organisation, roles=[Role.PROVIDER]
            )


def test_token_use_is_recorded_once_a_minute_not_on_every_request(
    database: Database, token_setup: Any
) -> None:
    _admin, secret, token_id = token_setup
    start = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
    seen = []
    for seconds in (0, 30, 59, 60, 61):
        with database.session() as session:
            assert service.principal_for_api_token(
                session, secret, now=start + timedelta(seconds=seconds)
            )
        with database.session() as session:
            token = session.get(ApiToken, token_id)
            assert token is not None
            seen.append(token.last_used_at)
    assert seen == [
        start,
        start,
        start,
        start + timedelta(seconds=60),
        start + timedelta(seconds=60),
    ]
