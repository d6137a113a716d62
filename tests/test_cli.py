"""The `healthequity` command: users, tokens, demo data, and one-line errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from click.testing import CliRunner, Result
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from healthequity import __version__
from healthequity.audit.models import AuditEvent
from healthequity.audit.schemas import AuditContext
from healthequity.auth import service
from healthequity.auth.demo import DEMO_ORGANISATIONS, DEMO_PASSWORD, DEMO_USERS
from healthequity.auth.exceptions import AuthenticationFailed
from healthequity.auth.models import ApiToken, Organisation, Role, User, UserSession
from healthequity.cli.main import cli
from healthequity.directory.models import Service
from healthequity.store import Database

if TYPE_CHECKING:
    from conftest import TestUser

pytestmark = pytest.mark.usefixtures("fast_password_hashing")

MakeUser = Callable[..., "TestUser"]
NEW_PASSWORD = "a perfectly long password"


@pytest.fixture
def run(database_url: str) -> Callable[..., Result]:
    """Run `healthequity ARGS` in-process against the test database."""

    def _run(*arguments: str, password: str | None = NEW_PASSWORD) -> Result:
        environment = {"HEALTHEQUITY_DATABASE_URL": database_url}
        if password is not None:
            environment["HEALTHEQUITY_NEW_USER_PASSWORD"] = password
        return CliRunner().invoke(cli, list(arguments), env=environment)

    return _run


def _error_line(result: Result) -> str:
    """The one line a failed command prints, after checking it is the only output."""
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("healthequity: error: ")
    assert "Traceback" not in result.output
    return lines[0].removeprefix("healthequity: error: ")


def _count(database: Database, model: Any) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def _create_user(run: Callable[..., Result], email: str, *extra: str) -> Result:
    return run(
        "users",
        "create",
        "--email",
        email,
        "--name",
        "Jo Bloggs",
        "--organisation",
        "Riverside Practice",
        *extra,
    )


# users


def test_users_create_list_and_disable(run: Callable[..., Result], database: Database) -> None:
    created = _create_user(
        run,
        "Jo.Bloggs@Example.org",
        "--organisation-kind",
        "practice",
        "--ods-code",
        "Y12345",
        "--role",
        "clinician",
        "--role",
        "link_worker",
    )
    assert created.exit_code == 0, created.output
    assert created.stdout == (
        "created user jo.bloggs@example.org (clinician, link_worker) in Riverside Practice\n"
    )
    # A second user joins the existing organisation, found by its ODS code.
    second = run(
        "users",
        "create",
        "--email",
        "sam@example.org",
        "--name",
        "Sam Lee",
        "--organisation",
        "y12345",
        "--role",
        "analyst",
    )
    assert second.exit_code == 0, second.output

    with database.session() as session:
        user = service.get_user(session, "jo.bloggs@example.org")
        assert user.roles == {Role.CLINICIAN, Role.LINK_WORKER}
        assert user.organisation.ods_code == "Y12345"
        assert user.password_hash.startswith("$argon2id$")
        assert NEW_PASSWORD not in user.password_hash
        assert service.get_user(session, "sam@example.org").organisation_id == user.organisation_id
        authenticated = service.authenticate(
            session, AuditContext(), "jo.bloggs@example.org", NEW_PASSWORD
        )
        assert authenticated.id == user.id
        service.start_session(session, AuditContext(), user)

    listed = run("users", "list")
    assert listed.exit_code == 0, listed.output
    assert listed.stdout.splitlines() == [
        "jo.bloggs@example.org\tJo Bloggs\tRiverside Practice\tclinician,link_worker\tactive",
        "sam@example.org\tSam Lee\tRiverside Practice\tanalyst\tactive",
    ]

    disabled = run("users", "disable", "JO.BLOGGS@example.org")
    assert disabled.exit_code == 0, disabled.output
    assert disabled.stdout == "disabled jo.bloggs@example.org\n"
    assert _count(database, UserSession) == 0
    assert run("users", "list").stdout.splitlines()[0].endswith("\tdisabled")
    with pytest.raises(AuthenticationFailed), database.session() as session:
        service.authenticate(session, AuditContext(), "jo.bloggs@example.org", NEW_PASSWORD)

    with database.session() as session:
        events = list(
            session.scalars(
                select(AuditEvent)
                .where(AuditEvent.action.in_(["user.create", "user.disable"]))
                .order_by(AuditEvent.id)
            )
        )
    assert [e.action for e in events] == ["user.create", "user.create", "user.disable"]
    for event in events:
        assert event.client_address == "command line"
        assert event.purpose == "user administration"
        assert (event.request_id or "").startswith("cli-")


def test_users_create_refuses_a_duplicate_with_exit_2(
    run: Callable[..., Result], database: Database
) -> None:
    first = _create_user(
        run, "dup@example.org", "--organisation-kind", "practice", "--role", "clinician"
    )
    assert first.exit_code == 0, first.output
    again = _create_user(run, "DUP@example.org", "--role", "analyst")
    assert _error_line(again) == "a user with email 'dup@example.org' exists already"
    assert _count(database, User) == 1


@pytest.mark.parametrize(
    ("arguments", "password", "message"),
    [
        (
            ["--role", "clinician"],
            NEW_PASSWORD,
            "no organisation is named or has ODS code 'Riverside Practice'",
        ),
        (
            ["--organisation-kind", "practice", "--role", "clinician"],
            "too short",
            "password is 9 characters: expected at least 12",
        ),
        (
            ["--organisation-kind", "practice", "--role", "clinician", "--email", "no-at-sign"],
            NEW_PASSWORD,
            "email 'no-at-sign' is not an email address",
        ),
    ],
)
def test_users_create_bad_input_exits_2_and_creates_nothing(
    run: Callable[..., Result],
    database: Database,
    arguments: list[str],
    password: str,
    message: str,
) -> None:
    result = run(
        "users",
        "create",
        "--email",
        "jo@example.org",
        "--name",
        "Jo",
        "--organisation",
        "Riverside Practice",
        *arguments,
        password=password,
    )
    assert _error_line(result) == message
    assert _count(database, User) == 0
    assert _count(database, Organisation) == 0


def test_users_disable_unknown_exits_2(run: Callable[..., Result]) -> None:
    assert _error_line(run("users", "disable", "ghost@example.org")) == (
        "no user has email 'ghost@example.org'"
    )


# tokens


def test_tokens_create_prints_the_token_once_and_it_works(
    run: Callable[..., Result], app: FastAPI, database: Database, make_user: MakeUser
) -> None:
    make_user(Role.ADMIN)  # creates "Test Practice"
    result = run(
        "tokens",
        "create",
        "--name",
        "advice centre CRM",
        "--organisation",
        "Test Practice",
        "--role",
        "provider",
        "--expires-in-days",
        "30",
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    secret = lines[0]
    assert secret.startswith(service.API_TOKEN_PREFIX)
    assert secret not in result.stderr
    assert "copy it now, it is not shown again" in result.stderr

    with database.session() as session:
        token = session.scalars(select(ApiToken)).one()
        assert token.token_hash != secret
        assert token.roles == {Role.PROVIDER}
        assert token.expires_at is not None
        token_id, prefix = token.id, token.token_prefix
    assert f"token id {token_id};" in result.stderr

    listed = run("tokens", "list")
    assert listed.exit_code == 0
    assert secret not in listed.stdout
    assert listed.stdout.split("\t")[:5] == [
        str(token_id),
        f"{prefix}…",
        "advice centre CRM",
        "Test Practice",
        "provider",
    ]

    with TestClient(app) as client:
        me = client.get("/api/me", headers={"Authorization": f"Bearer {secret}"})
        assert me.status_code == 200
        assert me.json()["roles"] == ["provider"]
        assert me.json()["kind"] == "api_token"

        revoked = run("tokens", "revoke", prefix)
        assert revoked.exit_code == 0, revoked.output
        assert revoked.stdout == f"revoked token {token_id} (advice centre CRM)\n"
        after = client.get("/api/me", headers={"Authorization": f"Bearer {secret}"})
        assert after.status_code == 401
        assert after.headers["content-type"] == "application/json"
    assert run("tokens", "list").stdout.rstrip("\n").endswith("\trevoked")


def test_tokens_revoke_by_id_and_unknown_tokens(
    run: Callable[..., Result], app: FastAPI, make_user: MakeUser
) -> None:
    make_user(Role.ADMIN)
    secret = run(
        "tokens", "create", "--name", "n", "--organisation", "Test Practice", "--role", "analyst"
    ).stdout.strip()
    with TestClient(app) as client:
        headers = {"Authorization": f"Bearer {secret}"}
        assert client.get("/api/me", headers=headers).status_code == 200
        token_id = run("tokens", "list").stdout.split("\t")[0]
        assert run("tokens", "revoke", token_id).exit_code == 0
        assert client.get("/api/me", headers=headers).status_code == 401
    assert _error_line(run("tokens", "revoke", "he_nothing")) == (
        "no API token has id or prefix 'he_nothing'"
    )
    assert _error_line(
        run("tokens", "create", "--name", "n", "--organisation", "Nowhere", "--role", "analyst")
    ) == ("no organisation is named or has ODS code 'Nowhere'")


# demo


def test_demo_twice_creates_no_duplicates_and_prints_the_sign_ins(
    run: Callable[..., Result], database: Database
) -> None:
    outputs = []
    for _ in range(2):
        result = run("demo", "--no-serve")
        assert result.exit_code == 0, result.output
        outputs.append(result.stdout)
        assert _count(database, User) == len(DEMO_USERS) == 7
        assert _count(database, Organisation) == len(DEMO_ORGANISATIONS) == 5
        assert _count(database, Service) >= 300
    # The second run finds everything in place: the same report, nothing created.
    first, second = (
        [line for line in o.splitlines() if "rows created" not in line] for o in outputs
    )
    assert first == second
    assert "(0 rows created, 0 updated)" in outputs[1]
    output = outputs[0]
    assert f"password for all: {DEMO_PASSWORD}" in output
    assert "reference geography:" in output
    assert "serving on" not in output
    for demo_user in DEMO_USERS:
        line = next(line for line in output.splitlines() if line.endswith(demo_user.email))
        assert demo_user.roles[0].value in line
    with database.session() as session:
        for demo_user in DEMO_USERS:
            user = service.authenticate(session, AuditContext(), demo_user.email, DEMO_PASSWORD)
            assert user.roles == set(demo_user.roles)
            assert user.organisation.name == demo_user.organisation


def test_demo_restores_a_changed_demo_account(
    run: Callable[..., Result], database: Database
) -> None:
    assert run("demo", "--no-serve").exit_code == 0
    email = DEMO_USERS[0].email
    with database.session() as session:
        service.disable_user(session, AuditContext(), email)
        user = service.get_user(session, email)
        user.password_hash = service.hash_password("someone changed it")
    assert run("demo", "--no-serve").exit_code == 0
    with database.session() as session:
        assert service.authenticate(session, AuditContext(), email, DEMO_PASSWORD).is_active
    assert _count(database, User) == 7


def test_demo_migrates_an_empty_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    result = CliRunner().invoke(cli, ["demo", "--no-serve"], env={"HEALTHEQUITY_DATABASE_URL": url})
    assert result.exit_code == 0, result.output
    database = Database(url)
    try:
        assert _count(database, User) == 7
    finally:
        database.dispose()


# one-line errors everywhere


@pytest.mark.parametrize(
    "arguments",
    [
        ["db", "upgrade"],
        ["db", "current"],
        ["users", "list"],
        ["users", "disable", "a@b.org"],
        ["tokens", "list"],
        ["tokens", "revoke", "1"],
        ["audit", "export"],
        ["demo", "--no-serve"],
        ["serve"],
    ],
)
def test_every_command_gives_one_line_for_a_malformed_database_url(arguments: list[str]) -> None:
    result = CliRunner().invoke(
        cli, arguments, env={"HEALTHEQUITY_DATABASE_URL": "oracle://db.example/prod"}
    )
    message = _error_line(result)
    assert message.startswith("HEALTHEQUITY_DATABASE_URL 'oracle://db.example/prod' uses 'oracle'")


def test_commands_refuse_an_unmigrated_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    result = CliRunner().invoke(cli, ["users", "list"], env={"HEALTHEQUITY_DATABASE_URL": url})
    assert "run `healthequity db upgrade`" in _error_line(result)


def test_version_and_help() -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["--version"]).stdout == f"healthequity, version {__version__}\n"
    help_text = runner.invoke(cli, ["-h"]).stdout
    for command in ("db", "users", "tokens", "audit", "demo", "serve", "geography"):
        assert f"  {command} " in help_text


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("postgresql+psycopg://127.0.0.1:1/healthequity", "connection failed"),
        ("sqlite:///no-such-folder/healthequity.db", "unable to open database file"),
    ],
    ids=["unreachable-server", "missing-folder"],
)
def test_a_database_that_cannot_be_used_gives_one_line(url: str, reason: str) -> None:
    result = CliRunner().invoke(cli, ["db", "upgrade"], env={"HEALTHEQUITY_DATABASE_URL": url})
    line = _error_line(result)
    assert line.startswith("the database could not be used: ")
    assert reason in line
