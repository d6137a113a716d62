"""Errors of the storage layer."""


class StoreError(Exception):
    """Base class for storage errors."""


class InvalidDatabaseUrl(StoreError):
    """`HEALTHEQUITY_DATABASE_URL` is malformed or names an unsupported database."""


class DatabaseTooNew(StoreError):
    """The database was migrated by a newer version of healthequity than this one."""


class DatabaseNotMigrated(StoreError):
    """The database has no schema yet, or an older one: run `healthequity db upgrade`."""


class StaleRecord(StoreError):
    """Someone else changed the record since it was read (optimistic locking)."""
