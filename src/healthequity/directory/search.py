"""Searching the directory: by the needs a service meets, distance, free text, age, opening
times and whether it accepts referrals; ranked by how many of the needs asked for a service
meets, then distance, then how recently a curator checked it. With free text, services whose
name holds the words come before those that hold them only in their description, after the
needs and before distance.

Searches run over the in-memory search index (`search_index`), which the database's
revision token keeps up to date; the database is read again only for a service's own page.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Protocol

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from healthequity import geography
from healthequity.dates import LONDON
from healthequity.directory.models import (
    Attribute,
    Location,
    ReferralMethod,
    Schedule,
    Service,
    ServiceAtLocation,
    ServiceStatus,
    TaxonomyTerm,
)
from healthequity.directory.search_index import (
    EARTH_RADIUS_MILES,
    IndexedService,
    bounding_box,
    current_index,
    haversine_miles,
)
from healthequity.directory.text import query_tokens, token_similarity, tokens
from healthequity.geography import GeographyError, InvalidPostcode, UnknownPostcode
from healthequity.needs import NEEDS_BY_CODE
from healthequity.places import service as places

DEFAULT_STALE_DAYS = 180
MAX_LIMIT = 200

DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
DAY_NAMES = {"MO": "Mon", "TU": "Tue", "WE": "Wed", "TH": "Thu", "FR": "Fri", "SA": "Sat"}
DAY_NAMES["SU"] = "Sun"
EN_DASH = "\N{EN DASH}"

REFERRAL_METHOD_TEXT = {
    ReferralMethod.IN_APP: "Refer in healthequity",
    ReferralMethod.EMAIL: "Refer by email",
    ReferralMethod.PHONE: "Refer by phone",
    ReferralMethod.SELF_REFERRAL: "People can refer themselves",
}


# --- Where from -------------------------------------------------------------------------


class OriginError(ValueError):
    """A place to search from that cannot be found; the message says what to do instead."""


@dataclass(frozen=True, slots=True)
class Origin:
    latitude: float
    longitude: float
    label: str


UNKNOWN_POSTCODE_ADVICE = "Enter a nearby postcode, or choose the area (LSOA code) instead."


def resolve_origin(
    session: Session,
    *,
    postcode: str | None = None,
    lsoa: str | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
) -> Origin | None:
    """The point to measure distance from: a postcode, else an LSOA, else a latitude/longitude.

    None if no place is given; OriginError, with advice, if the place cannot be found.
    """
    if postcode and postcode.strip():
        return postcode_origin(session, postcode.strip())
    if lsoa and lsoa.strip():
        return lsoa_origin(lsoa.strip())
    if latitude is not None or longitude is not None:
        if latitude is None or longitude is None:
            raise OriginError("Give both a latitude and a longitude.")
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise OriginError("The latitude must be within ±90 and the longitude within ±180.")
        return Origin(latitude, longitude, f"{latitude:.5f}, {longitude:.5f}")
    return None


def lsoa_origin(lsoa: str) -> Origin:
    """An LSOA, measured from its interior point; OriginError, with advice, if not found."""
    code = lsoa.upper()
    if not geography.is_lsoa21_code(code):
        raise OriginError(
            f"{lsoa!r} is not an LSOA code: these look like E01000001. "
            "Enter a postcode instead, or check the code."
        )
    try:
        record = geography.lsoa(code)
    except GeographyError:
        raise OriginError(
            f"We could not find the area {code}. Check the code, or enter a postcode instead."
        ) from None
    point = record.interior_point
    return Origin(point.latitude, point.longitude, f"{record.lsoa21_name} ({code})")


def postcode_origin(session: Session, postcode: str) -> Origin:
    """A postcode, from the loaded postcode directory; OriginError, with advice, if not found."""
    try:
        record = places.find_postcode(session, postcode)
    except InvalidPostcode:
        raise OriginError(
            f"{postcode!r} is not a postcode. Enter a full postcode, like LS1 4AP. "
            + UNKNOWN_POSTCODE_ADVICE
        ) from None
    except UnknownPostcode:
        raise OriginError(
            f"We could not find the postcode {postcode.upper()}. " + UNKNOWN_POSTCODE_ADVICE
        ) from None
    if record.latitude is not None and record.longitude is not None:
        return Origin(record.latitude, record.longitude, record.postcode)
    if record.lsoa21_code:
        try:
            point = geography.lsoa(record.lsoa21_code).interior_point
        except GeographyError:
            pass
        else:
            return Origin(point.latitude, point.longitude, record.postcode)
    raise OriginError(
        f"The postcode {record.postcode} has no location in the postcode directory. "
        + UNKNOWN_POSTCODE_ADVICE
    )


# --- Opening times ----------------------------------------------------------------------


class WeeklyHours(Protocol):
    """What opening times are worked out from: a `Schedule` or an index's `OpeningTime`."""

    @property
    def freq(self) -> str | None: ...
    @property
    def byday(self) -> str | None: ...
    @property
    def opens_at(self) -> str | None: ...
    @property
    def closes_at(self) -> str | None: ...
    @property
    def valid_from(self) -> date | None: ...
    @property
    def valid_to(self) -> date | None: ...
    @property
    def description(self) -> str | None: ...


