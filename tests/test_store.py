"""Storage: engine settings, database URLs, migrations and refusing a newer schema."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from healthequity.audit.schemas import AuditContext
from healthequity.audit.service import record_event
from healthequity.auth.models import Organisation, OrganisationKind, User
from healthequity.cli.main import cli
from healthequity.config import Settings
from healthequity.store import (
    Database,
    DatabaseNotMigrated,
    DatabaseTooNew,
    InvalidDatabaseUrl,
    current_revision,
    head_revision,
    parse_database_url,
    upgrade,
)
from healthequity.store.migrations import alembic_config, check_schema_current
from healthequity.store.tables import metadata
from healthequity.web.app import create_app

HEALTHEQUITY_SCRIPT = Path(sys.executable).with_name("healthequity")
FUTURE_REVISION = "ffff_future"
PLATFORM_TABLES = {
    "organisation",
    "user_account",
    "user_role",
    "user_session",
    "api_token",
    "api_token_role",
    "audit_event",
    "postcode",
}


def _stamp(database: Database, revision: str) -> None:
    with database.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})


# Engine settings


def test_sqlite_runs_in_wal_mode_with_foreign_keys_on(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'fresh.db'}")
    try:
        with database.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        # Every pooled connection is set up, not only the first one.
        with database.engine.connect() as one, database.engine.connect() as two:
            for connection in (one, two):
                assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        database.dispose()
    assert database.is_sqlite


def test_foreign_keys_are_enforced(database: Database) -> None:
    with pytest.raises(IntegrityError), database.session() as session:
        session.add(
            User(
                email="orphan@example.org",
                display_name="Orphan",
                password_hash="x",
                organisation_id=987654,
            )
        )
        session.flush()
    with database.session() as session:
        assert session.scalar(text("SELECT count(*) FROM user_account")) == 0


def test_timestamps_come_back_in_utc_and_naive_ones_are_refused(database: Database) -> None:
    moment = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
    with database.session() as session:
        organisation = Organisation(
            name="Clock Practice", kind=OrganisationKind.PRACTICE, created_at=moment
        )
        session.add(organisation)
    with database.session() as session:
        loaded = session.get(Organisation, organisation.id)
        assert loaded is not None
        assert loaded.created_at == moment
        assert loaded.created_at.tzinfo is not None
    with pytest.raises(Exception, match="naive datetime"), database.session() as session:
        session.add(
            Organisation(
                name="Naive Practice",
                kind=OrganisationKind.PRACTICE,
                created_at=datetime(2026, 3, 1, 12, 30),  # deliberately naive
            )
        )
        session.flush()


# Database URLs


@pytest.mark.parametrize(
    ("value", "drivername"),
    [
        ("sqlite:///./healthequity.db", "sqlite"),
        ("sqlite:////var/lib/healthequity/data.db", "sqlite"),
        ("postgresql+psycopg://he@db.example:5432/healthequity", "postgresql+psycopg"),
        ("postgresql://he@db.example:5432/healthequity", "postgresql+psycopg"),
        ("postgres://he@db.example/healthequity", "postgresql+psycopg"),
        ("  sqlite:///padded.db  ", "sqlite"),
    ],
)
def test_parse_database_url_accepts_sqlite_and_postgresql(value: str, drivername: str) -> None:
    url = parse_database_url(value)
    assert url.drivername == drivername
    if drivername == "postgresql+psycopg":
        assert url.host == "db.example"
        assert url.database == "healthequity"


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("", "is empty"),
        ("   ", "is empty"),
        ("not a url", "is not a database URL"),
        ("mysql://he@db.example/healthequity", "'mysql', which is not supported"),
        ("postgresql+psycopg2://he@db.example/x", "'postgresql+psycopg2', which is not supported"),
        ("sqlite://db.example/x.db", "gives a host for SQLite"),
        ("postgresql+psycopg://he@db.example", "lacks a host or database name"),
        ("postgresql:///healthequity", "lacks a host or database name"),
    ],
)
def test_parse_database_url_rejects_with_the_value_and_what_is_expected(
    value: str, problem: str
) -> None:
    with pytest.raises(InvalidDatabaseUrl) as caught:
        parse_database_url(value)
    message = str(caught.value)
    assert problem in message
    assert "HEALTHEQUITY_DATABASE_URL" in message
    assert "expected sqlite:///PATH" in message
    assert "postgresql+psycopg://" in message
    if value.strip():
        assert repr(value) in message


def test_rejected_database_url_does_not_repeat_its_password() -> None:
    with pytest.raises(InvalidDatabaseUrl) as caught:
        parse_database_url("mysql://he:hunter2-secret@db.example/healthequity")
    message = str(caught.value)
    assert "hunter2-secret" not in message
    assert "db.example/healthequity" in message


def test_malformed_database_url_gives_one_line_and_exit_2_from_the_real_command(
    tmp_path: Path,
) -> None:
    assert HEALTHEQUITY_SCRIPT.exists(), HEALTHEQUITY_SCRIPT
    environment = {**os.environ, "HEALTHEQUITY_DATABASE_URL": "postgresql+mysql:/nowhere"}
    result = subprocess.run(
        [str(HEALTHEQUITY_SCRIPT), "db", "current"],
        env=environment,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("healthequity: error: HEALTHEQUITY_DATABASE_URL")
    assert "'postgresql+mysql:/nowhere'" in lines[0]
    assert "expected sqlite:///PATH" in lines[0]
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


# Migrations through the CLI


def test_db_upgrade_creates_a_new_database_and_db_current_reports_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    runner = CliRunner()
    environment = {"HEALTHEQUITY_DATABASE_URL": url}

    before = runner.invoke(cli, ["db", "current"], env=environment)
    assert before.exit_code == 0, before.output
    assert "database revision: none (empty database)" in before.stdout
    assert "needs `healthequity db upgrade`" in before.stdout

    result = runner.invoke(cli, ["db", "upgrade"], env=environment)
    assert result.exit_code == 0, result.output
    assert f"database at revision {head_revision()} (newest)" in result.stdout

    after = runner.invoke(cli, ["db", "current"], env=environment)
    assert after.exit_code == 0, after.output
    assert f"database revision: {head_revision()}" in after.stdout
    assert f"newest revision:   {head_revision()} (up to date)" in after.stdout

    database = Database(url)
    try:
        assert set(inspect(database.engine).get_table_names()) >= PLATFORM_TABLES
        check_schema_current(database.engine)
    finally:
        database.dispose()


def test_db_upgrade_and_current_on_each_database(database_url: str, database: Database) -> None:
    runner = CliRunner()
    environment = {"HEALTHEQUITY_DATABASE_URL": database_url}
    upgraded = runner.invoke(cli, ["db", "upgrade"], env=environment)
    assert upgraded.exit_code == 0, upgraded.output
    current = runner.invoke(cli, ["db", "current"], env=environment)
    assert current.exit_code == 0, current.output
    assert f"database revision: {head_revision()}" in current.stdout
    assert "(up to date)" in current.stdout
    assert current_revision(database.engine) == head_revision()


# A database from a newer version


def test_upgrade_refuses_a_database_from_a_newer_version(database: Database) -> None:
    _stamp(database, FUTURE_REVISION)
    with pytest.raises(DatabaseTooNew) as caught:
        upgrade(database.engine)
    message = str(caught.value)
    assert repr(FUTURE_REVISION) in message
    assert "newer version" in message
    assert repr(head_revision()) in message
    assert current_revision(database.engine) == FUTURE_REVISION
    with pytest.raises(DatabaseTooNew):
        check_schema_current(database.engine)


def test_db_upgrade_command_refuses_a_newer_database_with_exit_2(
    database_url: str, database: Database
) -> None:
    _stamp(database, FUTURE_REVISION)
    result = CliRunner().invoke(
        cli, ["db", "upgrade"], env={"HEALTHEQUITY_DATABASE_URL": database_url}
    )
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("healthequity: error: the database is at schema revision")
    assert FUTURE_REVISION in lines[0]
    assert current_revision(database.engine) == FUTURE_REVISION


def test_commands_that_need_the_schema_refuse_a_newer_database(
    database_url: str, database: Database
) -> None:
    _stamp(database, FUTURE_REVISION)
    result = CliRunner().invoke(
        cli, ["users", "list"], env={"HEALTHEQUITY_DATABASE_URL": database_url}
    )
    assert result.exit_code == 2
    assert FUTURE_REVISION in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_db_current_names_a_newer_database_as_such(database_url: str, database: Database) -> None:
    _stamp(database, FUTURE_REVISION)
    result = CliRunner().invoke(
        cli, ["db", "current"], env={"HEALTHEQUITY_DATABASE_URL": database_url}
    )
    assert f"database revision: {FUTURE_REVISION}" in result.stdout
    # It must not send the operator to `db upgrade`, which refuses this database.
    assert "needs `healthequity db upgrade`" not in result.output
    assert "newer" in result.output


def test_app_refuses_to_start_on_a_newer_database(settings: Settings, database: Database) -> None:
    _stamp(database, FUTURE_REVISION)
    app = create_app(settings, database)
    with pytest.raises(DatabaseTooNew, match=FUTURE_REVISION), TestClient(app):
        pass


def test_app_refuses_to_start_on_an_unmigrated_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    database = Database(url)
    settings = Settings(
        database_url=url,
        secret_key="test",
        assets_dir=tmp_path,
        environment="test",
        log_level="WARNING",
    )
    app = create_app(settings, database)
    with pytest.raises(DatabaseNotMigrated, match="healthequity db upgrade"), TestClient(app):
        pass


# Downgrade and upgrade again


def test_downgrade_to_base_then_upgrade(database: Database) -> None:
    config = alembic_config(database.engine)
    command.downgrade(config, "base")
    assert current_revision(database.engine) is None
    remaining = set(inspect(database.engine).get_table_names())
    assert remaining & PLATFORM_TABLES == set()

    upgrade(database.engine)
    assert current_revision(database.engine) == head_revision()
    assert set(inspect(database.engine).get_table_names()) >= PLATFORM_TABLES
    check_schema_current(database.engine)

    # The append-only triggers come back with the schema.
    with database.session() as session:
        record_event(session, AuditContext(), "test.event")
    with pytest.raises(DBAPIError, match="append-only"), database.engine.begin() as connection:
        connection.execute(text("UPDATE audit_event SET action = 'changed'"))


def test_the_migrations_build_exactly_the_tables_the_models_declare(database: Database) -> None:
    """Alembic's comparison of the migrated database with every capability's models finds
    nothing to change: no table, column, index or type that one has and the other lacks."""
    with database.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert differences == []
