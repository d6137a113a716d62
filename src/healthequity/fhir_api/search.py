"""FHIR search: the parameters each resource type takes (`SearchParam`), reading a query
string against them (`parse_query`), the values of each type of parameter (dates with
prefixes, tokens, references), and the searchset Bundle with its total and paging links.

Unknown parameters and modifiers are refused (400 naming the parameter and listing those
supported) rather than ignored, so that a misspelt filter never silently returns everyone.
A parameter given several times must hold every time (AND); values separated by commas
in one parameter are alternatives (OR). Pages are `_count` entries long (20 unless asked,
at most 100) and numbered by `_page` from 1."""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar
from urllib.parse import urlencode

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.resource import Resource
from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from healthequity.dates import LONDON
from healthequity.fhir_api.exceptions import invalid

DEFAULT_COUNT = 20
MAX_COUNT = 100
# Parameters of every search: paging, and the format (JSON is the only one served).
COUNT, PAGE, FORMAT = "_count", "_page", "_format"
JSON_FORMATS = frozenset({"json", "application/json", "application/fhir+json"})

_T = TypeVar("_T")


class ParamType(enum.StrEnum):
    TOKEN = "token"  # noqa: S105 (a FHIR parameter type, not a secret)
    REFERENCE = "reference"
    DATE = "date"
    STRING = "string"
    URI = "uri"


@dataclass(frozen=True, slots=True)
class SearchParam:
    name: str
    type: ParamType
    documentation: str
    # Modifiers taken besides none, such as "identifier" on a reference.
    modifiers: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """A search as asked: each parameter (with its modifier, "owner:identifier") to the
    list of its occurrences, each a list of alternatives; and the page wanted."""

    resource_type: str
    criteria: dict[str, list[list[str]]] = field(default_factory=dict)
    count: int = DEFAULT_COUNT
    page: int = 1

    def occurrences(self, name: str) -> list[list[str]]:
        return self.criteria.get(name, [])

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.count

    def link_items(self) -> list[tuple[str, str]]:
        """The criteria as query-string items, in a stable order, for paging links."""
        return [
            (name, ",".join(values))
            for name in sorted(self.criteria)
            for values in self.criteria[name]
        ]


def _whole_number(name: str, value: str, smallest: int) -> int:
    if not value.isdigit() or int(value) < smallest:
        raise invalid(f"{name} {value!r}: expected a whole number from {smallest}", name)
    return int(value)


def parse_query(
    resource_type: str, params: Sequence[SearchParam], items: Iterable[tuple[str, str]]
) -> SearchQuery:
    """The search these query-string items ask for; 400 naming any parameter, modifier or
    value that is not supported."""
    known = {param.name: param for param in params}
    criteria: dict[str, list[list[str]]] = {}
    count, page = DEFAULT_COUNT, 1
    for key, raw in items:
        value = raw.strip()
        if key == COUNT:
            # A server may return fewer than asked (FHIR search, "_count").
            count = min(_whole_number(COUNT, value, 0), MAX_COUNT)
            continue
        if key == PAGE:
            page = _whole_number(PAGE, value, 1)
            continue
        if key == FORMAT:
            if value not in JSON_FORMATS:
                raise invalid(
                    f"_format {value!r}: this server answers in JSON only (application/fhir+json)",
                    FORMAT,
                    code="not-supported",
                )
            continue
        name, _, modifier = key.partition(":")
        param = known.get(name)
        if param is None:
            expected = ", ".join([*known, COUNT, PAGE])
            raise invalid(
                f"{resource_type} has no search parameter {name!r}: expected one of {expected}",
                name,
                code="not-supported",
            )
        if modifier and modifier not in param.modifiers:
            allowed = ", ".join(f":{m}" for m in param.modifiers) or "none"
            raise invalid(
                f"{name} takes no modifier :{modifier}: supported modifiers are {allowed}",
                key,
                code="not-supported",
            )
        alternatives = [part.strip() for part in value.split(",")]
        if not all(alternatives):
            raise invalid(f"{key} has an empty value: give a value, or leave {key} out", key)
        criteria.setdefault(key, []).append(alternatives)
    return SearchQuery(resource_type, criteria, count, page)


# Values


@dataclass(frozen=True, slots=True)
class Token:
    """`system|code`, `|code` (no system), `code` (any system) or `system|` (any code)."""

    system: str | None
    code: str | None
    any_system: bool

    def matches_system(self, system: str) -> bool:
        return self.any_system or self.system == system


def token(value: str) -> Token:
    if "|" not in value:
        return Token(None, value, True)
    system, _, code = value.partition("|")
    return Token(system or None, code or None, False)


def reference_id(name: str, value: str, resource_type: str) -> str:
    """The id a reference parameter names: `Type/id`, a URL ending so, or the id alone."""
    parts = value.rstrip("/").split("/")
    if len(parts) == 1:
        return parts[0]
    if parts[-2] != resource_type:
        raise invalid(
            f"{name} {value!r}: expected a reference to a {resource_type}, like "
            f"{resource_type}/<id>",
            name,
        )
    return parts[-1]


_DATE = re.compile(
    r"^(?P<prefix>eq|ne|gt|lt|ge|le|sa|eb|ap)?"
    r"(?P<value>\d{4}(-\d{2}(-\d{2}"
    r"(T\d{2}:\d{2}(?P<seconds>:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?)$"
)
DATE_PREFIXES = ("eq", "gt", "lt", "ge", "le")


