"""Status changes through the service: the whole path with its events and audit, reasons and
outcomes, refused moves, who may act, and optimistic locking (both of its guards)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from healthequity.audit.service import list_events
from healthequity.referrals import service
from healthequity.referrals.exceptions import (
    IllegalTransition,
    ReferralInputError,
    ReferralNotFound,
    StaleReferral,
)
from healthequity.referrals.models import (
    FailureReason,
    Referral,
    ReferralEvent,
    ReferralEventKind,
    ReferralStatus,
)
from healthequity.store.exceptions import StaleRecord

from .conftest import TODAY, WALKING_SERVICE, World, context_of, refer

S = ReferralStatus


def move(world: World, referral_id: str, to: ReferralStatus, version: int, **details: object):  # type: ignore[no-untyped-def]
    actor = details.pop("actor", world.provider)
    with world.database.session() as session:
        return service.change_status(
            session,
            context_of(actor),  # type: ignore[arg-type]
            referral_id,
            to,
            version,
            actor=actor,  # type: ignore[arg-type]
            today=TODAY,
            **details,  # type: ignore[arg-type]
        )


def new_referral(world: World, **options: object) -> str:
    with world.database.session() as session:
        return refer(session, world, **options).id


def test_the_whole_path_to_completed_with_its_history(world: World) -> None:
    referral_id = new_referral(world)
    move(world, referral_id, S.RECEIVED, 1)
    move(world, referral_id, S.ACCEPTED, 2, reason="Appointment on Tuesday")
    move(world, referral_id, S.IN_PROGRESS, 3)
    done = move(world, referral_id, S.COMPLETED, 4, outcome="Debt relief order arranged")
    assert (done.status, done.version, done.outcome) == (
        S.COMPLETED,
        5,
        "Debt relief order arranged",
    )
    with world.database.session() as session:
        referral = service.get_referral(
            session, context_of(world.clinician), referral_id, actor=world.clinician
        )
        history = [
            (event.kind, event.from_status, event.to_status, event.detail, event.user_id)
            for event in sorted(referral.events, key=lambda event: event.id)
        ]
        provider = world.provider.user_id
        assert history == [
            (ReferralEventKind.STATUS, None, S.REQUESTED, None, world.clinician.user_id),
            (ReferralEventKind.STATUS, S.REQUESTED, S.RECEIVED, None, provider),
            (ReferralEventKind.STATUS, S.RECEIVED, S.ACCEPTED, "Appointment on Tuesday", provider),
            (ReferralEventKind.STATUS, S.ACCEPTED, S.IN_PROGRESS, None, provider),
            (
                ReferralEventKind.STATUS,
                S.IN_PROGRESS,
                S.COMPLETED,
                "Debt relief order arranged",
                provider,
            ),
        ]
        audits = list_events(session, action="referral.status", subject_id=referral_id)
        assert [audit.user_id for audit in audits] == [provider] * 4
        assert '"status": ["in-progress", "completed"]' in (audits[-1].detail or "")
        assert '"version": 5' in (audits[-1].detail or "")
        assert list_events(session, action="referral.read", subject_id=referral_id)


def test_rejecting_keeps_the_reason(world: World) -> None:
    referral_id = new_referral(world)
    rejected = move(world, referral_id, S.REJECTED, 1, reason="We only help people in LS postcodes")
    assert rejected.status_reason == "We only help people in LS postcodes"
    with pytest.raises(IllegalTransition, match="cannot go from rejected to accepted: rejected"):
        move(world, referral_id, S.ACCEPTED, 2)


def test_failing_keeps_the_failure_reason_and_its_detail(world: World) -> None:
    referral_id = new_referral(world)
    move(world, referral_id, S.ACCEPTED, 1)
    failed = move(
        world,
        referral_id,
        S.FAILED,
        2,
        failure_reason=FailureReason.NOT_REACHED,
        reason="Three calls and a letter, no answer",
    )
    assert failed.failure_reason == FailureReason.NOT_REACHED
    assert failed.status_reason == "Could not reach the person: Three calls and a letter, no answer"
    with world.database.session() as session:
        detail = session.scalar(
            select(ReferralEvent.detail)
            .where(ReferralEvent.referral_id == referral_id)
            .order_by(ReferralEvent.id.desc())
            .limit(1)
        )
    assert detail == "Could not reach the person: Three calls and a letter, no answer"


def test_a_refused_move_changes_nothing(world: World) -> None:
    referral_id = new_referral(world)
    with pytest.raises(IllegalTransition) as refused:
        move(world, referral_id, S.COMPLETED, 1, outcome="Sorted")
    assert str(refused.value) == (
        "cannot go from requested to completed: "
        "from requested a referral can go to received, accepted, rejected or cancelled"
    )
    with pytest.raises(ReferralInputError) as incomplete:
        move(world, referral_id, S.CANCELLED, 1, actor=world.clinician)
    assert incomplete.value.errors == {"reason": "give the reason for cancelling the referral"}
    with world.database.session() as session:
        referral = session.get(Referral, referral_id)
        assert referral is not None
        assert (referral.status, referral.version) == (S.REQUESTED, 1)
        events = session.scalar(
            select(func.count())
            .select_from(ReferralEvent)
            .where(ReferralEvent.referral_id == referral_id)
        )
        assert events == 1


def test_a_stale_version_is_refused_naming_both_versions(world: World) -> None:
    referral_id = new_referral(world)
    move(world, referral_id, S.RECEIVED, 1)
    with pytest.raises(StaleReferral) as stale:
        move(world, referral_id, S.ACCEPTED, 1)
    assert str(stale.value) == (
        f"referral {referral_id} was changed by someone else: you saw version 1, it is now at "
        "version 2; read it again and make your change again if it still applies"
    )
    assert isinstance(stale.value, StaleRecord)
    assert (stale.value.expected_version, stale.value.current_version) == (1, 2)
    with world.database.session() as session:
        referral = session.get(Referral, referral_id)
        assert referral is not None
        assert (referral.status, referral.version) == (S.RECEIVED, 2)


def test_the_versioned_update_catches_a_change_made_after_the_read(world: World) -> None:
    """The explicit comparison passes (this session read version 1), but another writer
    committed version 2 in between: the UPDATE ... WHERE version = 1 matches nothing."""
    referral_id = new_referral(world)
    with pytest.raises(StaleReferral) as stale, world.database.session() as slow:
        seen = slow.get(Referral, referral_id)
        assert seen is not None
        assert seen.version == 1
        move(world, referral_id, S.RECEIVED, 1)  # another writer, committed
        service.change_status(
            slow,
            context_of(world.provider),
            referral_id,
            S.ACCEPTED,
            1,
            actor=world.provider,
        )
    assert (stale.value.expected_version, stale.value.current_version) == (1, 2)
    with world.database.session() as session:
        referral = session.get(Referral, referral_id)
        assert referral is not None
        assert (referral.status, referral.version) == (S.RECEIVED, 2)


def test_only_the_two_sides_may_act(world: World) -> None:
    draft_id = new_referral(world, draft=True)
    with pytest.raises(ReferralNotFound, match="among those you can see"):
        move(world, draft_id, S.CANCELLED, 1, reason="x")  # the provider cannot see a draft
    referral_id = new_referral(world)
    with pytest.raises(ReferralNotFound):
        move(world, referral_id, S.ACCEPTED, 1, actor=world.stranger)
    with world.database.session() as session, pytest.raises(ReferralNotFound):
        service.get_referral(session, context_of(world.stranger), referral_id, actor=world.stranger)
    # The link worker is in the referrer's organisation, the provider is linked.
    move(world, referral_id, S.RECEIVED, 1)
    cancelled = move(
        world, referral_id, S.CANCELLED, 2, reason="Moved away", actor=world.link_worker
    )
    assert cancelled.status == S.CANCELLED


def test_accepting_a_social_prescription_sets_the_still_attending_check(world: World) -> None:
    referral_id = new_referral(
        world, service_id=WALKING_SERVICE, needs=("social_isolation",), is_social_prescription=True
    )
    with world.database.session() as session:
        service.link_provider(
            session, context_of(world.provider), world.provider.organisation_id, "dir-org-walking"
        )
    accepted = move(world, referral_id, S.ACCEPTED, 1)
    assert accepted.attendance_check_on == TODAY + timedelta(weeks=4)
    cancelled = move(world, referral_id, S.CANCELLED, 2, reason="Moved away")
    assert cancelled.attendance_check_on is None
