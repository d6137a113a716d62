"""Where to measure distance from, read from what people type in a search's "where" box.

People type postcodes, the start of one (a postcode district, "LS9"), LSOA codes, and the
names or codes of wards and local authorities ("Harehills", "Leeds"). Words that fit
several places are never settled by a guess: `PlaceNotClear` lists the places to choose
from, each with the code that means just that place.

An area is measured from one point inside it: see `central_point`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from healthequity import geography
from healthequity.directory.search import (
    Origin,
    OriginError,
    lsoa_origin,
    postcode_origin,
    token_similarity,
    tokens,
)
from healthequity.geography import Area, AreaLevel, InvalidPostcode
from healthequity.places.models import Postcode

# The areas people call places, local authorities listed before wards.
PLACE_LEVELS = (AreaLevel.LTLA, AreaLevel.WARD)
MAX_CHOICES = 10
PLACE_ADVICE = (
    "Enter a postcode, or the name of a ward or local authority, or choose the area "
    "(LSOA code) instead."
)
# A postcode's outward code, the postcode district: LS9, M1, SW1A.
_DISTRICT = re.compile(r"[A-Z]{1,2}[0-9][0-9A-Z]?")
# The text typed starts a word of the name: "harehills" in "gipton & harehills".
_WORD_START = r"(?<!\w){}"


@dataclass(frozen=True, slots=True)
class PlaceChoice:
    """A place the words typed could mean."""

    label: str  # "Armley ward, Leeds"
    code: str  # the area's code: searching from it means this place and no other


@dataclass(frozen=True, slots=True)
class Place:
    """Where to measure distance from, and other places the words typed could mean."""

    origin: Origin
    others: tuple[PlaceChoice, ...] = ()


class PlaceNotClear(OriginError):
    """Words that fit several places, or none but for near misses of a name: `choices`
    holds the first MAX_CHOICES of them, and `matches` counts them all."""

    def __init__(self, message: str, choices: Sequence[PlaceChoice], matches: int) -> None:
        super().__init__(message)
        self.choices = tuple(choices)
        self.matches = matches


def resolve_place(session: Session, text: str) -> Place | None:
    """The place that a "where" box names: an LSOA code, a postcode, a postcode district,
    or a ward's or local authority's code or name. None if the box is blank.

    An exact name (or code) is taken when it is the only one, even if other names hold the
    words too ("Leeds": the city, not the ward Leeds & Langley in Maidstone); those others
    come back in `Place.others`, to offer. Raises PlaceNotClear when the words fit several
    places equally well, or only near misses; OriginError, with advice, when nothing fits.
    """
    typed = " ".join(text.split())
    if not typed:
        return None
    compact = typed.replace(" ", "").upper()
    if geography.is_lsoa21_code(compact):
        return Place(lsoa_origin(compact))
    if _is_postcode(compact):
        return Place(postcode_origin(session, typed))
    if _DISTRICT.fullmatch(typed.upper()):
        return Place(district_origin(session, typed.upper()))
    exact, word_start, inside = _matching_areas(typed)
    for matches in (exact, word_start, inside):
        if len(matches) > 1:
            raise PlaceNotClear(
                f"{typed!r} could mean {len(matches)} places. Choose the one you mean.",
                [_choice(area) for area in matches[:MAX_CHOICES]],
                len(matches),
            )
        if matches:
            others = word_start if matches is exact else []
            return Place(
                area_origin(matches[0]),
                tuple(_choice(area) for area in others[:MAX_CHOICES]),
            )
    if any(character.isdigit() for character in typed):
        raise OriginError(
            f"{typed!r} is not a postcode: enter a full postcode, like LS1 4AP, or its first "
            "part, like LS1. Or enter the name of a ward or local authority, or choose the "
            "area (LSOA code) instead."
        )
    similar = _near_misses(typed)
    if similar:
        raise PlaceNotClear(
            f"We could not find a place called {typed!r}. Choose one of the places with a "
            "similar name, or enter a postcode instead.",
            [_choice(area) for area in similar[:MAX_CHOICES]],
            len(similar),
        )
    raise OriginError(f"We could not find a place called {typed!r}. " + PLACE_ADVICE)


def central_point(points: Sequence[tuple[float, float, float]]) -> tuple[float, float]:
    """Of `points` (latitude, longitude, weight above 0), the one nearest their weighted
    mean.

    The mean alone could fall outside an area of awkward shape (a crescent, or one around
    a park or an estuary); the nearest of the area's own points lies inside it, close to
    where its weight (its people) is.
    """
    total = sum(weight for _, _, weight in points)
    mean_lat = sum(lat * weight for lat, _, weight in points) / total
    mean_lon = sum(lon * weight for _, lon, weight in points) / total
    # Distances on a flat map, a degree of longitude shrunk to its width at this latitude:
    # exact enough to compare points within one area.
    shrink = math.cos(math.radians(mean_lat))
    latitude, longitude, _ = min(
        points,
        key=lambda point: (point[0] - mean_lat) ** 2 + ((point[1] - mean_lon) * shrink) ** 2,
    )
    return latitude, longitude


@lru_cache(maxsize=512)
def area_origin(area: Area) -> Origin:
    """A ward or local authority, measured from the interior point of its LSOA nearest its
    population-weighted centre: the mean of its LSOAs' interior points, weighted by their
    usual residents in the 2021 Census (see `central_point`)."""
    records = [geography.lsoa(code) for code in area.lsoa21_codes]
    latitude, longitude = central_point(
        [
            (r.interior_point.latitude, r.interior_point.longitude, r.usual_residents_2021)
            for r in records
        ]
    )
    return Origin(latitude, longitude, f"the centre of {_area_name(area)}")


def district_origin(session: Session, district: str) -> Origin:
    """A postcode district ("LS9"), measured from the postcode nearest the mean of its
    postcodes' locations in the loaded postcode directory (see `central_point`).

    OriginError if the directory holds none of the district's postcodes (or none at all).
    """
    rows = session.execute(
        select(Postcode.latitude, Postcode.longitude).where(
            # The district's postcodes ("LS9 7AB") lie between its first and last possible
            # ones in any collation, so the key's index serves the search; a collation that
            # ignores the space also puts another district's ("LS98 1AB") in between, and
            # LIKE leaves those out.
            Postcode.postcode.between(f"{district} 0AA", f"{district} 9ZZ"),
            Postcode.postcode.like(f"{district} %"),
            Postcode.latitude.is_not(None),
            Postcode.longitude.is_not(None),
        )
    ).all()
    if not rows:
        raise OriginError(f"We could not find the postcode district {district}. " + PLACE_ADVICE)
    latitude, longitude = central_point(
        [(lat, lon, 1.0) for lat, lon in rows if lat is not None and lon is not None]
    )
    return Origin(latitude, longitude, f"the centre of postcode district {district}")


def _is_postcode(compact: str) -> bool:
    try:
        geography.normalise_postcode(compact)
    except InvalidPostcode:
        return False
    return True


def _matching_areas(typed: str) -> tuple[list[Area], list[Area], list[Area]]:
    """The wards and local authorities whose name or code is the text; whose name has a
    word starting with it; and whose name holds it elsewhere. "and" also matches "&"."""
    wanted = typed.casefold()
    variants = dict.fromkeys([wanted, re.sub(r"\band\b", "&", wanted)])
    tiers: dict[str, tuple[int, Area]] = {}
    for variant in variants:
        word_start = re.compile(_WORD_START.format(re.escape(variant)))
        for area in geography.search_areas(variant):
            if area.level not in PLACE_LEVELS:
                continue
            name = area.name.casefold()
            if name == variant or variant.upper() == area.code:
                tier = 0
            elif word_start.search(name):
                tier = 1
            else:
                tier = 2
            if area.code not in tiers or tier < tiers[area.code][0]:
                tiers[area.code] = (tier, area)
    found: tuple[list[Area], list[Area], list[Area]] = ([], [], [])
    for tier, area in sorted(tiers.values(), key=lambda item: (item[0], *_choice_order(item[1]))):
        found[tier].append(area)
    return found


def _near_misses(typed: str) -> list[Area]:
    """Wards and local authorities whose name holds every word typed, or a spelling slip
    of it ("Armly": Armley), closest first."""
    wanted = sorted(tokens(typed))
    if not wanted:
        return []
    scored: list[tuple[float, Area]] = []
    for level in PLACE_LEVELS:
        for area in geography.areas(level):
            words = tokens(area.name)
            scores = [
                max((token_similarity(typed_word, word) for word in words), default=0.0)
                for typed_word in wanted
            ]
            if all(scores):
                scored.append((sum(scores) / len(scores), area))
    scored.sort(key=lambda item: (-item[0], *_choice_order(item[1])))
    return [area for _, area in scored]


def _choice_order(area: Area) -> tuple[int, str]:
    return PLACE_LEVELS.index(area.level), _choice(area).label.casefold()


def _area_name(area: Area) -> str:
    """A local authority's name, or a ward's with its authority's: "Armley ward, Leeds"."""
    if area.level is AreaLevel.WARD and area.ltla24_code:
        return f"{area.name} ward, {geography.ltla(area.ltla24_code).name}"
    return area.name


def _choice(area: Area) -> PlaceChoice:
    suffix = " (local authority)" if area.level is AreaLevel.LTLA else ""
    return PlaceChoice(_area_name(area) + suffix, area.code)
