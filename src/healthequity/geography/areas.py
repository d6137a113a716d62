"""Look up and search the wards, local authorities, sub-ICB locations, ICBs and regions."""

from __future__ import annotations

import re
from dataclasses import dataclass

from healthequity.geography._storage import LsoaTable, load_once, lsoa_table
from healthequity.geography.exceptions import InvalidAreaCode, UnknownArea
from healthequity.geography.models import Area, AreaLevel


@dataclass(frozen=True, slots=True)
class _Level:
    """Where a level's areas are in the LSOA table, and what their codes look like."""

    kind: str  # for messages
    code_column: str
    name_column: str
    nhs_code_column: str | None
    parent_columns: frozenset[str]  # among Area's ltla24_code, icb24_code, region24_code
    code_format: re.Pattern[str]
    expected: str  # describes code_format


_LEVELS = {
    AreaLevel.WARD: _Level(
        "ward",
        "ward24_code",
        "ward24_name",
        None,
        frozenset({"ltla24_code", "region24_code"}),
        re.compile(r"E05[0-9]{6}"),
        "a ward code: E05 and six digits",
    ),
    AreaLevel.LTLA: _Level(
        "local authority",
        "ltla24_code",
        "ltla24_name",
        None,
        frozenset({"region24_code"}),
        re.compile(r"E0[6-9][0-9]{6}"),
        "a local authority code: E06, E07, E08 or E09 and six digits",
    ),
    AreaLevel.SUB_ICB: _Level(
        "sub-ICB location",
        "sicbl24_code",
        "sicbl24_name",
        "sicbl24_code_nhs",
        frozenset({"icb24_code"}),
        re.compile(r"E38[0-9]{6}|[0-9A-Z]{3}|[0-9A-Z]{5}"),
        "a sub-ICB location code: E38 and six digits, or an NHS code such as 00L or A3A8R",
    ),
    AreaLevel.ICB: _Level(
        "ICB",
        "icb24_code",
        "icb24_name",
        "icb24_code_nhs",
        frozenset(),
        re.compile(r"E54[0-9]{6}|Q[0-9A-Z]{2}"),
        "an ICB code: E54 and six digits, or an NHS code such as QMF",
    ),
    AreaLevel.REGION: _Level(
        "region",
        "region24_code",
        "region24_name",
        None,
        frozenset(),
        re.compile(r"E12[0-9]{6}"),
        "a region code: E12 and six digits",
    ),
}


@dataclass(frozen=True, slots=True)
class _AreaIndex:
    by_code: dict[AreaLevel, dict[str, Area]]  # ONS and NHS codes
    by_name: dict[AreaLevel, tuple[Area, ...]]  # in _name_order
    search_keys: tuple[tuple[str, Area], ...]  # (case-folded name, area), in _name_order


def ward(code: str) -> Area:
    """The ward with this 2024 ONS code (E05...)."""
    return _area(AreaLevel.WARD, code)


def ltla(code: str) -> Area:
    """The lower-tier local authority with this 2024 ONS code (E06..., E07..., E08..., E09...)."""
    return _area(AreaLevel.LTLA, code)


def sub_icb(code: str) -> Area:
    """The sub-ICB location with this 2024 ONS code (E38...) or NHS code (e.g. 00L)."""
    return _area(AreaLevel.SUB_ICB, code)


def icb(code: str) -> Area:
    """The integrated care board with this 2024 ONS code (E54...) or NHS code (e.g. QMF)."""
    return _area(AreaLevel.ICB, code)


def region(code: str) -> Area:
    """The region with this ONS code (E12...)."""
    return _area(AreaLevel.REGION, code)


def areas(level: AreaLevel) -> list[Area]:
    """Every area of a level, sorted by name, ignoring case (then code: ward names repeat)."""
    return list(_area_index().by_name[level])


def search_areas(text: str, level: AreaLevel | None = None, limit: int | None = None) -> list[Area]:
    """Areas whose name contains `text` (ignoring case), or whose ONS or NHS code is `text`.

    Exact matches of name or code come first, then names that start with the text, then
    the rest; each group sorted by name. Blank text matches nothing.
    """
    if limit is not None and limit < 0:
        raise ValueError(f"limit must not be negative, got {limit}")
    wanted = text.strip().casefold()
    if not wanted:
        return []
    code = wanted.upper()
    ranked: list[tuple[int, Area]] = []
    for name, area in _area_index().search_keys:
        if level is not None and area.level is not level:
            continue
        if name == wanted or code in (area.code, area.nhs_code):
            ranked.append((0, area))
        elif name.startswith(wanted):
            ranked.append((1, area))
        elif wanted in name:
            ranked.append((2, area))
    # search_keys is in name order, and the sort is stable.
    ranked.sort(key=lambda match: match[0])
    return [area for _, area in ranked[:limit]]


def _area(level: AreaLevel, code: str) -> Area:
    spec = _LEVELS[level]
    normalised = code.strip().upper()
    if not spec.code_format.fullmatch(normalised):
        raise InvalidAreaCode(code, spec.expected)
    area = _area_index().by_code[level].get(normalised)
    if area is None:
        raise UnknownArea(code, spec.kind)
    return area


@load_once
def _area_index() -> _AreaIndex:
    table = lsoa_table()
    by_code: dict[AreaLevel, dict[str, Area]] = {}
    by_name: dict[AreaLevel, tuple[Area, ...]] = {}
    for level, spec in _LEVELS.items():
        level_areas = sorted(_build_areas(table, level, spec), key=_name_order)
        by_name[level] = tuple(level_areas)
        by_code[level] = {area.code: area for area in level_areas} | {
            area.nhs_code: area for area in level_areas if area.nhs_code is not None
        }
    everything = sorted((area for group in by_name.values() for area in group), key=_name_order)
    return _AreaIndex(by_code, by_name, tuple((area.name.casefold(), area) for area in everything))


def _name_order(area: Area) -> tuple[str, str]:
    return area.name.casefold(), area.code


def _build_areas(table: LsoaTable, level: AreaLevel, spec: _Level) -> list[Area]:
    """The level's areas, each from the LSOAs that share its code."""
    import numpy as np  # deferred, as is pyarrow, to keep importing the package cheap

    indices, codes = table.text_column(spec.code_column)
    # Grouping rows by code: a stable sort keeps each area's LSOAs in code order.
    order = np.argsort(indices, kind="stable")
    ends = np.cumsum(np.bincount(indices, minlength=len(codes)))
    residents = table.integer_column("usual_residents_2021")
    households = table.integer_column("households_2021")

    def parent(column: str, text: dict[str, str]) -> str | None:
        return text[column] if column in spec.parent_columns else None

    built = []
    for start, end in zip([0, *ends[:-1].tolist()], ends.tolist(), strict=True):
        rows = order[start:end]
        text = table.texts(int(rows[0]))
        built.append(
            Area(
                level=level,
                code=text[spec.code_column],
                name=text[spec.name_column],
                nhs_code=None if spec.nhs_code_column is None else text[spec.nhs_code_column],
                ltla24_code=parent("ltla24_code", text),
                icb24_code=parent("icb24_code", text),
                region24_code=parent("region24_code", text),
                lsoa21_codes=tuple(table.codes[row] for row in rows.tolist()),
                usual_residents_2021=int(residents[rows].sum()),
                households_2021=int(households[rows].sum()),
            )
        )
    return built
