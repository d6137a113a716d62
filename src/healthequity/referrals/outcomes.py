"""Wellbeing outcome measures recorded before and after a referral, and their scoring.

- ONS4, the Office for National Statistics' four personal well-being questions: each
  answered from 0 ("not at all") to 10 ("completely"). ONS reports the four separately and
  does not add them up, so there is no total; for anxiety a lower score is better.
  https://www.ons.gov.uk/peoplepopulationandcommunity/wellbeing/methodologies/personalwellbeingsurveyuserguide
- SWEMWBS, the Short Warwick-Edinburgh Mental Wellbeing Scale: seven statements, each scored
  from 1 ("none of the time") to 5 ("all of the time"); the raw score is their sum, 7 to 35
  (Warwick Medical School, "Collect, score, analyse and interpret WEMWBS":
  https://warwick.ac.uk/fac/sci/med/research/platform/wemwbs/using/howto). We keep the raw
  score; Warwick's conversion to metric scores is not applied here.
  SWEMWBS © NHS Health Scotland, University of Warwick and University of Edinburgh, 2008,
  all rights reserved; free to use once registered with Warwick Medical School.

Pure: no database.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from healthequity.referrals.exceptions import ReferralInputError


class Instrument(enum.StrEnum):
    ONS4 = "ons4"
    SWEMWBS = "swemwbs"


class Timing(enum.StrEnum):
    BEFORE = "before"
    AFTER = "after"


@dataclass(frozen=True, slots=True)
class Item:
    key: str
    label: str
    higher_is_better: bool = True


@dataclass(frozen=True, slots=True)
class InstrumentSpec:
    instrument: Instrument
    name: str
    items: tuple[Item, ...]
    lowest: int
    highest: int
    # Whether the items add up to a total (SWEMWBS) or stand alone (ONS4).
    summed: bool

    @property
    def total_range(self) -> tuple[int, int] | None:
        if not self.summed:
            return None
        return (self.lowest * len(self.items), self.highest * len(self.items))


INSTRUMENTS: Mapping[Instrument, InstrumentSpec] = {
    Instrument.ONS4: InstrumentSpec(
        Instrument.ONS4,
        "ONS4 personal well-being",
        (
            Item("life_satisfaction", "Satisfied with life nowadays"),
            Item("worthwhile", "Things done in life are worthwhile"),
            Item("happiness", "Happy yesterday"),
            Item("anxiety", "Anxious yesterday", higher_is_better=False),
        ),
        lowest=0,
        highest=10,
        summed=False,
    ),
    Instrument.SWEMWBS: InstrumentSpec(
        Instrument.SWEMWBS,
        "Short Warwick-Edinburgh Mental Wellbeing Scale (SWEMWBS)",
        (
            Item("optimistic", "Optimistic about the future"),
            Item("useful", "Feeling useful"),
            Item("relaxed", "Feeling relaxed"),
            Item("dealing_with_problems", "Dealing with problems well"),
            Item("thinking_clearly", "Thinking clearly"),
            Item("close_to_others", "Feeling close to other people"),
            Item("own_mind", "Able to make up own mind about things"),
        ),
        lowest=1,
        highest=5,
        summed=True,
    ),
}


@dataclass(frozen=True, slots=True)
class Scored:
    item_scores: dict[str, int]
    total: int | None


def _whole_number(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def score(instrument: Instrument, item_scores: Mapping[str, object]) -> Scored:
    """Check every item is answered within the instrument's range and score it; a
    ReferralInputError names each item that is missing, unknown or out of range."""
    spec = INSTRUMENTS[instrument]
    expected = f"a whole number from {spec.lowest} to {spec.highest}"
    errors: dict[str, str] = {}
    scores: dict[str, int] = {}
    for item in spec.items:
        if item.key not in item_scores or item_scores[item.key] in (None, ""):
            errors[item.key] = f"missing: expected {expected}"
            continue
        value = _whole_number(item_scores[item.key])
        if value is None or not spec.lowest <= value <= spec.highest:
            errors[item.key] = f"expected {expected}, got {item_scores[item.key]!r}"
            continue
        scores[item.key] = value
    keys = {item.key for item in spec.items}
    for key in item_scores:
        if key not in keys:
            errors[key] = f"not an item of {instrument.value}: expected " + ", ".join(
                item.key for item in spec.items
            )
    if errors:
        raise ReferralInputError(errors)
    return Scored(scores, sum(scores.values()) if spec.summed else None)


@dataclass(frozen=True, slots=True)
class ItemChange:
    key: str
    label: str
    before: int
    after: int
    change: int
    # True when the change is for the better (for anxiety, a fall); None when unchanged.
    improved: bool | None


@dataclass(frozen=True, slots=True)
class OutcomeChange:
    """One instrument's scores before and after a referral, and how they changed."""

    instrument: Instrument
    name: str
    before: Scored | None
    after: Scored | None
    items: tuple[ItemChange, ...]
    total_change: int | None


def change(instrument: Instrument, before: Scored | None, after: Scored | None) -> OutcomeChange:
    """How the scores changed from before to after (nothing to compare without both)."""
    spec = INSTRUMENTS[instrument]
    if before is None or after is None:
        return OutcomeChange(instrument, spec.name, before, after, (), None)
    items = []
    for item in spec.items:
        difference = after.item_scores[item.key] - before.item_scores[item.key]
        improved = None if difference == 0 else (difference > 0) == item.higher_is_better
        items.append(
            ItemChange(
                item.key,
                item.label,
                before.item_scores[item.key],
                after.item_scores[item.key],
                difference,
                improved,
            )
        )
    total_change = (
        after.total - before.total if after.total is not None and before.total is not None else None
    )
    return OutcomeChange(instrument, spec.name, before, after, tuple(items), total_change)