def clock(value: str | None) -> time | None:
    """A schedule's "HH:MM" (seconds or zone after it ignored) as a time; 24:00 is the end of
    the day; None if it is not a time."""
    if not value:
        return None
    match = re.match(r"^\s*(\d{1,2}):(\d{2})", value)
    if not match:
        return None
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour == 24 and minute == 0:
        return time(23, 59, 59)
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def _days(schedule: WeeklyHours) -> list[str]:
    return [d for d in (part.strip().upper() for part in (schedule.byday or "").split(",")) if d]


def _in_force(schedule: WeeklyHours, day: date) -> bool:
    if schedule.valid_from and day < schedule.valid_from:
        return False
    return not (schedule.valid_to and day > schedule.valid_to)


def is_open(schedules: Iterable[WeeklyHours], moment: datetime) -> bool | None:
    """Whether weekly opening times include `moment` (in London time); None if unknown."""
    local = moment.astimezone(LONDON) if moment.tzinfo else moment.replace(tzinfo=LONDON)
    weekday = DAYS[local.weekday()]
    known = False
    for schedule in schedules:
        if (schedule.freq or "WEEKLY").upper() != "WEEKLY":
            continue
        opens, closes = clock(schedule.opens_at), clock(schedule.closes_at)
        days = _days(schedule)
        if opens is None or closes is None or not days:
            continue
        known = True
        now = local.time().replace(tzinfo=None)
        if weekday in days and _in_force(schedule, local.date()) and opens <= now < closes:
            return True
    return False if known else None


def opening_times_text(schedules: Iterable[WeeklyHours]) -> str | None:
    """Weekly opening times as people write them: "Mon-Fri 09:00-17:00; Sat 10:00-12:00"
    (with en dashes), then any opening times given only in words."""
    by_hours: dict[tuple[str, str], set[int]] = defaultdict(set)
    descriptions: list[str] = []
    for schedule in schedules:
        opens, closes = clock(schedule.opens_at), clock(schedule.closes_at)
        days = [DAYS.index(d) for d in _days(schedule) if d in DAYS]
        if (schedule.freq or "WEEKLY").upper() == "WEEKLY" and opens and closes and days:
            by_hours[(opens.strftime("%H:%M"), closes.strftime("%H:%M"))].update(days)
        elif schedule.description:
            descriptions.append(schedule.description.strip())
    parts = [
        f"{_day_ranges(sorted(days))} {opens}{EN_DASH}{closes}"
        for (opens, closes), days in sorted(by_hours.items(), key=lambda item: min(item[1]))
    ]
    text = "; ".join(parts + descriptions)
    return text or None


def _day_ranges(days: Sequence[int]) -> str:
    runs: list[list[int]] = []
    for day in days:
        if runs and day == runs[-1][-1] + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    names = [DAY_NAMES[DAYS[d]] for d in range(7)]
    return ", ".join(
        names[run[0]]
        if len(run) == 1
        else f"{names[run[0]]}{EN_DASH if len(run) > 2 else ', '}{names[run[-1]]}"
        for run in runs
    )


