"""Ethnic groups as the 2021 Census for England and Wales asked them.

Source: Office for National Statistics, Census 2021 dictionary, "Ethnic group" (variable
`ethnic_group_tb`, 20 categories: 19 tick-box categories and "Does not apply"), in 5
high-level groups (variable "Ethnic group (6 categories)"):
https://www.ons.gov.uk/census/census2021dictionary/variablesbytopic/ethnicgroupnationalidentitylanguageandreligionvariablescensus2021/ethnicgroup
(Open Government Licence v3.0). Census 2021 added "Roma" next to "Gypsy or Irish Traveller"
in the White group.

The codes are ONS's own ("1" to "19", and "1" to "5" for the high-level groups), so that
counts compare directly with Census 2021 tables such as TS021. A person may also decline
("Prefer not to say"), or the answer may be missing ("Not stated"); neither is a Census
category, and they get codes of letters so that they never collide with ONS's numbers. A
record with no code at all means the question has not been asked.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class EthnicGroup:
    """A high-level group: "White", "Asian, Asian British or Asian Welsh"..."""

    code: str
    label: str


@dataclass(frozen=True, slots=True)
class Ethnicity:
    """One category a person can choose, within its high-level group (None for the two
    answers that are not Census categories)."""

    code: str
    label: str
    group: EthnicGroup | None

    @property
    def full_label(self) -> str:
        """The label as ONS writes it in tables: "White: Roma"."""
        return f"{self.group.label}: {self.label}" if self.group else self.label


ASIAN = EthnicGroup("1", "Asian, Asian British or Asian Welsh")
BLACK = EthnicGroup("2", "Black, Black British, Black Welsh, Caribbean or African")
MIXED = EthnicGroup("3", "Mixed or Multiple ethnic groups")
WHITE = EthnicGroup("4", "White")
OTHER = EthnicGroup("5", "Other ethnic group")
ETHNIC_GROUPS: tuple[EthnicGroup, ...] = (ASIAN, BLACK, MIXED, WHITE, OTHER)

NOT_STATED = "NS"
PREFER_NOT_TO_SAY = "PNS"

CENSUS_2021_ETHNICITIES: tuple[Ethnicity, ...] = (
    Ethnicity("1", "Bangladeshi", ASIAN),
    Ethnicity("2", "Chinese", ASIAN),
    Ethnicity("3", "Indian", ASIAN),
    Ethnicity("4", "Pakistani", ASIAN),
    Ethnicity("5", "Other Asian", ASIAN),
    Ethnicity("6", "African", BLACK),
    Ethnicity("7", "Caribbean", BLACK),
    Ethnicity("8", "Other Black", BLACK),
    Ethnicity("9", "White and Asian", MIXED),
    Ethnicity("10", "White and Black African", MIXED),
    Ethnicity("11", "White and Black Caribbean", MIXED),
    Ethnicity("12", "Other Mixed or Multiple ethnic groups", MIXED),
    Ethnicity("13", "English, Welsh, Scottish, Northern Irish or British", WHITE),
    Ethnicity("14", "Irish", WHITE),
    Ethnicity("15", "Gypsy or Irish Traveller", WHITE),
    Ethnicity("16", "Roma", WHITE),
    Ethnicity("17", "Other White", WHITE),
    Ethnicity("18", "Arab", OTHER),
    Ethnicity("19", "Any other ethnic group", OTHER),
)
OTHER_ANSWERS: tuple[Ethnicity, ...] = (
    Ethnicity(NOT_STATED, "Not stated", None),
    Ethnicity(PREFER_NOT_TO_SAY, "Prefer not to say", None),
)
ETHNICITIES: tuple[Ethnicity, ...] = CENSUS_2021_ETHNICITIES + OTHER_ANSWERS
ETHNICITIES_BY_CODE: dict[str, Ethnicity] = {item.code: item for item in ETHNICITIES}


def ethnicities_by_group() -> list[tuple[EthnicGroup, list[Ethnicity]]]:
    """The Census categories under their groups, in the Census's order (for a select)."""
    return [
        (group, [item for item in CENSUS_2021_ETHNICITIES if item.group == group])
        for group in ETHNIC_GROUPS
    ]


def ethnicity(code: str) -> Ethnicity:
    """The category with this code; KeyError naming the code and the known ones otherwise."""
    try:
        return ETHNICITIES_BY_CODE[code]
    except KeyError:
        raise KeyError(
            f"unknown ethnicity code {code!r}: expected one of {', '.join(ETHNICITIES_BY_CODE)}"
        ) from None
