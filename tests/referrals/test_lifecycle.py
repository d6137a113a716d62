"""The referral lifecycle as a pure state machine: the declared moves, what each needs, the
messages of refused moves, and a state-machine test that no sequence of asks escapes it."""

from __future__ import annotations

import re

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from healthequity.referrals import lifecycle
from healthequity.referrals.exceptions import IllegalTransition, ReferralInputError
from healthequity.referrals.models import FailureReason, ReferralStatus

S = ReferralStatus


def details_for(status: ReferralStatus) -> dict[str, object]:
    """What each move needs: a reason to reject or cancel, an outcome, a failure reason."""
    if status in (S.REJECTED, S.CANCELLED):
        return {"reason": "The person moved out of the area"}
    if status == S.COMPLETED:
        return {"outcome": "Debt relief order arranged"}
    if status == S.FAILED:
        return {"failure_reason": FailureReason.NOT_REACHED}
    return {}


def test_the_declared_moves() -> None:
    assert {
        S.DRAFT: {S.REQUESTED, S.CANCELLED},
        S.REQUESTED: {S.RECEIVED, S.ACCEPTED, S.REJECTED, S.CANCELLED},
        S.RECEIVED: {S.ACCEPTED, S.REJECTED, S.CANCELLED},
        S.ACCEPTED: {S.IN_PROGRESS, S.FAILED, S.CANCELLED},
        S.IN_PROGRESS: {S.COMPLETED, S.FAILED, S.CANCELLED},
        S.REJECTED: set(),
        S.COMPLETED: set(),
        S.CANCELLED: set(),
        S.FAILED: set(),
    } == lifecycle.TRANSITIONS
    assert {S.REJECTED, S.COMPLETED, S.CANCELLED, S.FAILED} == lifecycle.TERMINAL_STATUSES
    assert {S.DRAFT, S.REQUESTED, S.RECEIVED, S.ACCEPTED, S.IN_PROGRESS} == lifecycle.OPEN_STATUSES
    assert lifecycle.next_statuses(S.REQUESTED) == (S.RECEIVED, S.ACCEPTED, S.REJECTED, S.CANCELLED)


def test_every_status_is_reachable_from_draft_and_every_open_one_can_end() -> None:
    reached = {S.DRAFT}
    frontier = [S.DRAFT]
    while frontier:
        for following in lifecycle.TRANSITIONS[frontier.pop()]:
            if following not in reached:
                reached.add(following)
                frontier.append(following)
    assert reached == set(ReferralStatus)
    for status in lifecycle.OPEN_STATUSES:
        assert S.CANCELLED in lifecycle.TRANSITIONS[status]


@pytest.mark.parametrize(
    ("current", "asked"),
    [
        (current, asked)
        for current in lifecycle.TRANSITIONS
        for asked in lifecycle.next_statuses(current)
    ],
)
def test_every_declared_move_passes_with_what_it_needs(
    current: ReferralStatus, asked: ReferralStatus
) -> None:
    lifecycle.check_transition(current, asked, **details_for(asked))  # type: ignore[arg-type]


def test_a_final_status_stays_final() -> None:
    with pytest.raises(IllegalTransition) as refused:
        lifecycle.check_transition(S.COMPLETED, S.IN_PROGRESS)
    assert str(refused.value) == (
        "cannot go from completed to in-progress: completed is final; "
        "make a new referral if the person still needs help"
    )
    assert (refused.value.current, refused.value.asked) == ("completed", "in-progress")


def test_a_refused_move_lists_the_moves_there_are() -> None:
    with pytest.raises(IllegalTransition) as refused:
        lifecycle.check_transition(S.ACCEPTED, S.COMPLETED, outcome="Done")
    assert str(refused.value) == (
        "cannot go from accepted to completed: "
        "from accepted a referral can go to in-progress, cancelled or failed"
    )
    with pytest.raises(IllegalTransition, match="from draft a referral can go to requested or"):
        lifecycle.check_transition(S.DRAFT, S.ACCEPTED)
    with pytest.raises(IllegalTransition, match="the referral is received already"):
        lifecycle.check_transition(S.RECEIVED, S.RECEIVED)


@pytest.mark.parametrize(
    ("current", "asked", "given", "field", "message"),
    [
        (S.RECEIVED, S.REJECTED, {}, "reason", "give the reason for rejecting the referral"),
        (S.REQUESTED, S.REJECTED, {"reason": "  "}, "reason", "give the reason for rejecting"),
        (S.ACCEPTED, S.CANCELLED, {}, "reason", "give the reason for cancelling the referral"),
        (S.IN_PROGRESS, S.COMPLETED, {}, "outcome", "say what the outcome was"),
        (S.IN_PROGRESS, S.FAILED, {}, "failure_reason", "not_reached, declined, service_full"),
        (S.RECEIVED, S.ACCEPTED, {"outcome": "x"}, "outcome", "only a completed referral"),
        (
            S.IN_PROGRESS,
            S.COMPLETED,
            {"outcome": "Done", "failure_reason": FailureReason.DECLINED},
            "failure_reason",
            "only a failed referral has a failure reason",
        ),
    ],
)
def test_a_move_without_what_it_needs_names_the_field(
    current: ReferralStatus,
    asked: ReferralStatus,
    given: dict[str, object],
    field: str,
    message: str,
) -> None:
    with pytest.raises(ReferralInputError) as refused:
        lifecycle.check_transition(current, asked, **given)  # type: ignore[arg-type]
    assert list(refused.value.errors) == [field]
    assert message in refused.value.errors[field]


class ReferralLifecycle(RuleBasedStateMachine):
    """Any sequence of asks, with or without the details a move needs: the status only ever
    moves along a declared edge, and a final status never moves again."""

    def __init__(self) -> None:
        super().__init__()
        self.status = S.DRAFT
        self.ended = False

    @rule(
        asked=st.sampled_from(ReferralStatus),
        give_details=st.booleans(),
        reason=st.sampled_from([None, "", "Moved away"]),
    )
    def ask(self, asked: ReferralStatus, give_details: bool, reason: str | None) -> None:
        before = self.status
        details: dict[str, object] = details_for(asked) if give_details else {"reason": reason}
        if asked not in lifecycle.TRANSITIONS[before]:
            refused = f"^cannot go from {re.escape(before)} to {re.escape(asked)}: "
            with pytest.raises(IllegalTransition, match=refused):
                lifecycle.check_transition(before, asked, **details)  # type: ignore[arg-type]
            return
        lacking = not give_details and (
            asked in (S.COMPLETED, S.FAILED)
            or (asked in (S.REJECTED, S.CANCELLED) and not (reason or "").strip())
        )
        if lacking:
            with pytest.raises(ReferralInputError):
                lifecycle.check_transition(before, asked, **details)  # type: ignore[arg-type]
            return
        lifecycle.check_transition(before, asked, **details)  # type: ignore[arg-type]
        assert not self.ended, f"{before} is final but moved to {asked}"
        self.status = asked
        self.ended = lifecycle.is_terminal(asked)

    @invariant()
    def only_declared_states(self) -> None:
        assert self.status in lifecycle.TRANSITIONS
        assert self.ended == (self.status in lifecycle.TERMINAL_STATUSES)


TestReferralLifecycle = ReferralLifecycle.TestCase
