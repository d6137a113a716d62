"""The referral lifecycle: which status changes are allowed, and what each one needs.

The statuses are FHIR Task statuses, and the moves follow the "typical" Task state machine
of FHIR R4 (http://hl7.org/fhir/R4/task.html#statemachine) with the codes' definitions
(http://hl7.org/fhir/R4/codesystem-task-status.html), narrowed to the statuses a referral
uses (no ready, on-hold or entered-in-error):

    draft        -> requested | cancelled
    requested    -> received | accepted | rejected | cancelled
    received     -> accepted | rejected | cancelled
    accepted     -> in-progress | failed | cancelled
    in-progress  -> completed | failed | cancelled
    rejected, completed, cancelled, failed: terminal

Why these and not others:
- `received` is optional: a provider may accept or reject a referral as soon as they see it
  (FHIR: "a potential performer has claimed ownership... and is evaluating").
- `rejected` is the provider turning the referral down "prior to performing any action", so
  only from requested or received; once accepted, not going ahead is `failed` (the person
  could not be reached, declined, or turned out ineligible) or `cancelled`.
- `completed` needs the work to have started: accepted -> in-progress -> completed, as in the
  FHIR diagram ("once the owner initiates activity... In Progress... upon normal
  completion... Completed").
- Any open status may be `cancelled` (FHIR: "a task in any non-terminal state may also be
  Cancelled"), by either side.
- Terminal statuses stay terminal: FHIR allows workflows to reopen a task, but a referral that
  has ended is closed; trying again is a new referral, so the history of each stays true.

What a move needs: rejecting and cancelling need a reason (the Gravity SDOH Clinical Care
guide asks for Task.statusReason.text on rejected, cancelled and failed tasks), completing
needs the outcome, and failing needs one of the failure reasons (with optional detail).
"""

from __future__ import annotations

from collections.abc import Mapping

from healthequity.referrals.exceptions import IllegalTransition, ReferralInputError
from healthequity.referrals.models import FailureReason, ReferralStatus

S = ReferralStatus

TRANSITIONS: Mapping[ReferralStatus, frozenset[ReferralStatus]] = {
    S.DRAFT: frozenset({S.REQUESTED, S.CANCELLED}),
    S.REQUESTED: frozenset({S.RECEIVED, S.ACCEPTED, S.REJECTED, S.CANCELLED}),
    S.RECEIVED: frozenset({S.ACCEPTED, S.REJECTED, S.CANCELLED}),
    S.ACCEPTED: frozenset({S.IN_PROGRESS, S.FAILED, S.CANCELLED}),
    S.IN_PROGRESS: frozenset({S.COMPLETED, S.FAILED, S.CANCELLED}),
    S.REJECTED: frozenset(),
    S.COMPLETED: frozenset(),
    S.CANCELLED: frozenset(),
    S.FAILED: frozenset(),
}

TERMINAL_STATUSES = frozenset(status for status, moves in TRANSITIONS.items() if not moves)
OPEN_STATUSES = frozenset(ReferralStatus) - TERMINAL_STATUSES
# Sent to the provider and not yet ended: what a provider's inbox shows by default.
SENT_OPEN_STATUSES = OPEN_STATUSES - {S.DRAFT}

# The order statuses are listed in, for messages and choices.
_ORDER = tuple(ReferralStatus)

FAILURE_REASON_LABELS: Mapping[FailureReason, str] = {
    FailureReason.NOT_REACHED: "Could not reach the person",
    FailureReason.DECLINED: "The person declined the service",
    FailureReason.SERVICE_FULL: "The service is full",
    FailureReason.INELIGIBLE: "The person is not eligible for the service",
}

_REASON_NEEDED = {S.REJECTED: "rejecting", S.CANCELLED: "cancelling"}


def next_statuses(current: ReferralStatus) -> tuple[ReferralStatus, ...]:
    """The statuses a referral may move to from `current`, in lifecycle order."""
    return tuple(status for status in _ORDER if status in TRANSITIONS[current])


def is_terminal(status: ReferralStatus) -> bool:
    return status in TERMINAL_STATUSES


def _listed(statuses: tuple[ReferralStatus, ...]) -> str:
    values = [status.value for status in statuses]
    return values[0] if len(values) == 1 else ", ".join(values[:-1]) + " or " + values[-1]


def check_transition(
    current: ReferralStatus,
    to_status: ReferralStatus,
    *,
    reason: str | None = None,
    outcome: str | None = None,
    failure_reason: FailureReason | None = None,
) -> None:
    """Refuse a move the lifecycle does not allow (IllegalTransition, naming both statuses)
    or one that lacks what it needs (ReferralInputError, naming the field)."""
    if to_status not in TRANSITIONS[current]:
        if current == to_status:
            explanation = f"the referral is {current.value} already"
        elif is_terminal(current):
            explanation = (
                f"{current.value} is final; make a new referral if the person still needs help"
            )
        else:
            explanation = (
                f"from {current.value} a referral can go to {_listed(next_statuses(current))}"
            )
        raise IllegalTransition(current.value, to_status.value, explanation)
    errors: dict[str, str] = {}
    if to_status in _REASON_NEEDED and not (reason and reason.strip()):
        errors["reason"] = f"give the reason for {_REASON_NEEDED[to_status]} the referral"
    if to_status == S.COMPLETED and not (outcome and outcome.strip()):
        errors["outcome"] = "say what the outcome was: what the person got from the service"
    elif to_status != S.COMPLETED and outcome is not None:
        errors["outcome"] = "only a completed referral has an outcome"
    if to_status == S.FAILED and failure_reason is None:
        errors["failure_reason"] = "choose why the referral failed: " + ", ".join(
            code.value for code in FailureReason
        )
    elif to_status != S.FAILED and failure_reason is not None:
        errors["failure_reason"] = "only a failed referral has a failure reason"
    if errors:
        raise ReferralInputError(errors)


__all__ = [
    "FAILURE_REASON_LABELS",
    "OPEN_STATUSES",
    "SENT_OPEN_STATUSES",
    "TERMINAL_STATUSES",
    "TRANSITIONS",
    "IllegalTransition",
    "check_transition",
    "is_terminal",
    "next_statuses",
]
