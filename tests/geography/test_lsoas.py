"""LSOA lookups, checked against the shared source files."""

from __future__ import annotations

import functools
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from healthequity.geography import (
    IOD2025_INDICES,
    GeographyError,
    InvalidAreaCode,
    Lsoa,
    UnknownArea,
    is_lsoa21_code,
    lsoa,
    lsoas,
)

from .source_data import expected_lsoa, source_rows


@functools.cache
def every_lsoa() -> tuple[Lsoa, ...]:
    return tuple(lsoas())


def test_city_of_london_001a() -> None:
    city = lsoa("E01000001")
    assert city == expected_lsoa(source_rows()["E01000001"])
    assert (city.lsoa21_name, city.ward24_name, city.ward24_code) == (
        "City of London 001A",
        "Aldersgate",
        "E05009288",
    )
    assert (city.ltla24_code, city.ltla24_name) == ("E09000001", "City of London")
    assert (city.icb24_code, city.icb24_code_nhs) == ("E54000029", "QMF")
    assert (city.sicbl24_code, city.sicbl24_code_nhs) == ("E38000255", "A3A8R")
    assert (city.region24_code, city.region24_name) == ("E12000007", "London")
    assert (city.iod2025.imd.decile, city.iod2025.imd.rank, city.iod2025.imd.score) == (
        8,
        26525,
        8.742,
    )
    assert city.iod2025.environment.decile == 1
    assert (city.usual_residents_2021, city.households_2021) == (1474, 838)
    assert city.households_by_deprivation_dimensions == (548, 253, 34, 3, 0)
    assert (city.ruc21_code, city.ruc21_urban_rural) == ("UN1", "Urban")


@given(data=st.data())
def test_lookup_matches_source_row_whatever_the_spacing_and_case(data: st.DataObject) -> None:
    rows = source_rows()
    code = data.draw(st.sampled_from(sorted(rows)), label="code")
    typed = data.draw(
        st.tuples(st.sampled_from([code, code.lower()]), st.sampled_from(["", " ", "\t"])).map(
            lambda pair: f"{pair[1]}{pair[0]}{pair[1]}"
        ),
        label="typed",
    )
    assert lsoa(typed) == expected_lsoa(rows[code])


def test_every_lsoa_matches_its_source_row_in_code_order() -> None:
    rows = source_rows()
    assert [record.lsoa21_code for record in every_lsoa()] == sorted(rows)
    for record in every_lsoa():
        assert record == expected_lsoa(rows[record.lsoa21_code])


def test_england_has_33755_lsoas_and_56490108_usual_residents() -> None:
    assert len(every_lsoa()) == 33_755
    assert sum(record.usual_residents_2021 for record in every_lsoa()) == 56_490_108


@pytest.mark.parametrize("index", IOD2025_INDICES)
def test_each_decile_holds_a_tenth_of_lsoas(index: str) -> None:
    deciles = Counter(getattr(record.iod2025, index).decile for record in every_lsoa())
    assert sorted(deciles) == list(range(1, 11))
    assert set(deciles.values()) <= {3375, 3376}


@pytest.mark.parametrize("value", ["E01000001", "W01000001", "E01999999"])
def test_lsoa21_code_format_accepts(value: str) -> None:
    assert is_lsoa21_code(value)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "E0100001",
        "E010000011",
        "e01000001",
        "E02000001",
        "S01000001",
        "E01 000001",
        "E01\u0660\u0660\u0660\u0660\u0660\u0661",  # Arabic-Indic digits
    ],
)
def test_lsoa21_code_format_rejects(value: str) -> None:
    assert not is_lsoa21_code(value)


@pytest.mark.parametrize("value", ["", "E0100001", "E02000001", "City of London 001A"])
def test_malformed_code_is_invalid(value: str) -> None:
    with pytest.raises(InvalidAreaCode) as raised:
        lsoa(value)
    assert repr(value) in str(raised.value)
    assert "E01 or W01 and six digits" in str(raised.value)


@pytest.mark.parametrize("value", ["W01000001", "E01999999", " e01999999 "])
def test_code_not_in_england_is_unknown(value: str) -> None:
    with pytest.raises(UnknownArea) as raised:
        lsoa(value)
    assert repr(value) in str(raised.value)


def test_errors_are_geography_errors() -> None:
    with pytest.raises(GeographyError):
        lsoa("nonsense")
    with pytest.raises(GeographyError):
        lsoa("E01999999")
