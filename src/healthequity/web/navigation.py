"""Navigation and home-page sections, contributed by each capability and shown by role."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy.orm import Session

from healthequity.audit.schemas import AuditContext
from healthequity.auth.models import Role
from healthequity.auth.schemas import Principal

if TYPE_CHECKING:
    from healthequity.people.models import Person


@dataclass(frozen=True, slots=True)
class NavItem:
    label: str
    href: str
    roles: frozenset[Role]


@dataclass(frozen=True, slots=True)
class HomeSection:
    """A card on the home page linking to one piece of work a role does."""

    title: str
    description: str
    href: str
    roles: frozenset[Role]
    # A live figure for the card ("3 follow-ups due"), or None when there is nothing to say.
    figure: Callable[[Session, Principal], str | None] | None = None


@dataclass(frozen=True, slots=True)
class PersonSection:
    """A part of the page about one person that another capability contributes: `template`
    is included with `section` set to what `load(session, context, principal, person)`
    returns: whatever it reads about the person, it audits under `context`."""

    template: str
    load: Callable[[Session, AuditContext, Principal, Person], Any]
    roles: frozenset[Role]


T = TypeVar("T", NavItem, HomeSection, PersonSection)


def visible_to(items: list[T], principal: Principal | None) -> list[T]:
    if principal is None:
        return []
    return [item for item in items if principal.has_any_role(item.roles)]
