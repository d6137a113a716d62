"""What every subcommand shares: the database, an audit context, and one-line errors."""

from __future__ import annotations

import functools
import sys
import uuid
from collections.abc import Callable
from typing import NoReturn, ParamSpec, TypeVar

import click
from sqlalchemy.exc import OperationalError

from healthequity.audit.schemas import AuditContext
from healthequity.config import load_settings
from healthequity.store.database import Database
from healthequity.store.exceptions import StoreError
from healthequity.store.migrations import check_schema_current

P = ParamSpec("P")
R = TypeVar("R")

# Exit code for bad input or configuration, as click uses for usage errors.
EXIT_BAD_INPUT = 2


def fail(message: str) -> NoReturn:
    click.echo(f"healthequity: error: {message}", err=True)
    sys.exit(EXIT_BAD_INPUT)


def clear_errors(*error_types: type[Exception]) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Turn the named (expected) errors, any storage error such as a malformed database
    URL, and a database that cannot be reached, into one line on stderr and exit code 2."""
    expected: tuple[type[Exception], ...] = (*error_types, StoreError)

    def decorate(command: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(command)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return command(*args, **kwargs)
            except expected as error:
                fail(str(error))
            except OperationalError as error:
                # Unreachable server, missing folder, locked file: the driver's own first
                # line says which, without the stack trace around it.
                reason = str(error.orig).strip().splitlines()[0]
                fail(f"the database could not be used: {reason}")

        return wrapper

    return decorate


def open_database(*, require_current_schema: bool = True) -> Database:
    database = Database(load_settings().database_url)
    if require_current_schema:
        check_schema_current(database.engine)
    return database


def command_line_context(purpose: str) -> AuditContext:
    """Audit context of a command: no user, but a request id that ties its events together."""
    return AuditContext(
        request_id=f"cli-{uuid.uuid4().hex}", client_address="command line", purpose=purpose
    )