# --- Free text ---------------------------------------------------------------------

STRONG_TEXT_MATCH = 0.75  # about: every word in the name, with at most a slip or two


# --- Results ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MatchedNeed:
    code: str
    label: str


@dataclass(frozen=True, slots=True)
class SearchResult:
    id: str
    name: str
    description: str
    organisation_id: str
    organisation_name: str
    status: str
    matched_needs: list[MatchedNeed]
    needs: list[MatchedNeed]
    distance_miles: float | None
    nearest_location: str | None
    how_to_refer: str
    referral_method: str | None
    accepting_referrals: bool
    accepting_referrals_note: str | None
    opening_times: str | None
    open_now: bool | None
    last_reviewed: date | None
    days_since_review: int | None
    checked: str
    stale: bool
    minimum_age: float | None
    maximum_age: float | None
    text_score: float | None = None
    phones: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """What was asked, for the result's heading and the API's echo."""

    needs: list[str]
    origin: Origin | None
    within_miles: float | None
    text: str | None
    age: int | None
    open_now: bool
    accepting_referrals: bool | None


def checked_text(days: int | None) -> str:
    if days is None:
        return "never checked"
    if days <= 0:
        return "checked today"
    if days == 1:
        return "checked 1 day ago"
    return f"checked {days} days ago"


def how_to_refer(service: Service, phones: Sequence[str]) -> str:
    return _how_to_refer(
        service.referral_method,
        service.email or service.organization.email,
        service.accepting_referrals,
        service.accepting_referrals_note,
        phones,
    )


def _how_to_refer(
    method: ReferralMethod | None,
    email: str | None,
    accepting: bool,
    note: str | None,
    phones: Sequence[str],
) -> str:
    text = REFERRAL_METHOD_TEXT[method] if method else "Contact the service"
    if method == ReferralMethod.EMAIL and email:
        text += f": {email}"
    elif method == ReferralMethod.PHONE and phones:
        text += f": {phones[0]}"
    if not accepting:
        return "Not accepting referrals now" + (f" ({note})" if note else "")
    if note:
        text += f". {note}"
    return text


def search_services(
    session: Session,
    *,
    needs: Sequence[str] = (),
    near: tuple[float, float] | None = None,
    within_miles: float | None = None,
    text: str | None = None,
    age: int | None = None,
    open_now: bool = False,
    accepting_referrals: bool | None = None,
    include_inactive: bool = False,
    now: datetime | None = None,
    stale_after_days: int = DEFAULT_STALE_DAYS,
    limit: int = 50,
) -> list[SearchResult]:
    """Services meeting the criteria, best first (see the module's docstring)."""
    now = now or datetime.now(LONDON)
    today = (now.astimezone(LONDON) if now.tzinfo else now).date()
    limit = max(1, min(limit, MAX_LIMIT))
    wanted_needs = [code for code in dict.fromkeys(needs) if code]
    for code in wanted_needs:
        if code not in NEEDS_BY_CODE:
            raise ValueError(f"unknown need {code!r}")
    if within_miles is not None and near is None:
        raise OriginError("Enter a postcode or an area to search within a distance of it.")

    index = current_index(session)
    mask = index.service_mask(
        needs=wanted_needs,
        age=age,
        accepting_referrals=accepting_referrals,
        include_inactive=include_inactive,
    )
    found = index.candidates(mask, near, within_miles)
    positions, miles = found.positions, found.miles
    words = query_tokens(text) if text else []
    score = np.zeros(len(positions))
    if words:
        score = index.text_scores(words, positions)
        holds_words = ~np.isnan(score)
        positions, miles, score = positions[holds_words], miles[holds_words], score[holds_words]
    if not len(positions):
        return []
    matched = index.needs_matched(positions, wanted_needs)
    distance = np.where(np.isnan(miles), np.inf, miles)
    # Last key first: needs matched, words in the name, distance, text score, review, name.
    order = np.lexsort(
        (
            index.name_rank[positions],
            -index.reviewed[positions],
            -score,
            distance,
            -(score >= STRONG_TEXT_MATCH).astype(np.int64),
            -matched,
        )
    )
    results: list[SearchResult] = []
    for at in order:
        position = int(positions[at])
        service = index.services[position]
        open_state = is_open(service.opening_times, now)
        if open_now and open_state is not True:
            continue
        away = float(miles[at])
        results.append(
            _result(
                service,
                wanted_needs,
                distance_miles=None if np.isnan(away) else round(away, 2),
                nearest_location=found.nearest.get(position),
                open_now=open_state,
                today=today,
                stale_after_days=stale_after_days,
                text_score=round(float(score[at]), 3) if words else None,
            )
        )
        if len(results) == limit:
            break
    return results


