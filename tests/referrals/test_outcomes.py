"""Outcome measures: ONS4 (four items, 0 to 10, not added up) and SWEMWBS (seven items, 1 to
5, raw total 7 to 35), their validation, and the change from before to after."""

from __future__ import annotations

import pytest

from healthequity.audit.service import list_events
from healthequity.referrals import outcomes, service
from healthequity.referrals.exceptions import ReferralInputError
from healthequity.referrals.outcomes import Instrument, Timing

from .conftest import World, context_of, refer

ONS4_BEFORE = {"life_satisfaction": 4, "worthwhile": 5, "happiness": 3, "anxiety": 8}
ONS4_AFTER = {"life_satisfaction": 6, "worthwhile": 5, "happiness": 6, "anxiety": 4}
SWEMWBS_ITEMS = (
    "optimistic",
    "useful",
    "relaxed",
    "dealing_with_problems",
    "thinking_clearly",
    "close_to_others",
    "own_mind",
)


def swemwbs(*scores: int) -> dict[str, object]:
    return dict(zip(SWEMWBS_ITEMS, scores, strict=True))


def test_swemwbs_raw_totals_run_from_7_to_35() -> None:
    assert outcomes.score(Instrument.SWEMWBS, swemwbs(1, 1, 1, 1, 1, 1, 1)).total == 7
    assert outcomes.score(Instrument.SWEMWBS, swemwbs(5, 5, 5, 5, 5, 5, 5)).total == 35
    scored = outcomes.score(Instrument.SWEMWBS, swemwbs(3, 2, "4", 3, 3, 2, 4))
    assert (scored.total, scored.item_scores["relaxed"]) == (21, 4)
    assert outcomes.INSTRUMENTS[Instrument.SWEMWBS].total_range == (7, 35)


def test_ons4_items_stand_alone() -> None:
    scored = outcomes.score(Instrument.ONS4, ONS4_BEFORE)
    assert scored.item_scores == ONS4_BEFORE
    assert scored.total is None
    assert outcomes.INSTRUMENTS[Instrument.ONS4].total_range is None


def test_each_wrong_item_is_named() -> None:
    with pytest.raises(ReferralInputError) as refused:
        outcomes.score(
            Instrument.ONS4,
            {"life_satisfaction": 11, "worthwhile": 2.5, "happiness": True, "calm": 3},
        )
    assert refused.value.errors == {
        "life_satisfaction": "expected a whole number from 0 to 10, got 11",
        "worthwhile": "expected a whole number from 0 to 10, got 2.5",
        "happiness": "expected a whole number from 0 to 10, got True",
        "anxiety": "missing: expected a whole number from 0 to 10",
        "calm": "not an item of ons4: expected life_satisfaction, worthwhile, happiness, anxiety",
    }
    with pytest.raises(ReferralInputError) as swemwbs_refused:
        outcomes.score(Instrument.SWEMWBS, swemwbs(0, 6, 3, 3, 3, 3, ""))
    assert swemwbs_refused.value.errors == {
        "optimistic": "expected a whole number from 1 to 5, got 0",
        "useful": "expected a whole number from 1 to 5, got 6",
        "own_mind": "missing: expected a whole number from 1 to 5",
    }


def test_before_and_after_give_the_change(world: World) -> None:
    with world.database.session() as session:
        referral_id = refer(session, world).id
        context = context_of(world.provider)

        def record(instrument: str, timing: str, scores: dict[str, object]) -> None:
            service.record_outcome_measure(
                session, context, referral_id, instrument, timing, scores, actor=world.provider
            )

        record("swemwbs", "before", swemwbs(2, 2, 2, 2, 2, 2, 2))
        # A correction of the score before supersedes the first.
        record("swemwbs", "before", swemwbs(3, 2, 3, 3, 3, 3, 3))
        record("swemwbs", "after", swemwbs(4, 4, 3, 4, 4, 3, 4))
        record("ons4", "before", ONS4_BEFORE)
        record("ons4", "after", ONS4_AFTER)
        changes = service.outcome_changes(
            session, context_of(world.clinician), referral_id, actor=world.clinician
        )
        ons4, swemwbs_change = changes
        assert ons4.instrument == Instrument.ONS4
        assert ons4.total_change is None
        assert [
            (item.key, item.before, item.after, item.change, item.improved) for item in ons4.items
        ] == [
            ("life_satisfaction", 4, 6, 2, True),
            ("worthwhile", 5, 5, 0, None),
            ("happiness", 3, 6, 3, True),
            ("anxiety", 8, 4, -4, True),  # less anxious is better
        ]
        assert swemwbs_change.before is not None
        assert swemwbs_change.before.total == 20
        assert swemwbs_change.after is not None
        assert swemwbs_change.after.total == 26
        assert swemwbs_change.total_change == 6
        assert len(list_events(session, action="referral.outcome_measure.record")) == 5
        assert list_events(session, action="referral.outcome_measure.read")


def test_no_change_without_both_scores(world: World) -> None:
    with world.database.session() as session:
        referral_id = refer(session, world).id
        service.record_outcome_measure(
            session,
            context_of(world.provider),
            referral_id,
            Instrument.ONS4,
            Timing.BEFORE,
            ONS4_BEFORE,
            actor=world.provider,
        )
        [ons4] = service.outcome_changes(
            session, context_of(world.provider), referral_id, actor=world.provider
        )
        assert ons4.before is not None
        assert ons4.before.item_scores == ONS4_BEFORE
        assert (ons4.after, ons4.items, ons4.total_change) == (None, (), None)


def test_unknown_instruments_and_timings_are_named(world: World) -> None:
    with world.database.session() as session:
        referral_id = refer(session, world).id
        for instrument, timing, field, message in (
            ("wemwbs", "before", "instrument", "expected one of ons4, swemwbs, got 'wemwbs'"),
            ("ons4", "during", "timing", "expected one of before, after, got 'during'"),
        ):
            with pytest.raises(ReferralInputError) as refused:
                service.record_outcome_measure(
                    session,
                    context_of(world.provider),
                    referral_id,
                    instrument,
                    timing,
                    ONS4_BEFORE,
                    actor=world.provider,
                )
            assert refused.value.errors == {field: message}
