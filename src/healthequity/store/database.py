"""Engine and session factory for SQLite and PostgreSQL."""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Enum, MetaData, TypeDecorator, event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.engine.interfaces import Dialect
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

from healthequity.store.exceptions import InvalidDatabaseUrl

# Stable constraint names so that migrations can refer to them on both databases.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on both databases (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where a UTC timestamp is expected")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _values(enum_class: type[enum.Enum]) -> list[str]:
    return [member.value for member in enum_class]


def enum_column(enum_class: type[enum.Enum], name: str) -> Enum:
    """An enum stored as its values in text with a CHECK constraint, alike on both databases."""
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=_values,
        validate_strings=True,
    )


def utc_now() -> datetime:
    return datetime.now(UTC)


_EXPECTED = (
    "expected sqlite:///PATH (for example sqlite:///./healthequity.db) or "
    "postgresql+psycopg://USER@HOST:PORT/DATABASE"
)


_USER_PASSWORD = re.compile(r"(//[^/:@]*):[^@/]*@")


def parse_database_url(value: str) -> URL:
    """Parse and check a database URL; `postgresql://` means the psycopg 3 driver."""
    if not value.strip():
        raise InvalidDatabaseUrl(f"HEALTHEQUITY_DATABASE_URL is empty: {_EXPECTED}")
    try:
        url = make_url(value.strip())
    except ArgumentError:
        shown = _USER_PASSWORD.sub(r"\1:***@", value.strip())
        raise InvalidDatabaseUrl(
            f"HEALTHEQUITY_DATABASE_URL {shown!r} is not a database URL: {_EXPECTED}"
        ) from None
    # Name the value in messages, but never its password (errors end up in logs).
    shown = url.render_as_string(hide_password=True) if url.password else value
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    if url.drivername == "sqlite":
        if url.host or url.username:
            raise InvalidDatabaseUrl(
                f"HEALTHEQUITY_DATABASE_URL {shown!r} gives a host for SQLite: {_EXPECTED}"
            )
        return url
    if url.drivername != "postgresql+psycopg":
        raise InvalidDatabaseUrl(
            f"HEALTHEQUITY_DATABASE_URL {shown!r} uses {url.drivername!r}, "
            f"which is not supported: {_EXPECTED}"
        )
    if not url.host or not url.database:
        raise InvalidDatabaseUrl(
            f"HEALTHEQUITY_DATABASE_URL {shown!r} lacks a host or database name: {_EXPECTED}"
        )
    return url


def _configure_sqlite(dbapi_connection: Any, connection_record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_database_engine(database_url: str) -> Engine:
    """An engine for the URL, with SQLite set to WAL mode and foreign keys on."""
    from sqlalchemy import create_engine

    url = parse_database_url(database_url)
    if url.drivername == "sqlite":
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _configure_sqlite)
        return engine
    return create_engine(url, pool_pre_ping=True)


class Database:
    """An engine and its session factory; the app and the CLI each hold one."""

    def __init__(self, database_url: str) -> None:
        self.url = database_url
        self.engine = create_database_engine(database_url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on error."""
        with self._sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