def _result(
    service: IndexedService,
    wanted_needs: Sequence[str],
    *,
    distance_miles: float | None,
    nearest_location: str | None,
    open_now: bool | None,
    today: date,
    stale_after_days: int,
    text_score: float | None,
) -> SearchResult:
    days = (today - service.last_reviewed).days if service.last_reviewed else None
    return SearchResult(
        id=service.id,
        name=service.name,
        description=service.description,
        organisation_id=service.organisation_id,
        organisation_name=service.organisation_name,
        status=service.status.value,
        matched_needs=[_need(code) for code in wanted_needs if code in service.needs],
        needs=[_need(code) for code in sorted(service.needs) if code in NEEDS_BY_CODE],
        distance_miles=distance_miles,
        nearest_location=nearest_location,
        how_to_refer=_how_to_refer(
            service.referral_method,
            service.referral_email,
            service.accepting_referrals,
            service.accepting_referrals_note,
            service.phones,
        ),
        referral_method=service.referral_method.value if service.referral_method else None,
        accepting_referrals=service.accepting_referrals,
        accepting_referrals_note=service.accepting_referrals_note,
        opening_times=opening_times_text(service.opening_times),
        open_now=open_now,
        last_reviewed=service.last_reviewed,
        days_since_review=days,
        checked=checked_text(days),
        stale=days is None or days > stale_after_days,
        minimum_age=service.minimum_age,
        maximum_age=service.maximum_age,
        text_score=text_score,
        phones=list(service.phones),
    )


def _need(code: str) -> MatchedNeed:
    need = NEEDS_BY_CODE.get(code)
    return MatchedNeed(code, need.label if need else code)


def get_service(session: Session, service_id: str, *, include_inactive: bool) -> Service | None:
    """One service with everything its page shows; None if absent (or not active, if asked)."""
    service = session.scalar(
        select(Service)
        .where(Service.id == service_id)
        .options(
            selectinload(Service.service_at_locations)
            .selectinload(ServiceAtLocation.location)
            .selectinload(Location.addresses),
            selectinload(Service.contacts),
            selectinload(Service.phones),
            selectinload(Service.schedules),
            selectinload(Service.cost_options),
            selectinload(Service.languages),
            selectinload(Service.service_areas),
        )
    )
    if service is None or (not include_inactive and service.status != ServiceStatus.ACTIVE):
        return None
    return service


def needs_of_service(session: Session, service_id: str) -> list[MatchedNeed]:
    codes = session.scalars(
        select(TaxonomyTerm.need_code)
        .join(Attribute, Attribute.taxonomy_term_id == TaxonomyTerm.id)
        .where(Attribute.link_id == service_id, TaxonomyTerm.need_code.is_not(None))
        .distinct()
    )
    return [_need(code) for code in sorted(c for c in codes if c)]


def location_schedules_of(session: Session, service: Service) -> list[Schedule]:
    ids = [link.id for link in service.service_at_locations]
    if not ids:
        return []
    return list(
        session.scalars(
            select(Schedule).where(
                Schedule.service_at_location_id.in_(ids), Schedule.service_id.is_(None)
            )
        )
    )


__all__ = [
    "EARTH_RADIUS_MILES",
    "Origin",
    "OriginError",
    "SearchQuery",
    "SearchResult",
    "bounding_box",
    "clock",
    "get_service",
    "haversine_miles",
    "is_open",
    "opening_times_text",
    "resolve_origin",
    "search_services",
    "token_similarity",
    "tokens",
]


def today_in_london() -> date:
    return datetime.now(LONDON).date()
