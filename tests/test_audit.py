"""The append-only audit log: what is recorded, that the database refuses changes, export."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from conftest import csrf_token, sign_in
from healthequity.audit import service as audit_service
from healthequity.audit.exceptions import UnknownExportFormat
from healthequity.audit.models import AuditEvent
from healthequity.audit.schemas import AuditContext
from healthequity.auth import service as auth_service
from healthequity.auth.models import OrganisationKind, Role
from healthequity.cli.main import cli
from healthequity.store import Database
from healthequity.web.security import CSRF_FIELD

if TYPE_CHECKING:
    from conftest import TestUser

pytestmark = pytest.mark.usefixtures("fast_password_hashing")

MakeUser = Callable[..., "TestUser"]
EXPECTED_COLUMNS = [
    "id",
    "occurred_at",
    "user_id",
    "api_token_id",
    "organisation_id",
    "action",
    "subject_type",
    "subject_id",
    "purpose",
    "request_id",
    "client_address",
    "detail",
]


def _events(database: Database, action: str | None = None) -> list[AuditEvent]:
    with database.session() as session:
        query = select(AuditEvent).order_by(AuditEvent.id)
        if action is not None:
            query = query.where(AuditEvent.action == action)
        return list(session.scalars(query))


def _one(database: Database, action: str) -> AuditEvent:
    events = _events(database, action)
    assert len(events) == 1, [(e.action, e.detail) for e in _events(database)]
    return events[0]


def _seed_event(database: Database) -> int:
    with database.session() as session:
        return audit_service.record_event(session, AuditContext(), "seed").id


# Recording


def test_record_event_writes_who_when_where_what_and_why(database: Database) -> None:
    with database.session() as session:
        organisation = auth_service.ensure_organisation(session, "Org", OrganisationKind.TRUST)
        token = auth_service.create_api_token(
            session,
            AuditContext(),
            name="crm",
            organisation=organisation,
            roles=[Role.PROVIDER],
        )
    context = AuditContext(
        user_id=None,
        api_token_id=token.record_id,
        organisation_id=organisation.id,
        request_id="req-123",
        client_address="192.0.2.7",
    ).for_purpose("direct care")
    before = datetime.now(UTC)
    with database.session() as session:
        event_id = audit_service.record_event(
            session,
            context,
            "referral.read",
            subject_type="referral",
            subject_id=42,
            detail={"fields": ["needs"], "b": 1},
        ).id
    after = datetime.now(UTC)

    with database.session() as session:
        event = session.get(AuditEvent, event_id)
        assert event is not None
        assert event.action == "referral.read"
        assert event.api_token_id == token.record_id
        assert event.user_id is None
        assert event.organisation_id == organisation.id
        assert event.subject_type == "referral"
        assert event.subject_id == "42"
        assert event.purpose == "direct care"
        assert event.request_id == "req-123"
        assert event.client_address == "192.0.2.7"
        assert json.loads(event.detail or "") == {"b": 1, "fields": ["needs"]}
        assert event.occurred_at.tzinfo is not None
        assert before - timedelta(seconds=1) <= event.occurred_at <= after + timedelta(seconds=1)

    with database.session() as session:
        found = audit_service.list_events(session, subject_type="referral", subject_id="42")
        assert [e.id for e in found] == [event_id]
        assert audit_service.list_events(session, subject_type="referral", subject_id="9") == []


def test_sign_in_is_audited_with_the_request(
    client: TestClient, database: Database, make_user: MakeUser
) -> None:
    user = make_user(Role.CLINICIAN)
    response = client.post(
        "/login",
        data={"email": user.email, "password": user.password, CSRF_FIELD: csrf_token(client)},
        headers={"X-Request-ID": "sign-in-request-1"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    event = _one(database, "login")
    assert event.user_id == user.user_id
    assert event.organisation_id == user.organisation_id
    assert (event.subject_type, event.subject_id) == ("user", str(user.user_id))
    assert event.request_id == "sign-in-request-1"
    assert event.client_address == "testclient"


def test_failed_sign_ins_are_audited_without_the_password(
    client: TestClient, database: Database, make_user: MakeUser
) -> None:
    user = make_user(Role.CLINICIAN)
    for email in (user.email, "nobody@example.org"):
        response = client.post(
            "/login",
            data={"email": email, "password": "Wrong-Guess-1234", CSRF_FIELD: csrf_token(client)},
            follow_redirects=False,
        )
        assert response.status_code == 401
        assert response.headers["x-request-id"]
    failures = _events(database, "login.failed")
    assert len(failures) == 2
    wrong_password, unknown = failures
    assert (wrong_password.subject_type, wrong_password.subject_id) == ("user", str(user.user_id))
    assert json.loads(wrong_password.detail or "") == {"failed_logins": 1, "reason": "password"}
    assert unknown.subject_id is None
    assert json.loads(unknown.detail or "") == {"reason": "unknown"}
    for event in failures:
        assert event.user_id is None  # nobody was signed in
        assert event.client_address == "testclient"
        assert event.request_id
        assert "Wrong-Guess-1234" not in (event.detail or "")
    assert _events(database, "login") == []


def test_sign_out_is_audited(client: TestClient, database: Database, make_user: MakeUser) -> None:
    user = make_user(Role.ANALYST)
    sign_in(client, user)
    response = client.post("/logout", data={CSRF_FIELD: csrf_token(client)}, follow_redirects=False)
    assert response.status_code == 303
    event = _one(database, "logout")
    assert event.user_id == user.user_id
    assert event.organisation_id == user.organisation_id
    assert event.subject_id == str(user.user_id)
    assert event.request_id == response.headers["x-request-id"]


def test_user_create_and_disable_are_audited(database: Database) -> None:
    context = AuditContext(request_id="cli-1", client_address="command line", purpose="admin")
    with database.session() as session:
        organisation = auth_service.ensure_organisation(session, "Org", OrganisationKind.PRACTICE)
        user = auth_service.create_user(
            session,
            context,
            email="New.Person@Example.org",
            display_name="New Person",
            password="a long enough password",
            organisation=organisation,
            roles=[Role.CURATOR, Role.ANALYST],
        )
    created = _one(database, "user.create")
    assert (created.subject_type, created.subject_id) == ("user", str(user.id))
    assert (created.request_id, created.client_address, created.purpose) == (
        "cli-1",
        "command line",
        "admin",
    )
    assert json.loads(created.detail or "") == {
        "organisation_id": organisation.id,
        "roles": ["analyst", "curator"],
    }
    assert "a long enough password" not in (created.detail or "")

    with database.session() as session:
        auth_service.disable_user(session, context, "new.person@example.org")
    disabled = _one(database, "user.disable")
    assert (disabled.subject_type, disabled.subject_id) == ("user", str(user.id))
    assert disabled.purpose == "admin"


def test_token_create_and_revoke_are_audited_once(database: Database) -> None:
    context = AuditContext(request_id="cli-2", purpose="tokens")
    with database.session() as session:
        organisation = auth_service.ensure_organisation(session, "Org", OrganisationKind.PROVIDER)
        issued = auth_service.create_api_token(
            session, context, name="crm", organisation=organisation, roles=[Role.PROVIDER]
        )
    created = _one(database, "api_token.create")
    assert (created.subject_type, created.subject_id) == ("api_token", str(issued.record_id))
    assert json.loads(created.detail or "") == {"name": "crm", "roles": ["provider"]}
    assert issued.secret not in (created.detail or "")

    for _ in range(2):
        with database.session() as session:
            auth_service.revoke_api_token(session, context, str(issued.record_id))
    revoked = _one(database, "api_token.revoke")
    assert (revoked.subject_type, revoked.subject_id) == ("api_token", str(issued.record_id))
    assert revoked.request_id == "cli-2"


# Append-only, enforced by the database


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_event SET action = 'tampered'",
        "UPDATE audit_event SET detail = NULL WHERE id = :id",
        "DELETE FROM audit_event WHERE id = :id",
        "DELETE FROM audit_event",
    ],
)
def test_the_database_refuses_to_change_or_delete_audit_events(
    database: Database, statement: str
) -> None:
    event_id = _seed_event(database)
    with pytest.raises(DBAPIError, match="append-only"), database.engine.begin() as connection:
        connection.execute(text(statement), {"id": event_id} if ":id" in statement else {})
    events = _events(database)
    assert [(e.id, e.action) for e in events] == [(event_id, "seed")]


def test_the_orm_cannot_change_an_audit_event_either(database: Database) -> None:
    event_id = _seed_event(database)
    with pytest.raises(DBAPIError, match="append-only"), database.session() as session:
        event = session.get(AuditEvent, event_id)
        assert event is not None
        event.action = "tampered"
    with pytest.raises(DBAPIError, match="append-only"), database.session() as session:
        event = session.get(AuditEvent, event_id)
        session.delete(event)
    assert [(e.id, e.action) for e in _events(database)] == [(event_id, "seed")]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # SQLite has no TRUNCATE
@pytest.mark.parametrize(
    "statement", ["TRUNCATE audit_event", "TRUNCATE user_account, organisation CASCADE"]
)
def test_postgresql_refuses_to_truncate_the_audit_log(database: Database, statement: str) -> None:
    assert not database.is_sqlite
    event_id = _seed_event(database)
    with pytest.raises(DBAPIError, match="append-only"), database.engine.begin() as connection:
        connection.execute(text(statement))
    assert [e.id for e in _events(database)] == [event_id]


# Export


@dataclass(frozen=True)
class Seeded:
    recent_ids: list[int]
    organisation_id: int


@pytest.fixture
def exported_events(database: Database) -> Seeded:
    """One event from 2019 and two from 2024 (the ids of which are given)."""
    with database.session() as session:
        organisation = auth_service.ensure_organisation(session, "Org", OrganisationKind.ICB)
        old = AuditEvent(occurred_at=datetime(2019, 12, 31, 23, 59, tzinfo=UTC), action="old")
        first = AuditEvent(
            occurred_at=datetime(2024, 5, 1, 8, 0, tzinfo=UTC),
            organisation_id=organisation.id,
            action="record.read",
            subject_type="record",
            subject_id="7",
            purpose="direct care",
            request_id="req-a",
            client_address="198.51.100.1",
            detail=json.dumps({"why": 'a, "quoted" reason'}),
        )
        second = AuditEvent(occurred_at=datetime(2024, 5, 2, tzinfo=UTC), action="record.update")
        session.add_all([old, first, second])
        session.flush()
        return Seeded([first.id, second.id], organisation.id)


def _export(database_url: str, *arguments: str) -> Any:
    return CliRunner().invoke(
        cli, ["audit", "export", *arguments], env={"HEALTHEQUITY_DATABASE_URL": database_url}
    )


def test_audit_export_csv(database_url: str, database: Database, exported_events: Seeded) -> None:
    result = _export(database_url, "--since", "2020-01-01", "--format", "csv")
    assert result.exit_code == 0, result.output
    assert result.stderr.strip() == "exported 2 audit events"
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == EXPECTED_COLUMNS
    records = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert [int(r["id"]) for r in records] == exported_events.recent_ids
    first = records[0]
    assert datetime.fromisoformat(first["occurred_at"]) == datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
    assert first["organisation_id"] == str(exported_events.organisation_id)
    assert first["user_id"] == ""
    assert first["api_token_id"] == ""
    assert first["action"] == "record.read"
    assert (first["subject_type"], first["subject_id"]) == ("record", "7")
    assert first["purpose"] == "direct care"
    assert first["request_id"] == "req-a"
    assert first["client_address"] == "198.51.100.1"
    assert json.loads(first["detail"]) == {"why": 'a, "quoted" reason'}
    assert records[1]["action"] == "record.update"


def test_audit_export_jsonl(database_url: str, database: Database, exported_events: Seeded) -> None:
    result = _export(database_url, "--since", "2020-01-01", "--format", "jsonl")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    records = [json.loads(line) for line in lines]
    for record in records:
        assert list(record) == sorted(EXPECTED_COLUMNS)
    assert [r["id"] for r in records] == exported_events.recent_ids
    first = records[0]
    assert datetime.fromisoformat(first["occurred_at"]) == datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
    assert first["organisation_id"] == exported_events.organisation_id
    assert first["user_id"] is None
    assert first["action"] == "record.read"
    assert first["subject_id"] == "7"
    assert first["purpose"] == "direct care"
    assert first["request_id"] == "req-a"
    assert first["client_address"] == "198.51.100.1"


def test_audit_export_without_since_gives_everything_to_a_file(
    database_url: str, database: Database, exported_events: Seeded, tmp_path: Path
) -> None:
    out = tmp_path / "audit.jsonl"
    result = _export(database_url, "--format", "jsonl", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    actions = [json.loads(line)["action"] for line in out.read_text().splitlines()]
    assert actions == ["old", "record.read", "record.update"]


def test_audit_export_since_a_time_with_an_offset(
    database_url: str, database: Database, exported_events: Seeded
) -> None:
    # 09:30 in UTC+2 is 07:30 UTC: the 08:00 UTC event is after it.
    result = _export(database_url, "--since", "2024-05-01T09:30:00+02:00", "--format", "jsonl")
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["action"] for line in result.stdout.splitlines()] == [
        "record.read",
        "record.update",
    ]


@pytest.mark.parametrize("since", ["yesterday", "2020-13-01", "01/02/2020"])
def test_audit_export_with_a_bad_since_exits_2_with_one_line(
    database_url: str, database: Database, since: str
) -> None:
    result = _export(database_url, "--since", since)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"healthequity: error: --since {since!r} is not a date: "
        "expected YYYY-MM-DD or an ISO 8601 time"
    ]


def test_export_refuses_an_unknown_format(database: Database) -> None:
    with pytest.raises(UnknownExportFormat, match="'xml' is not known"), database.session() as s:
        audit_service.export_events(s, io.StringIO(), since=None, export_format="xml")
