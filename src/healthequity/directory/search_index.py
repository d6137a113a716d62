"""The directory's search index: what ranking and results need of every service, held in
memory in arrays, so that a search reads nothing from the database but one token.

The token (`directory_revision`) is renewed by database triggers on every write to the
tables the index holds, whatever wrote it, so a search that finds a different token from
the one its index was built from builds a new index first (in the same transaction as the
token was read, so the index is never older than its token). Indexes are kept per database,
a few at a time, and built by one thread at a time.

Free text goes through an inverted index of the words in each service's name and in its
other text (description, organisation, taxonomy terms and needs); a query word reaches the
words it is close to by a cheap lower bound on edit distance (the letters the two words do
not share) before the exact distance is worked out.
"""

from __future__ import annotations

import bisect
import logging
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt
from sqlalchemy import select
from sqlalchemy.orm import Session

from healthequity.directory.models import (
    Attribute,
    DirectoryRevision,
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
from healthequity.directory.text import allowed_edits, token_similarity, tokens
from healthequity.needs import NEEDS, NEEDS_BY_CODE
from healthequity.store import Database

logger = logging.getLogger("healthequity.directory")

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

EARTH_RADIUS_MILES = 3958.7613
MILES_PER_DEGREE_LATITUDE = 69.055
NAME_WEIGHT = 1.0
OTHER_WEIGHT = 0.7  # a word found only in the description, organisation or terms
NEED_BITS = {need.code: 1 << position for position, need in enumerate(NEEDS)}
_LETTERS = "abcdefghijklmnopqrstuvwxyz0123456789"
_LETTER_INDEX = {letter: position for position, letter in enumerate(_LETTERS)}


@dataclass(frozen=True, slots=True)
class OpeningTime:
    """The parts of a schedule that opening times are worked out from."""

    freq: str | None
    byday: str | None
    opens_at: str | None
    closes_at: str | None
    valid_from: date | None
    valid_to: date | None
    description: str | None


@dataclass(frozen=True, slots=True)
class IndexedService:
    id: str
    name: str
    description: str
    organisation_id: str
    organisation_name: str
    status: ServiceStatus
    referral_method: ReferralMethod | None
    referral_email: str | None  # the service's, else its organisation's
    accepting_referrals: bool
    accepting_referrals_note: str | None
    minimum_age: float | None
    maximum_age: float | None
    last_reviewed: date | None
    needs: frozenset[str]
    opening_times: tuple[OpeningTime, ...]
    phones: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Candidates:
    """Services passing a search's filters: positions in the index, each with its distance
    (NaN when unknown) and the name of its nearest location."""

    positions: IntArray
    miles: FloatArray
    nearest: dict[int, str | None]


class SearchIndex:
    """Every service of one database as of one revision token."""

    def __init__(
        self,
        token: str | None,
        services: list[IndexedService],
        locations: list[tuple[int, float, float, str | None]],
        documents: list[tuple[frozenset[str], frozenset[str]]],
    ) -> None:
        self.token = token
        self.services = services
        count = len(services)
        self.active: BoolArray = np.array(
            [s.status == ServiceStatus.ACTIVE for s in services], dtype=bool
        )
        self.accepting: BoolArray = np.array([s.accepting_referrals for s in services], dtype=bool)
        self.minimum_age: FloatArray = np.array(
            [np.nan if s.minimum_age is None else s.minimum_age for s in services], dtype=float
        )
        self.maximum_age: FloatArray = np.array(
            [np.nan if s.maximum_age is None else s.maximum_age for s in services], dtype=float
        )
        self.need_bits: IntArray = np.array(
            [sum(NEED_BITS.get(code, 0) for code in s.needs) for s in services], dtype=np.int64
        )
        self.reviewed: IntArray = np.array(
            [s.last_reviewed.toordinal() if s.last_reviewed else 0 for s in services],
            dtype=np.int64,
        )
        by_name = sorted(range(count), key=lambda i: services[i].name.lower())
        self.name_rank: IntArray = np.empty(count, dtype=np.int64)
        self.name_rank[by_name] = np.arange(count)

        # Locations with coordinates, sorted by latitude so that a band is one slice.
        locations = sorted(locations, key=lambda row: row[1])
        self.location_service: IntArray = np.array([r[0] for r in locations], dtype=np.int64)
        self.location_latitude: FloatArray = np.array([r[1] for r in locations], dtype=float)
        self.location_longitude: FloatArray = np.array([r[2] for r in locations], dtype=float)
        self.location_name = [r[3] for r in locations]

        name_postings: dict[str, list[int]] = defaultdict(list)
        other_postings: dict[str, list[int]] = defaultdict(list)
        for position, (name_words, other_words) in enumerate(documents):
            for word in name_words:
                name_postings[word].append(position)
            for word in other_words:
                other_postings[word].append(position)
        self.name_postings = {w: np.array(p, dtype=np.int64) for w, p in name_postings.items()}
        self.other_postings = {w: np.array(p, dtype=np.int64) for w, p in other_postings.items()}
        self.vocabulary = sorted(name_postings.keys() | other_postings.keys())
        self._letter_counts = _letter_counts(self.vocabulary)
        self._lengths = np.array([len(word) for word in self.vocabulary], dtype=np.int64)
        self._similar: dict[str, list[tuple[str, float]]] = {}

    # --- Filters ------------------------------------------------------------------------

    def service_mask(
        self,
        *,
        needs: Sequence[str],
        age: int | None,
        accepting_referrals: bool | None,
        include_inactive: bool,
    ) -> BoolArray:
        mask = np.ones(len(self.services), dtype=bool)
        if not include_inactive:
            mask &= self.active
        if accepting_referrals is not None:
            mask &= self.accepting == accepting_referrals
        if age is not None:
            mask &= np.isnan(self.minimum_age) | (self.minimum_age <= age)
            mask &= np.isnan(self.maximum_age) | (self.maximum_age >= age)
        if needs:
            mask &= (self.need_bits & need_bits(needs)) != 0
        return mask

    def needs_matched(self, positions: IntArray, needs: Sequence[str]) -> IntArray:
        bits = self.need_bits[positions]
        matched = np.zeros(len(positions), dtype=np.int64)
        for code in needs:
            matched += (bits & NEED_BITS[code]) != 0
        return matched

    def candidates(
        self, mask: BoolArray, near: tuple[float, float] | None, within_miles: float | None
    ) -> Candidates:
        """The services in `mask`, with their distance from `near` if given; only those with a
        location within `within_miles` of it, if that is given."""
        if near is None:
            positions = np.flatnonzero(mask)
            return Candidates(positions, np.full(len(positions), np.nan), {})
        rows = self._locations_near(near, within_miles)
        rows = rows[mask[self.location_service[rows]]]
        miles = haversine_miles(
            near[0], near[1], self.location_latitude[rows], self.location_longitude[rows]
        )
        if within_miles is not None:
            keep = miles <= within_miles
            rows, miles = rows[keep], miles[keep]
        # The nearest location of each service: sort by service, then distance; keep firsts.
        services = self.location_service[rows]
        order = np.lexsort((miles, services))
        services, rows, miles = services[order], rows[order], miles[order]
        first = np.ones(len(services), dtype=bool)
        first[1:] = services[1:] != services[:-1]
        located, nearest_rows, nearest_miles = services[first], rows[first], miles[first]
        nearest = {
            int(s): self.location_name[int(r)] for s, r in zip(located, nearest_rows, strict=True)
        }
        if within_miles is not None:
            return Candidates(located, nearest_miles, nearest)
        # Without a limit, services with no location come too, at an unknown distance.
        distance = np.full(len(self.services), np.nan)
        distance[located] = nearest_miles
        positions = np.flatnonzero(mask)
        return Candidates(positions, distance[positions], nearest)

    def _locations_near(self, near: tuple[float, float], within_miles: float | None) -> IntArray:
        if within_miles is None:
            return np.arange(len(self.location_service))
        min_lat, max_lat, min_lon, max_lon = bounding_box(near[0], near[1], within_miles)
        start = int(np.searchsorted(self.location_latitude, min_lat, side="left"))
        stop = int(np.searchsorted(self.location_latitude, max_lat, side="right"))
        longitude = self.location_longitude[start:stop]
        return start + np.flatnonzero((longitude >= min_lon) & (longitude <= max_lon))

    # --- Free text ----------------------------------------------------------------------

    def text_scores(self, words: Sequence[str], among: IntArray) -> FloatArray:
        """For each service in `among` (positions), the mean over the query words of how well
        each is found (1 for the word itself in the name; a near miss less; a word found only
        in the other text 0.7 as much); NaN for services missing any of the words.

        Only the services asked about are scored: a search near a place scores its few
        candidates, not the whole directory."""
        local = np.full(len(self.services), -1, dtype=np.int64)
        local[among] = np.arange(len(among))
        total = np.zeros(len(among))
        found = np.ones(len(among), dtype=bool)
        for word in words:
            best = np.zeros(len(among))
            for similar, similarity in self.similar_words(word):
                for postings, weight in (
                    (self.name_postings, NAME_WEIGHT),
                    (self.other_postings, OTHER_WEIGHT),
                ):
                    positions = postings.get(similar)
                    if positions is not None:
                        at = local[positions]
                        at = at[at >= 0]
                        best[at] = np.maximum(best[at], similarity * weight)
            found &= best > 0
            total += best
        scores = total / max(1, len(words))
        scores[~found] = np.nan
        return scores

    def similar_words(self, word: str) -> list[tuple[str, float]]:
        """The index's words that `word` matches, each with its similarity (remembered)."""
        known = self._similar.get(word)
        if known is not None:
            return known
        found: dict[str, float] = {}
        if len(word) >= 3:  # words the query begins
            start = bisect.bisect_left(self.vocabulary, word)
            stop = bisect.bisect_left(self.vocabulary, word + "\uffff")
            found.update(dict.fromkeys(self.vocabulary[start:stop], 1.0))
        elif word in self.name_postings or word in self.other_postings:
            found[word] = 1.0
        limit = allowed_edits(word)
        if limit and self.vocabulary:
            # Letters one word has and the other lacks bound the edit distance from below;
            # a slip in a word the query begins allows `limit` more, for the rest of it.
            lengths_near = np.abs(self._lengths - len(word)) <= limit
            counts = _letter_counts([word])[0]
            difference = self._letter_counts - counts
            bag = np.maximum(
                np.clip(difference, 0, None).sum(axis=1), np.clip(-difference, 0, None).sum(axis=1)
            )
            for position in np.flatnonzero(lengths_near & (bag <= 2 * limit)):
                candidate = self.vocabulary[int(position)]
                if candidate not in found:
                    similarity = token_similarity(word, candidate)
                    if similarity > 0:
                        found[candidate] = similarity
        result = list(found.items())
        self._similar[word] = result
        return result


def need_bits(needs: Iterable[str]) -> int:
    return sum(NEED_BITS[code] for code in set(needs))


def _letter_counts(words: Sequence[str]) -> npt.NDArray[np.int16]:
    counts = np.zeros((len(words), len(_LETTERS)), dtype=np.int16)
    for row, word in enumerate(words):
        for letter in word:
            column = _LETTER_INDEX.get(letter)
            if column is not None:
                counts[row, column] += 1
    return counts


def haversine_miles(
    latitude: float, longitude: float, latitudes: FloatArray, longitudes: FloatArray
) -> FloatArray:
    """Great-circle distance in miles from one point to many (haversine formula)."""
    phi1, phi2 = np.radians(latitude), np.radians(latitudes)
    dphi = phi2 - phi1
    dlambda = np.radians(longitudes - longitude)
    a = np.sin(dphi / 2) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(dlambda / 2) ** 2
    result: FloatArray = 2 * EARTH_RADIUS_MILES * np.arcsin(np.minimum(1.0, np.sqrt(a)))
    return result


def bounding_box(latitude: float, longitude: float, miles: float) -> tuple[float, ...]:
    """(min lat, max lat, min lon, max lon) enclosing every point within `miles`."""
    dlat = miles / MILES_PER_DEGREE_LATITUDE
    cos_lat = max(float(np.cos(np.radians(min(89.0, abs(latitude) + dlat)))), 1e-6)
    dlon = miles / (MILES_PER_DEGREE_LATITUDE * cos_lat)
    return latitude - dlat, latitude + dlat, longitude - dlon, longitude + dlon


# --- Building and keeping indexes -------------------------------------------------------

KEPT_INDEXES = 4
_indexes: OrderedDict[str, SearchIndex] = OrderedDict()
_building = threading.Lock()


def current_index(session: Session) -> SearchIndex:
    """The index of the session's database as of its current revision token."""
    token = session.scalar(select(DirectoryRevision.token).where(DirectoryRevision.id == 1))
    key = session.get_bind().engine.url.render_as_string(hide_password=True)
    index = _indexes.get(key)
    if index is not None and token is not None and index.token == token:
        return index
    with _building:
        index = _indexes.get(key)
        if index is not None and token is not None and index.token == token:
            return index
        index = build_index(session, token)
        _indexes[key] = index
        _indexes.move_to_end(key)
        while len(_indexes) > KEPT_INDEXES:
            _indexes.popitem(last=False)
        return index


def warm(database: Database) -> None:
    """Build the index of `database` ahead of the first search (errors only logged: the
    first search will try again)."""
    try:
        with database.session() as session:
            index = current_index(session)
    except Exception:
        logger.exception("the directory search index could not be built at start")
    else:
        logger.info("directory search index built", extra={"services": len(index.services)})


def build_index(session: Session, token: str | None) -> SearchIndex:
    """Read every service, with its locations, needs, terms, opening times and phones."""
    needs: dict[str, set[str]] = defaultdict(set)
    terms: dict[str, list[str]] = defaultdict(list)
    for link_id, code, name in session.execute(
        select(Attribute.link_id, TaxonomyTerm.need_code, TaxonomyTerm.name).join(
            TaxonomyTerm, TaxonomyTerm.id == Attribute.taxonomy_term_id
        )
    ):
        terms[link_id].append(name)
        if code:
            needs[link_id].add(code)
            if code in NEEDS_BY_CODE:
                terms[link_id].append(NEEDS_BY_CODE[code].label)

    opening_times: dict[str, list[OpeningTime]] = defaultdict(list)
    schedule_columns = (
        Schedule.freq,
        Schedule.byday,
        Schedule.opens_at,
        Schedule.closes_at,
        Schedule.valid_from,
        Schedule.valid_to,
        Schedule.description,
    )
    # The service's own opening times first, then those given for it at its locations.
    for hours in session.execute(
        select(Schedule.service_id, *schedule_columns)
        .where(Schedule.service_id.is_not(None))
        .order_by(Schedule.id)
    ):
        opening_times[str(hours[0])].append(OpeningTime(*hours[1:]))
    for hours in session.execute(
        select(ServiceAtLocation.service_id, *schedule_columns)
        .join(Schedule, Schedule.service_at_location_id == ServiceAtLocation.id)
        .where(Schedule.service_id.is_(None))
        .order_by(Schedule.id)
    ):
        opening_times[hours[0]].append(OpeningTime(*hours[1:]))

    phones: dict[str, list[str]] = defaultdict(list)
    for service_id, number in session.execute(
        select(Phone.service_id, Phone.number)
        .where(Phone.service_id.is_not(None))
        .order_by(Phone.id)
    ):
        phones[str(service_id)].append(number)

    services: list[IndexedService] = []
    documents: list[tuple[frozenset[str], frozenset[str]]] = []
    for row in session.execute(
        select(
            Service.id,
            Service.name,
            Service.alternate_name,
            Service.description,
            Service.organization_id,
            Organization.name,
            Service.status,
            Service.referral_method,
            Service.email,
            Organization.email,
            Service.accepting_referrals,
            Service.accepting_referrals_note,
            Service.minimum_age,
            Service.maximum_age,
            Service.last_reviewed,
        )
        .join(Organization, Organization.id == Service.organization_id)
        .order_by(Service.id)
    ):
        (sid, name, alternate, description, organisation_id, organisation, status) = row[:7]
        services.append(
            IndexedService(
                id=sid,
                name=name,
                description=description,
                organisation_id=organisation_id,
                organisation_name=organisation,
                status=ServiceStatus(status),
                referral_method=row[7],
                referral_email=row[8] or row[9],
                accepting_referrals=row[10],
                accepting_referrals_note=row[11],
                minimum_age=row[12],
                maximum_age=row[13],
                last_reviewed=row[14],
                needs=frozenset(needs.get(sid, ())),
                opening_times=tuple(opening_times.get(sid, ())),
                phones=tuple(phones.get(sid, ())),
            )
        )
        documents.append(
            (
                tokens(f"{name} {alternate or ''}"),
                tokens(" ".join((description, organisation, *terms.get(sid, ())))),
            )
        )
    position = {service.id: i for i, service in enumerate(services)}
    located = session.execute(
        select(ServiceAtLocation.service_id, Location.latitude, Location.longitude, Location.name)
        .join(Location, Location.id == ServiceAtLocation.location_id)
        .where(Location.latitude.is_not(None), Location.longitude.is_not(None))
    )
    locations = [
        (position[service_id], latitude, longitude, name)
        for service_id, latitude, longitude, name in located
        if service_id in position and latitude is not None and longitude is not None
    ]
    return SearchIndex(token, services, locations, documents)
