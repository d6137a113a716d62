"""Fixtures shared by the whole suite.

Every test that takes `database` (or anything built on it) runs twice: on SQLite and on
PostgreSQL. PostgreSQL runs when HEALTHEQUITY_TEST_POSTGRES_URL names a server (`make
test` sets it when one answers on 127.0.0.1:5432); otherwise those runs skip, saying why.
Each test gets a fresh database copied from one migrated once per test session.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from healthequity.audit.schemas import AuditContext
from healthequity.auth import service as auth_service
from healthequity.auth.models import OrganisationKind, Role
from healthequity.config import Settings
from healthequity.store import Database, upgrade
from healthequity.web.app import create_app
from healthequity.web.security import CSRF_COOKIE, CSRF_FIELD

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("HEALTHEQUITY_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))
ASSETS_DIR = REPO_ROOT / "assets" / "node_modules"
POSTGRES_URL_VARIABLE = "HEALTHEQUITY_TEST_POSTGRES_URL"
TEST_PASSWORD = "correct horse battery staple"


def _worker_suffix() -> str:
    return f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{os.getpid()}"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    database = Database(f"sqlite:///{path}")
    upgrade(database.engine)
    with database.engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    database.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    server_url = os.environ.get(POSTGRES_URL_VARIABLE)
    if not server_url:
        pytest.skip(f"PostgreSQL not tested: {POSTGRES_URL_VARIABLE} is not set")
    admin = create_engine(
        make_url(server_url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT"
    )
    name = f"he_template_{_worker_suffix()}"
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    template_url = make_url(server_url).set(drivername="postgresql+psycopg", database=name)
    database = Database(template_url.render_as_string(hide_password=False))
    upgrade(database.engine)
    database.dispose()
    yield name
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of a fresh, migrated, empty database of each kind."""
    if request.param == "sqlite":
        path = tmp_path / "healthequity.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    template = request.getfixturevalue("postgres_template")
    server_url = make_url(os.environ[POSTGRES_URL_VARIABLE]).set(drivername="postgresql+psycopg")
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    name = f"he_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    yield server_url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        secret_key="test-secret",
        assets_dir=ASSETS_DIR,
        environment="test",
        log_level="WARNING",
    )


@pytest.fixture
def app(settings: Settings, database: Database) -> FastAPI:
    return create_app(settings, database)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@dataclass(frozen=True)
class TestUser:
    email: str
    password: str
    roles: frozenset[Role]
    user_id: int
    organisation_id: int


@pytest.fixture
def make_user(database: Database):  # type: ignore[no-untyped-def]
    """Create a user with the given roles (none at all if asked) in a test organisation."""
    counter = iter(range(1_000_000))

    def _make(*roles: Role, organisation: str = "Test Practice") -> TestUser:
        email = f"user{next(counter)}-{'-'.join(sorted(roles)) or 'none'}@example.org"
        with database.session() as session:
            org = auth_service.ensure_organisation(session, organisation, OrganisationKind.PRACTICE)
            user = auth_service.create_user(
                session,
                AuditContext(purpose="test set-up"),
                email=email,
                display_name=f"Test {email}",
                password=TEST_PASSWORD,
                organisation=org,
                roles=roles,
            )
            return TestUser(email, TEST_PASSWORD, frozenset(roles), user.id, org.id)

    return _make


def csrf_token(client: TestClient) -> str:
    """The CSRF token of this client, fetching a page first if it has none yet."""
    if CSRF_COOKIE not in client.cookies:
        client.get("/login")
    return client.cookies[CSRF_COOKIE]


def sign_in(client: TestClient, user: TestUser) -> None:
    response = client.post(
        "/login",
        data={"email": user.email, "password": user.password, CSRF_FIELD: csrf_token(client)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


@pytest.fixture
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cheap Argon2id parameters for tests that create users and sign in a lot.

    The real parameters cost about half a second a hash on a small machine; the hashes
    stay Argon2id, only their cost changes. Tests of the hashing itself do not use this.
    """
    from argon2 import PasswordHasher

    from healthequity.auth import passwords

    hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(passwords, "_HASHER", hasher)
    dummy = hasher.hash("no user has this password")
    # The hash checked for unknown users, whichever way passwords.py keeps it.
    monkeypatch.setattr(passwords, "_dummy_hash", lambda: dummy, raising=False)
    monkeypatch.setattr(passwords, "_DUMMY_HASH", dummy, raising=False)
