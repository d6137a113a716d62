"""Searching the directory: by the needs a service meets, distance, free text, age, opening
times and whether it accepts referrals; ranked by how many of the needs asked for a service
meets, then distance, then how recently a curator checked it. With free text, services whose
name holds the words come before those that hold them only in their description, after the
needs and before distance.

The database narrows the candidates (status, age, accepting, needs, and a latitude/longitude
bounding box that the location index serves); exact distance, opening times and the free
text, which tolerates spelling slips, are worked out in Python over those candidates.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, exists, or_, select
from sqlalchemy.orm import Session, selectinload

from healthequity import geography
from healthequity.directory.models import (
    Attribute,
    Location,
    Organization,
    Phone,
    ReferralMethod,
    Schedule,
    Service,
    ServiceAtLocation,
    ServiceStatus,
    TaxonomyTerm,
)
from healthequity.geography import GeographyError, InvalidPostcode, UnknownPostcode
from healthequity.needs import NEEDS_BY_CODE
from healthequity.places import service as places

LONDON = ZoneInfo("Europe/London")
EARTH_RADIUS_MILES = 3958.7613
MILES_PER_DEGREE_LATITUDE = 69.055
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
        return _postcode_origin(session, postcode.strip())
    if lsoa and lsoa.strip():
        code = lsoa.strip().upper()
        if not geography.is_lsoa21_code(code):
            raise OriginError(
                f"{lsoa.strip()!r} is not an LSOA code: these look like E01000001. "
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
    if latitude is not None or longitude is not None:
        if latitude is None or longitude is None:
            raise OriginError("Give both a latitude and a longitude.")
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise OriginError("The latitude must be within ±90 and the longitude within ±180.")
        return Origin(latitude, longitude, f"{latitude:.5f}, {longitude:.5f}")
    return None


def _postcode_origin(session: Session, postcode: str) -> Origin:
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


def haversine_miles(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_MILES * math.asin(min(1.0, math.sqrt(a)))


def bounding_box(latitude: float, longitude: float, miles: float) -> tuple[float, ...]:
    """(min lat, max lat, min lon, max lon) enclosing every point within `miles`."""
    dlat = miles / MILES_PER_DEGREE_LATITUDE
    cos_lat = max(math.cos(math.radians(min(89.0, abs(latitude) + dlat))), 1e-6)
    dlon = miles / (MILES_PER_DEGREE_LATITUDE * cos_lat)
    return latitude - dlat, latitude + dlat, longitude - dlon, longitude + dlon


# --- Opening times ----------------------------------------------------------------------


def _clock(value: str | None) -> time | None:
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


def _days(schedule: Schedule) -> list[str]:
    return [d for d in (part.strip().upper() for part in (schedule.byday or "").split(",")) if d]


def _in_force(schedule: Schedule, day: date) -> bool:
    if schedule.valid_from and day < schedule.valid_from:
        return False
    return not (schedule.valid_to and day > schedule.valid_to)


def is_open(schedules: Iterable[Schedule], moment: datetime) -> bool | None:
    """Whether weekly opening times include `moment` (in London time); None if unknown."""
    local = moment.astimezone(LONDON) if moment.tzinfo else moment.replace(tzinfo=LONDON)
    weekday = DAYS[local.weekday()]
    known = False
    for schedule in schedules:
        if (schedule.freq or "WEEKLY").upper() != "WEEKLY":
            continue
        opens, closes = _clock(schedule.opens_at), _clock(schedule.closes_at)
        days = _days(schedule)
        if opens is None or closes is None or not days:
            continue
        known = True
        now = local.time().replace(tzinfo=None)
        if weekday in days and _in_force(schedule, local.date()) and opens <= now < closes:
            return True
    return False if known else None


def opening_times_text(schedules: Iterable[Schedule]) -> str | None:
    """Weekly opening times as people write them: "Mon-Fri 09:00-17:00; Sat 10:00-12:00"
    (with en dashes), then any opening times given only in words."""
    by_hours: dict[tuple[str, str], set[int]] = defaultdict(set)
    descriptions: list[str] = []
    for schedule in schedules:
        opens, closes = _clock(schedule.opens_at), _clock(schedule.closes_at)
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


# --- Free text --------------------------------------------------------------------------

_WORD = re.compile(r"[a-z0-9]+")
STOP_WORDS = frozenset(
    ["a", "an", "and", "the", "of", "for", "in", "on", "to", "with", "at", "by", "or", "my"]
)


@lru_cache(maxsize=100_000)
def tokens(text: str) -> frozenset[str]:
    """The words of a text, lower-cased, without stop words (remembered: texts recur)."""
    return frozenset(word for word in _WORD.findall(text.lower()) if word not in STOP_WORDS)


def query_tokens(text: str) -> list[str]:
    seen: list[str] = []
    for word in _WORD.findall(text.lower()):
        if word not in STOP_WORDS and word not in seen:
            seen.append(word)
    return seen


def _allowed_edits(word: str) -> int:
    return 0 if len(word) < 3 else 1 if len(word) < 7 else 2


@lru_cache(maxsize=200_000)
def token_similarity(query: str, word: str) -> float:
    """1 for the same word or a word the query begins; less for a near miss; 0 otherwise."""
    if query == word or (len(query) >= 3 and word.startswith(query)):
        return 1.0
    limit = _allowed_edits(query)
    if limit == 0 or abs(len(query) - len(word)) > limit:
        # A slip in a word the query begins: "advi" of "advice" is a prefix, "advic" too;
        # also compare with the word cut to the query's length ("benefit" of "benefits").
        return 0.0
    distance = _edit_distance(query, word, limit)
    if distance > limit:
        if len(word) > len(query) and _edit_distance(query, word[: len(query)], limit) <= limit:
            return 0.6
        return 0.0
    return 1.0 - 0.2 * distance


def _edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (a swap counts one), or limit + 1 if above it."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        best = current[0]
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                value = min(value, previous2[j - 2] + 1)
            current[j] = value
            best = min(best, value)
        if best > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


NAME_WEIGHT = 1.0
OTHER_WEIGHT = 0.7  # a word found only in the description, organisation or terms
STRONG_TEXT_MATCH = 0.75  # about: every word in the name, with at most a slip or two


def text_scores(
    query: str, documents: dict[str, tuple[frozenset[str], frozenset[str]]]
) -> dict[str, float]:
    """A score for each document (id: its name's words, its other words) that holds every
    query word or a near miss of it; words in the name count more."""
    wanted = query_tokens(query)
    if not wanted:
        return dict.fromkeys(documents, 1.0)
    vocabulary: set[str] = set()
    for name_words, other_words in documents.values():
        vocabulary |= name_words
        vocabulary |= other_words
    matches = [
        {t: s for t in vocabulary if (s := token_similarity(word, t)) > 0} for word in wanted
    ]
    scores: dict[str, float] = {}
    for key, (name_words, other_words) in documents.items():
        total = 0.0
        for similar in matches:
            best = max(
                max((similar[t] for t in name_words & similar.keys()), default=0.0) * NAME_WEIGHT,
                max((similar[t] for t in other_words & similar.keys()), default=0.0) * OTHER_WEIGHT,
            )
            if best == 0.0:
                break
            total += best
        else:
            scores[key] = total / len(matches)
    return scores


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
    method = service.referral_method
    text = REFERRAL_METHOD_TEXT[method] if method else "Contact the service"
    if method == ReferralMethod.EMAIL and (service.email or service.organization.email):
        text += f": {service.email or service.organization.email}"
    elif method == ReferralMethod.PHONE and phones:
        text += f": {phones[0]}"
    if not service.accepting_referrals:
        note = service.accepting_referrals_note
        text = "Not accepting referrals now" + (f" ({note})" if note else "")
    elif service.accepting_referrals_note:
        text += f". {service.accepting_referrals_note}"
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
    """Services meeting the criteria, best first (see the module's docstring).

    Ranking needs only a few columns of each candidate; whole records (with opening times
    and phones) are loaded for the best `limit` only, or until `limit` are open, if asked.
    """
    now = now or datetime.now(LONDON)
    today = (now.astimezone(LONDON) if now.tzinfo else now).date()
    limit = max(1, min(limit, MAX_LIMIT))
    wanted_needs = [code for code in dict.fromkeys(needs) if code]
    for code in wanted_needs:
        if code not in NEEDS_BY_CODE:
            raise ValueError(f"unknown need {code!r}")
    if within_miles is not None and near is None:
        raise OriginError("Enter a postcode or an area to search within a distance of it.")
    searching_text = bool(text and text.strip())

    places = _candidates(
        session, wanted_needs, near, within_miles, age, accepting_referrals, include_inactive
    )
    if not places:
        return []
    ids = list(places)
    summaries: dict[str, tuple[str, str | None, str, str, date | None]] = {}
    service_needs: dict[str, set[str]] = defaultdict(set)
    terms: dict[str, list[str]] = defaultdict(list)
    for chunk in _chunks(ids):
        rows = session.execute(
            select(
                Service.id,
                Service.name,
                Service.alternate_name,
                Service.description,
                Organization.name,
                Service.last_reviewed,
            )
            .join(Organization, Organization.id == Service.organization_id)
            .where(Service.id.in_(chunk))
        )
        for sid, name, alternate, description, organisation, reviewed in rows:
            summaries[sid] = (name, alternate, description, organisation, reviewed)
        _needs_of(session, chunk, service_needs, terms if searching_text else None)

    scores: dict[str, float] | None = None
    if text and searching_text:
        documents = {
            sid: (
                tokens(f"{name} {alternate or ''}"),
                tokens(" ".join((description, organisation, *terms.get(sid, ())))),
            )
            for sid, (name, alternate, description, organisation, _r) in summaries.items()
        }
        scores = text_scores(text, documents)

    def rank(sid: str) -> tuple[int, int, float, float, int, str]:
        name, _a, _d, _o, reviewed = summaries[sid]
        matched = sum(1 for code in wanted_needs if code in service_needs.get(sid, ()))
        score = scores.get(sid) if scores is not None else None
        distance = places[sid][0]
        return (
            -matched,
            -_text_band(score),
            distance if distance is not None else math.inf,
            -(score or 0.0),
            -(reviewed.toordinal() if reviewed else 0),
            name.lower(),
        )

    ranked = sorted((sid for sid in summaries if scores is None or sid in scores), key=rank)

    results: list[SearchResult] = []
    batch = limit if not open_now else max(limit, 100)
    for start in range(0, len(ranked), batch):
        chunk = ranked[start : start + batch]
        services = {
            service.id: service
            for service in session.scalars(
                select(Service)
                .where(Service.id.in_(chunk))
                .options(selectinload(Service.schedules))
            )
        }
        location_schedules: dict[str, list[Schedule]] = defaultdict(list)
        phones: dict[str, list[str]] = defaultdict(list)
        _location_schedules(session, chunk, location_schedules)
        _phones_of(session, chunk, phones)
        for sid in chunk:
            service = services[sid]
            schedules = [*service.schedules, *location_schedules.get(sid, ())]
            open_state = is_open(schedules, now)
            if open_now and open_state is not True:
                continue
            distance, nearest = places[sid]
            codes = service_needs.get(sid, set())
            days = (today - service.last_reviewed).days if service.last_reviewed else None
            service_phones = phones.get(sid, [])
            results.append(
                SearchResult(
                    id=sid,
                    name=service.name,
                    description=service.description,
                    organisation_id=service.organization_id,
                    organisation_name=service.organization.name,
                    status=ServiceStatus(service.status).value,
                    matched_needs=[_need(code) for code in wanted_needs if code in codes],
                    needs=[_need(code) for code in sorted(codes) if code in NEEDS_BY_CODE],
                    distance_miles=round(distance, 2) if distance is not None else None,
                    nearest_location=nearest,
                    how_to_refer=how_to_refer(service, service_phones),
                    referral_method=(
                        service.referral_method.value if service.referral_method else None
                    ),
                    accepting_referrals=service.accepting_referrals,
                    accepting_referrals_note=service.accepting_referrals_note,
                    opening_times=opening_times_text(schedules),
                    open_now=open_state,
                    last_reviewed=service.last_reviewed,
                    days_since_review=days,
                    checked=checked_text(days),
                    stale=days is None or days > stale_after_days,
                    minimum_age=service.minimum_age,
                    maximum_age=service.maximum_age,
                    text_score=round(scores[sid], 3) if scores is not None else None,
                    phones=service_phones,
                )
            )
            if len(results) == limit:
                return results
    return results


def _text_band(score: float | None) -> int:
    """1 when the words were found in the service's name (near misses allowed), else 0:
    a coarse band, so that distance still orders services that match about as well."""
    return 1 if score is not None and score >= STRONG_TEXT_MATCH else 0


CHUNK = 2000  # ids per IN list: well within every database's limit on parameters


def _chunks(ids: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def _candidates(
    session: Session,
    needs: Sequence[str],
    near: tuple[float, float] | None,
    within_miles: float | None,
    age: int | None,
    accepting_referrals: bool | None,
    include_inactive: bool,
) -> dict[str, tuple[float | None, str | None]]:
    """The services passing the filters the database can apply, in one query, each with
    its distance from `near` (its nearest location) and that location's name; those beyond
    `within_miles` are left out (the bounding box in SQL, the exact distance here)."""
    conditions: list[ColumnElement[bool]] = []
    if not include_inactive:
        conditions.append(Service.status == ServiceStatus.ACTIVE)
    if accepting_referrals is not None:
        conditions.append(Service.accepting_referrals.is_(accepting_referrals))
    if age is not None:
        conditions.append(or_(Service.minimum_age.is_(None), Service.minimum_age <= age))
        conditions.append(or_(Service.maximum_age.is_(None), Service.maximum_age >= age))
    if needs:
        # EXISTS, looked up by the attribute's link_id index for each service in question,
        # rather than a list of every service meeting the needs, built for each query.
        conditions.append(
            exists(
                select(Attribute.id)
                .join(TaxonomyTerm, TaxonomyTerm.id == Attribute.taxonomy_term_id)
                .where(Attribute.link_id == Service.id, TaxonomyTerm.need_code.in_(needs))
            )
        )
    if near is None:
        return {sid: (None, None) for sid in session.scalars(select(Service.id).where(*conditions))}

    found: dict[str, tuple[float | None, str | None]] = {}
    if within_miles is None:
        query = (
            select(Service.id, Location.latitude, Location.longitude, Location.name)
            .outerjoin(ServiceAtLocation, ServiceAtLocation.service_id == Service.id)
            .outerjoin(Location, Location.id == ServiceAtLocation.location_id)
            .where(*conditions)
        )
        for sid, latitude, longitude, name in session.execute(query):
            best = found.get(sid, (None, None))
            if latitude is not None and longitude is not None:
                miles = haversine_miles(near[0], near[1], latitude, longitude)
                if best[0] is None or miles < best[0]:
                    best = (miles, name)
            found[sid] = best
        return found

    # Within a distance: the locations in the bounding box first (the point index serves
    # it), the exact distance here, then the other filters on just those services.
    min_lat, max_lat, min_lon, max_lon = bounding_box(near[0], near[1], within_miles)
    # A flat-earth distance (squared) to sift the box cheaply; exact distance afterwards.
    x_scale = MILES_PER_DEGREE_LATITUDE * math.cos(math.radians(near[0]))
    reach = (within_miles * 1.01 + 0.01) ** 2
    nearby: dict[str, list[tuple[float, float, str | None]]] = defaultdict(list)
    in_box = (
        select(ServiceAtLocation.service_id, Location.latitude, Location.longitude, Location.name)
        .join(ServiceAtLocation, ServiceAtLocation.location_id == Location.id)
        .where(
            Location.latitude.between(min_lat, max_lat),
            Location.longitude.between(min_lon, max_lon),
        )
    )
    # PostgreSQL's planner starts from the location index by itself, so one query does; on
    # SQLite, which would start from the need, the box comes first and the rest follows.
    one_query = session.get_bind().dialect.name == "postgresql"
    if one_query:
        in_box = in_box.join(Service, Service.id == ServiceAtLocation.service_id).where(*conditions)
    for sid, latitude, longitude, name in session.execute(in_box):
        if latitude is None or longitude is None:  # never, given the box; for the types
            continue
        dy = (latitude - near[0]) * MILES_PER_DEGREE_LATITUDE
        dx = (longitude - near[1]) * x_scale
        if dx * dx + dy * dy <= reach:
            nearby[sid].append((latitude, longitude, name))
    if one_query:
        passing: Iterable[str] = list(nearby)
    else:
        passing = [
            sid
            for chunk in _chunks(list(nearby))
            for sid in session.scalars(select(Service.id).where(Service.id.in_(chunk), *conditions))
        ]
    for sid in passing:
        closest: tuple[float, str | None] | None = None
        for latitude, longitude, name in nearby[sid]:
            miles = haversine_miles(near[0], near[1], latitude, longitude)
            if miles <= within_miles and (closest is None or miles < closest[0]):
                closest = (miles, name)
        if closest is not None:
            found[sid] = closest
    return found


def _needs_of(
    session: Session,
    ids: Sequence[str],
    needs: dict[str, set[str]],
    terms: dict[str, list[str]] | None,
) -> None:
    """Each service's needs (through its terms' need codes) and, if asked, its terms' names."""
    query = select(Attribute.link_id, TaxonomyTerm.need_code, TaxonomyTerm.name).join(
        TaxonomyTerm, TaxonomyTerm.id == Attribute.taxonomy_term_id
    )
    if terms is None:
        query = query.where(TaxonomyTerm.need_code.is_not(None))
    for link_id, code, name in session.execute(query.where(Attribute.link_id.in_(ids))):
        if code:
            needs[link_id].add(code)
        if terms is not None:
            terms[link_id].append(name)
            if code in NEEDS_BY_CODE:
                terms[link_id].append(NEEDS_BY_CODE[code].label)


def _location_schedules(
    session: Session, ids: Sequence[str], found: dict[str, list[Schedule]]
) -> None:
    """Opening times given for a service at a location rather than for the service."""
    rows = session.execute(
        select(ServiceAtLocation.service_id, Schedule)
        .join(Schedule, Schedule.service_at_location_id == ServiceAtLocation.id)
        .where(ServiceAtLocation.service_id.in_(ids), Schedule.service_id.is_(None))
    )
    for service_id, schedule in rows:
        found[service_id].append(schedule)


def _phones_of(session: Session, ids: Sequence[str], found: dict[str, list[str]]) -> None:
    rows = session.execute(
        select(Phone.service_id, Phone.number).where(Phone.service_id.in_(ids)).order_by(Phone.id)
    )
    for service_id, number in rows:
        if service_id:
            found[service_id].append(number)


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
    "Origin",
    "OriginError",
    "SearchQuery",
    "SearchResult",
    "get_service",
    "haversine_miles",
    "is_open",
    "opening_times_text",
    "resolve_origin",
    "search_services",
]


def today_in_london() -> date:
    return datetime.now(LONDON).date()