@dataclass(frozen=True, slots=True)
class DateRange:
    """A date search value: its prefix, and the instants [start, end) its precision spans."""

    prefix: str
    start: datetime
    end: datetime

    def condition(self, column: InstrumentedAttribute[datetime]) -> ColumnElement[bool]:
        return {
            "eq": and_(column >= self.start, column < self.end),
            "gt": column >= self.end,
            "ge": column >= self.start,
            "lt": column < self.start,
            "le": column < self.end,
        }[self.prefix]

    def holds_for(self, moment: datetime) -> bool:
        return {
            "eq": self.start <= moment < self.end,
            "gt": moment >= self.end,
            "ge": moment >= self.start,
            "lt": moment < self.start,
            "le": moment < self.end,
        }[self.prefix]


def _day_start(day: date) -> datetime:
    """Midnight of the day in England, as a UTC instant."""
    return datetime.combine(day, time(), LONDON).astimezone(UTC)


def date_range(name: str, text: str) -> DateRange:
    """A date search value: an optional prefix (eq, gt, lt, ge, le) and a year, month, day
    or time. Dates and times without a zone are England's."""
    found = _DATE.match(text)
    if found is None:
        raise invalid(
            f"{name} {text!r} is not a date: expected a prefix (eq, gt, lt, ge or le) and a "
            "date like 2026-11-23, 2026-11 or 2026-11-23T09:30:00Z",
            name,
        )
    prefix = found.group("prefix") or "eq"
    if prefix not in DATE_PREFIXES:
        raise invalid(
            f"{name}: the prefix {prefix!r} is not supported: expected {', '.join(DATE_PREFIXES)}",
            name,
            code="not-supported",
        )
    value = found.group("value")
    try:
        if len(value) == 4:
            start, end = date(int(value), 1, 1), date(int(value) + 1, 1, 1)
            return DateRange(prefix, _day_start(start), _day_start(end))
        if len(value) == 7:
            year, month = int(value[:4]), int(value[5:])
            start = date(year, month, 1)
            end = date(year + month // 12, month % 12 + 1, 1)
            return DateRange(prefix, _day_start(start), _day_start(end))
        if len(value) == 10:
            day = date.fromisoformat(value)
            return DateRange(prefix, _day_start(day), _day_start(day + timedelta(days=1)))
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as error:
        raise invalid(f"{name} {text!r} is not a date: {error}", name) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LONDON)
    step = timedelta(seconds=1) if found.group("seconds") else timedelta(minutes=1)
    return DateRange(prefix, moment.astimezone(UTC), moment.astimezone(UTC) + step)


# Conditions


def any_of(conditions: Iterable[ColumnElement[bool]]) -> ColumnElement[bool]:
    found = list(conditions)
    return or_(*found) if found else false()


def is_value(column: Any, kind: type[enum.StrEnum], value: str | None) -> ColumnElement[bool]:
    """The enum column holds this value; nothing matches a value the enum does not have."""
    try:
        member = kind(value or "")
    except ValueError:
        return false()
    condition: ColumnElement[bool] = column == member
    return condition


def each_occurrence(
    query: SearchQuery, name: str, condition: Callable[[str], ColumnElement[bool]]
) -> list[ColumnElement[bool]]:
    """One condition per occurrence of the parameter: any of its alternatives."""
    return [any_of(condition(value) for value in values) for values in query.occurrences(name)]


def date_conditions(
    query: SearchQuery, names: Sequence[str], column: InstrumentedAttribute[datetime]
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    for name in names:

        def within(value: str, name: str = name) -> ColumnElement[bool]:
            return date_range(name, value).condition(column)

        conditions += each_occurrence(query, name, within)
    return conditions


def page_of(
    session: Session, statement: Select[_T], query: SearchQuery, *order: Any
) -> tuple[list[_T], int]:
    """One page of the rows the statement selects, and how many it selects in all."""
    total = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    if query.count == 0 or query.offset >= total:
        return [], total
    rows = session.scalars(statement.order_by(*order).offset(query.offset).limit(query.count))
    return list(rows), total


# The Bundle


def searchset(base: str, query: SearchQuery, resources: Sequence[Resource], total: int) -> Bundle:
    """The page as a searchset Bundle: every match with its full URL, the total, and links
    to this page and the first, previous, next and last ones."""
    resource_type = query.resource_type

    def link(relation: str, page: int) -> dict[str, str]:
        items = [*query.link_items(), (COUNT, str(query.count)), (PAGE, str(page))]
        return {
            "relation": relation,
            "url": f"{base}/{resource_type}?{urlencode(items, safe='|:/,')}",
        }

    last = max(1, -(-total // query.count)) if query.count else 1
    links = [link("self", query.page), link("first", 1)]
    if query.page > 1:
        links.append(link("previous", min(query.page - 1, last)))
    if query.count and query.page < last:
        links.append(link("next", query.page + 1))
    links.append(link("last", last))
    data: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": total,
        "link": links,
    }
    if resources:  # FHIR JSON has no empty arrays
        data["entry"] = [
            {
                "fullUrl": f"{base}/{resource.get_resource_type()}/{resource.id}",
                "resource": resource,
                "search": {"mode": "match"},
            }
            for resource in resources
        ]
    return Bundle.model_validate(data)
