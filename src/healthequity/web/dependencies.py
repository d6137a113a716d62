"""Request-scoped dependencies shared by every capability's routes and pages."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Request
from sqlalchemy.orm import Session

from healthequity.store.database import Database


def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request, committed when the route returns without error.

    Use as `Depends(get_session, scope="function")` so that the commit happens before the
    response is sent and a failed commit is an error, not a silent loss.
    """
    with get_database(request).session() as session:
        yield session


def request_id(request: Request) -> str:
    value: str = request.state.request_id
    return value


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None
