"""The provider inbox: users of a provider organisation see the referrals sent to their
services (never drafts, never other providers'), work them, and the referrer sees each
change."""

from __future__ import annotations

import pytest

from healthequity.audit.service import list_events
from healthequity.referrals import service
from healthequity.referrals.exceptions import ReferralInputError
from healthequity.referrals.models import FailureReason, ReferralEventKind, ReferralStatus
from healthequity.referrals.schemas import ContactMethod

from .conftest import (
    ADVICE_ORG,
    BENEFITS_SERVICE,
    TODAY,
    WALKING_ORG,
    WALKING_SERVICE,
    World,
    context_of,
    refer,
)

S = ReferralStatus


def inbox(
    world: World, statuses: set[ReferralStatus] | None = None, organisation: int | None = None
) -> list[str]:
    with world.database.session() as session:
        page = service.provider_inbox(
            session,
            context_of(world.provider),
            organisation or world.provider.organisation_id,
            statuses,
        )
        return [item.id for item in page.items]


def test_the_inbox_holds_referrals_to_the_organisations_services_only(world: World) -> None:
    with world.database.session() as session:
        debt = refer(session, world).id
        benefits = refer(session, world, service_id=BENEFITS_SERVICE, needs=("income_benefits",)).id
        refer(session, world, draft=True)  # not sent: not theirs to see yet
        refer(session, world, service_id=WALKING_SERVICE, needs=("social_isolation",))
    assert inbox(world) == [debt, benefits]
    assert inbox(world, organisation=world.stranger.organisation_id) == []
    with world.database.session() as session:
        page = service.provider_inbox(
            session, context_of(world.provider), world.provider.organisation_id
        )
        assert {item.provider_organization_id for item in page.items} == {ADVICE_ORG}
        assert page.items[0].person_name == "Ada Lovelace"
        assert page.total == 2
        audit = list_events(session, action="referral.inbox.read")[-1]
        assert audit.subject_id == str(world.provider.organisation_id)
        assert audit.user_id == world.provider.user_id
        assert debt in (audit.detail or "")
        # Asking for drafts shows none.
        assert (
            service.provider_inbox(
                session, context_of(world.provider), world.provider.organisation_id, {S.DRAFT}
            ).items
            == []
        )


def test_the_provider_works_a_referral_and_the_referrer_sees_each_change(world: World) -> None:
    with world.database.session() as session:
        accepted_id = refer(session, world).id
        declined_id = refer(
            session, world, service_id=BENEFITS_SERVICE, needs=("income_benefits",)
        ).id
    provider, context = world.provider, context_of(world.provider)
    with world.database.session() as session:
        service.change_status(session, context, accepted_id, S.RECEIVED, 1, actor=provider)
        service.change_status(session, context, accepted_id, S.ACCEPTED, 2, actor=provider)
        service.change_status(
            session,
            context,
            declined_id,
            S.REJECTED,
            1,
            reason="Benefits checks are by self-referral only",
            actor=provider,
        )
    assert inbox(world) == [accepted_id]
    assert inbox(world, {S.REJECTED}) == [declined_id]
    with world.database.session() as session:
        service.record_contact_attempt(
            session,
            context,
            accepted_id,
            method=ContactMethod.PHONE,
            reached=True,
            note="Appointment booked for Monday",
            actor=provider,
        )
        service.change_status(session, context, accepted_id, S.IN_PROGRESS, 3, actor=provider)
        with pytest.raises(ReferralInputError, match="outcome: say what the outcome was"):
            service.change_status(session, context, accepted_id, S.COMPLETED, 4, actor=provider)
        service.change_status(
            session,
            context,
            accepted_id,
            S.COMPLETED,
            4,
            outcome="Debt management plan in place; bailiff action stopped",
            actor=provider,
        )
    with world.database.session() as session:
        seen = service.get_referral(
            session, context_of(world.clinician), accepted_id, actor=world.clinician
        )
        assert [
            (event.kind, event.to_status, event.detail)
            for event in sorted(seen.events, key=lambda event: event.id)
        ] == [
            (ReferralEventKind.STATUS, S.REQUESTED, None),
            (ReferralEventKind.STATUS, S.RECEIVED, None),
            (ReferralEventKind.STATUS, S.ACCEPTED, None),
            (
                ReferralEventKind.CONTACT_ATTEMPT,
                None,
                "Phone: reached. Appointment booked for Monday",
            ),
            (ReferralEventKind.STATUS, S.IN_PROGRESS, None),
            (
                ReferralEventKind.STATUS,
                S.COMPLETED,
                "Debt management plan in place; bailiff action stopped",
            ),
        ]
        declined = service.get_referral(
            session, context_of(world.clinician), declined_id, actor=world.clinician
        )
        assert declined.status_reason == "Benefits checks are by self-referral only"


def test_a_provider_records_why_a_referral_failed(world: World) -> None:
    with world.database.session() as session:
        referral = refer(session, world)
        provider, context = world.provider, context_of(world.provider)
        service.change_status(session, context, referral.id, S.ACCEPTED, 1, actor=provider)
        failed = service.change_status(
            session,
            context,
            referral.id,
            S.FAILED,
            2,
            failure_reason=FailureReason.SERVICE_FULL,
            actor=provider,
            today=TODAY,
        )
        assert (failed.failure_reason, failed.status_reason) == (
            FailureReason.SERVICE_FULL,
            "The service is full",
        )
    assert inbox(world) == []
    assert inbox(world, {S.FAILED}) == [referral.id]


def test_linking_a_provider_needs_a_directory_organisation(world: World) -> None:
    with world.database.session() as session:
        context = context_of(world.provider)
        with pytest.raises(ReferralInputError) as refused:
            service.link_provider(session, context, world.stranger.organisation_id, "dir-org-none")
        assert refused.value.errors == {
            "directory_organization_id": "no organisation 'dir-org-none' in the directory"
        }
        # Linking again changes nothing and records nothing new.
        again = service.link_provider(session, context, world.provider.organisation_id, ADVICE_ORG)
        assert again.directory_organization_id == ADVICE_ORG
        assert len(list_events(session, action="referral.provider_link.create")) == 1


def test_the_count_waiting_is_of_requested_referrals_to_linked_organisations(
    world: World,
) -> None:
    provider, context = world.provider, context_of(world.provider)
    with world.database.session() as session:
        waiting = [
            refer(session, world).id,
            refer(session, world, requester=world.link_worker).id,
        ]
        received = refer(session, world, service_id=BENEFITS_SERVICE, needs=("income_benefits",))
        service.change_status(session, context, received.id, S.RECEIVED, 1, actor=provider)
        accepted = refer(session, world)
        service.change_status(session, context, accepted.id, S.ACCEPTED, 1, actor=provider)
        refer(session, world, draft=True)  # not sent
        walking = refer(session, world, service_id=WALKING_SERVICE, needs=("social_isolation",))
    with world.database.session() as session:
        assert service.count_waiting_in_inbox(session, provider.organisation_id) == 2
        assert inbox(world, {S.REQUESTED}) == waiting
        assert service.count_waiting_in_inbox(session, world.stranger.organisation_id) == 0
        # Linked to the walking group's organisation too, its requested referral counts.
        service.link_provider(session, context, provider.organisation_id, WALKING_ORG)
        assert service.count_waiting_in_inbox(session, provider.organisation_id) == 3
        # Opened, a referral no longer waits.
        service.change_status(session, context, walking.id, S.RECEIVED, 1, actor=provider)
        assert service.count_waiting_in_inbox(session, provider.organisation_id) == 2
