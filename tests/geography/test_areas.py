"""Wards, local authorities, sub-ICB locations, ICBs and regions, checked against the source."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from healthequity.geography import (
    Area,
    AreaLevel,
    InvalidAreaCode,
    UnknownArea,
    areas,
    icb,
    ltla,
    region,
    search_areas,
    sub_icb,
    ward,
)

from .source_data import source_rows

# Per level: the source's code, name and NHS code columns, and the parents an area has.
SOURCE_COLUMNS = {
    AreaLevel.WARD: ("ward24_code", "ward24_name", None, ("ltla24_code", "region24_code")),
    AreaLevel.LTLA: ("ltla24_code", "ltla24_name", None, ("region24_code",)),
    AreaLevel.SUB_ICB: ("sicbl24_code", "sicbl24_name", "sicbl24_code_nhs", ("icb24_code",)),
    AreaLevel.ICB: ("icb24_code", "icb24_name", "icb24_code_nhs", ()),
    AreaLevel.REGION: ("region24_code", "region24_name", None, ()),
}


def expected_areas(level: AreaLevel) -> dict[str, Area]:
    """The level's areas as the source rows name them, by code."""
    code_column, name_column, nhs_column, parents = SOURCE_COLUMNS[level]
    members: dict[str, list[dict[str, str]]] = {}
    for row in source_rows().values():
        members.setdefault(row[code_column], []).append(row)
    expected = {}
    for code, rows in members.items():
        first = rows[0]
        expected[code] = Area(
            level=level,
            code=code,
            name=first[name_column],
            nhs_code=first[nhs_column] if nhs_column else None,
            ltla24_code=first["ltla24_code"] if "ltla24_code" in parents else None,
            icb24_code=first["icb24_code"] if "icb24_code" in parents else None,
            region24_code=first["region24_code"] if "region24_code" in parents else None,
            lsoa21_codes=tuple(sorted(row["lsoa21_code"] for row in rows)),
            usual_residents_2021=sum(int(row["usual_residents_2021"]) for row in rows),
            households_2021=sum(int(row["households_2021"]) for row in rows),
        )
    return expected


@pytest.mark.parametrize(
    ("level", "count"),
    [(AreaLevel.LTLA, 296), (AreaLevel.SUB_ICB, 106), (AreaLevel.ICB, 42), (AreaLevel.REGION, 9)],
)
def test_level_has_its_number_of_areas(level: AreaLevel, count: int) -> None:
    assert len(areas(level)) == count


@pytest.mark.parametrize("level", list(AreaLevel))
def test_areas_hold_exactly_the_lsoas_whose_source_rows_name_them(level: AreaLevel) -> None:
    expected = expected_areas(level)
    actual = areas(level)
    assert {area.code: area for area in actual} == expected
    assert sum(area.usual_residents_2021 for area in actual) == 56_490_108
    assert sum(len(area.lsoa21_codes) for area in actual) == 33_755


@pytest.mark.parametrize("level", list(AreaLevel))
def test_areas_are_sorted_by_name(level: AreaLevel) -> None:
    keys = [(area.name.casefold(), area.code) for area in areas(level)]
    assert keys == sorted(keys)


@pytest.mark.parametrize(
    ("lookup", "level"),
    [
        (ward, AreaLevel.WARD),
        (ltla, AreaLevel.LTLA),
        (sub_icb, AreaLevel.SUB_ICB),
        (icb, AreaLevel.ICB),
        (region, AreaLevel.REGION),
    ],
)
def test_lookup_finds_every_area_by_its_codes(
    lookup: Callable[[str], Area], level: AreaLevel
) -> None:
    for area in areas(level):
        assert lookup(area.code) is area
        assert lookup(f" {area.code.lower()} ") is area
        if area.nhs_code is not None:
            assert lookup(area.nhs_code.lower()) is area


def test_city_of_london_areas() -> None:
    assert ltla("E09000001").lsoa21_codes[0] == "E01000001"
    assert icb("QMF") == icb("E54000029")
    assert icb("QMF").name == "NHS North East London Integrated Care Board"
    assert sub_icb("A3A8R").icb24_code == "E54000029"
    assert ward("E05009288").ltla24_code == "E09000001"
    assert region("E12000007").name == "London"


@pytest.mark.parametrize(
    ("lookup", "value"),
    [
        (ward, "E06000001"),
        (ward, "Aldersgate"),
        (ltla, "E05009288"),
        (ltla, "E1000001"),
        (sub_icb, "E54000029"),
        (sub_icb, "A3A8"),
        (icb, "XMF"),
        (icb, "E38000255"),
        (region, "London"),
        (region, ""),
    ],
)
def test_malformed_area_code_is_invalid(lookup: Callable[[str], Area], value: str) -> None:
    with pytest.raises(InvalidAreaCode) as raised:
        lookup(value)
    assert f"invalid area code {value!r}: expected " in str(raised.value)


@pytest.mark.parametrize(
    ("lookup", "value"),
    [
        (ward, "E05999999"),
        (ltla, "E06999999"),
        (sub_icb, "E38999999"),
        (sub_icb, "ZZZ"),
        (icb, "Q99"),
        (icb, "E54999999"),
        (region, "E12000010"),
    ],
)
def test_area_code_not_in_england_is_unknown(lookup: Callable[[str], Area], value: str) -> None:
    with pytest.raises(UnknownArea) as raised:
        lookup(value)
    assert repr(value) in str(raised.value)


def test_search_finds_manchester() -> None:
    found = search_areas("manch")
    assert found[0] == ltla("E08000003")
    assert found[0].name == "Manchester"
    assert all("manch" in area.name.casefold() for area in found)
    assert icb("E54000057") in found  # NHS Greater Manchester Integrated Care Board


def test_search_ranks_exact_then_prefix_then_contains_then_by_name() -> None:
    text = "york"
    found = search_areas(text)

    def group(area: Area) -> int:
        name = area.name.casefold()
        return 0 if name == text else 1 if name.startswith(text) else 2

    assert found[0].name == "York"
    assert [group(area) for area in found] == sorted(group(area) for area in found)
    keys = [(group(area), area.name.casefold(), area.code) for area in found]
    assert keys == sorted(keys)
    everything = [area for level in AreaLevel for area in areas(level)]
    assert len(found) == sum(text in area.name.casefold() for area in everything)


def test_search_matches_codes_exactly() -> None:
    assert search_areas("qmf") == [icb("QMF")]
    assert search_areas(" E09000001 ")[0] == ltla("E09000001")
    assert search_areas("E0900000") == []


def test_search_by_level_and_limit() -> None:
    found = search_areas("manch", level=AreaLevel.SUB_ICB)
    assert len(found) == 10
    assert {area.level for area in found} == {AreaLevel.SUB_ICB}
    assert search_areas("manch", level=AreaLevel.SUB_ICB, limit=3) == found[:3]


@pytest.mark.parametrize("text", ["", "   "])
def test_blank_search_finds_nothing(text: str) -> None:
    assert search_areas(text) == []
