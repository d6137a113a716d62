"""Storage: one SQLAlchemy engine, sessions, and Alembic migrations.

SQLite (a file, WAL mode, foreign keys on) by default; PostgreSQL through
`HEALTHEQUITY_DATABASE_URL=postgresql+psycopg://...`. Same code for both.
"""

from healthequity.store.database import (
    Base,
    Database,
    create_database_engine,
    parse_database_url,
)
from healthequity.store.exceptions import (
    DatabaseNotMigrated,
    DatabaseTooNew,
    InvalidDatabaseUrl,
    StoreError,
)
from healthequity.store.migrations import current_revision, head_revision, upgrade

__all__ = [
    "Base",
    "Database",
    "DatabaseNotMigrated",
    "DatabaseTooNew",
    "InvalidDatabaseUrl",
    "StoreError",
    "create_database_engine",
    "current_revision",
    "head_revision",
    "parse_database_url",
    "upgrade",
]
