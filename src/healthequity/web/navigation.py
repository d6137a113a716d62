"""Navigation and home-page sections, contributed by each capability and shown by role."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from healthequity.auth.models import Role
from healthequity.auth.schemas import Principal


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


T = TypeVar("T", NavItem, HomeSection)


def visible_to(items: list[T], principal: Principal | None) -> list[T]:
    if principal is None:
        return []
    return [item for item in items if principal.has_any_role(item.roles)]
