"""The 2021 Census ethnic groups for England and Wales: 19 categories in 5 high-level
groups, with ONS's codes, and the two answers that are not Census categories."""

from __future__ import annotations

import pytest

from healthequity.people.ethnicity import (
    CENSUS_2021_ETHNICITIES,
    ETHNIC_GROUPS,
    ETHNICITIES,
    ETHNICITIES_BY_CODE,
    NOT_STATED,
    PREFER_NOT_TO_SAY,
    ethnicities_by_group,
    ethnicity,
)


def test_nineteen_census_categories_in_five_groups_with_onss_codes() -> None:
    assert len(CENSUS_2021_ETHNICITIES) == 19
    assert [item.code for item in CENSUS_2021_ETHNICITIES] == [str(n) for n in range(1, 20)]
    assert [group.label for group in ETHNIC_GROUPS] == [
        "Asian, Asian British or Asian Welsh",
        "Black, Black British, Black Welsh, Caribbean or African",
        "Mixed or Multiple ethnic groups",
        "White",
        "Other ethnic group",
    ]
    sizes = {group.label: len(items) for group, items in ethnicities_by_group()}
    assert list(sizes.values()) == [5, 3, 4, 5, 2]


def test_the_white_group_has_gypsy_or_irish_traveller_and_roma() -> None:
    white = dict((group.label, items) for group, items in ethnicities_by_group())["White"]
    assert [item.label for item in white] == [
        "English, Welsh, Scottish, Northern Irish or British",
        "Irish",
        "Gypsy or Irish Traveller",
        "Roma",
        "Other White",
    ]
    assert ethnicity("15").full_label == "White: Gypsy or Irish Traveller"
    assert ethnicity("16").full_label == "White: Roma"


def test_codes_and_labels_are_unique_and_the_other_answers_are_there() -> None:
    assert len(ETHNICITIES_BY_CODE) == len(ETHNICITIES) == 21
    assert len({item.full_label for item in ETHNICITIES}) == 21
    assert ethnicity(NOT_STATED).full_label == "Not stated"
    assert ethnicity(PREFER_NOT_TO_SAY).full_label == "Prefer not to say"
    assert ethnicity(NOT_STATED).group is None
    # Every code fits the person table's column.
    assert max(len(code) for code in ETHNICITIES_BY_CODE) <= 4


def test_an_unknown_code_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match=r"unknown ethnicity code 'A'.*1, 2, 3"):
        ethnicity("A")
