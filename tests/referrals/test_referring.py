"""Consent first, then the referral: who the consent names, for how long, services that are
not taking referrals, follow-up dates, and several referrals per person and per need."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from healthequity.audit.service import list_events
from healthequity.auth.schemas import Principal
from healthequity.referrals import service
from healthequity.referrals.exceptions import (
    ConsentNotValid,
    PersonNotFound,
    ReferralInputError,
    ServiceNotAcceptingReferrals,
    ServiceNotFound,
)
from healthequity.referrals.models import (
    ConsentStatus,
    ReferralEvent,
    ReferralEventKind,
    ReferralStatus,
)

from .conftest import (
    ADVICE_ORG,
    BENEFITS_SERVICE,
    CLOSED_SERVICE,
    DEBT_SERVICE,
    FULL_SERVICE,
    TODAY,
    WALKING_ORG,
    WALKING_SERVICE,
    World,
    context_of,
    record_consent,
    refer,
)


def test_a_consent_names_the_organisation_that_runs_the_service(world: World) -> None:
    with world.database.session() as session:
        consent = record_consent(session, world, expires_on=TODAY + timedelta(days=90))
        assert consent.recipient_organization_id == ADVICE_ORG
        assert consent.recipient_name == "Leeds Advice Network"
        assert consent.status == ConsentStatus.ACTIVE
        assert consent.expires_on == TODAY + timedelta(days=90)
        assert consent.recorded_by_user_id == world.clinician.user_id
        consent_id = consent.id
    with world.database.session() as session:
        [event] = list_events(session, action="referral.consent.record")
        assert event.subject_id == consent_id
        assert event.user_id == world.clinician.user_id
        assert ADVICE_ORG in (event.detail or "")


def test_a_consent_with_wrong_fields_names_each(world: World) -> None:
    with world.database.session() as session, pytest.raises(ReferralInputError) as refused:
        service.record_consent(
            session,
            context_of(world.clinician),
            person_id=world.person_id,
            service_id=DEBT_SERVICE,
            shared_information="  ",
            purpose="",
            expires_on=TODAY - timedelta(days=1),
            recorded_by=world.clinician,
            today=TODAY,
        )
    assert refused.value.errors == {
        "shared_information": "say what information the person agrees to share",
        "purpose": "say what the information is shared for",
        "expires_on": "expected today (2026-11-23) or a later date",
    }


def test_a_referral_is_sent_with_a_follow_up_date_and_its_first_event(world: World) -> None:
    with world.database.session() as session:
        referral = refer(session, world, needs=("debt", "income_benefits"))
        referral_id = referral.id
        assert referral.status == ReferralStatus.REQUESTED
        assert referral.version == 1
        assert referral.service_name == "Debt advice"
        assert referral.provider_organization_id == ADVICE_ORG
        assert referral.follow_up_on == TODAY + timedelta(days=14)
        assert referral.requester_user_id == world.clinician.user_id
        assert referral.requester_organisation_id == world.clinician.organisation_id
        assert sorted(need.need_code for need in referral.needs) == ["debt", "income_benefits"]
    with world.database.session() as session:
        [event] = session.scalars(
            select(ReferralEvent).where(ReferralEvent.referral_id == referral_id)
        ).all()
        assert (event.kind, event.from_status, event.to_status) == (
            ReferralEventKind.STATUS,
            None,
            ReferralStatus.REQUESTED,
        )
        [audit] = list_events(session, action="referral.create")
        assert audit.subject_type == "referral"
        assert audit.subject_id == referral_id
        assert world.person_id in (audit.detail or "")


def test_a_draft_waits_until_it_is_sent(world: World) -> None:
    with world.database.session() as session:
        referral = refer(session, world, draft=True)
        assert referral.status == ReferralStatus.DRAFT
        sent = service.change_status(
            session,
            context_of(world.clinician),
            referral.id,
            ReferralStatus.REQUESTED,
            referral.version,
            actor=world.clinician,
        )
        assert (sent.status, sent.version) == (ReferralStatus.REQUESTED, 2)


def test_follow_up_days_come_from_the_service_unless_given(world: World) -> None:
    with world.database.session() as session:
        assert service.follow_up_days_for(session, DEBT_SERVICE) == 14
        settings = service.set_follow_up_days(
            session, context_of(world.provider), DEBT_SERVICE, 7, actor=world.provider
        )
        assert settings is not None
        assert settings.follow_up_days == 7
        assert refer(session, world).follow_up_on == TODAY + timedelta(days=7)
        assert refer(session, world, follow_up_days=21).follow_up_on == TODAY + timedelta(days=21)
        # Other services keep the default.
        assert refer(
            session, world, service_id=BENEFITS_SERVICE, needs=("income_benefits",)
        ).follow_up_on == TODAY + timedelta(days=14)
        [audit] = list_events(session, action="referral.service_settings.update")
        assert audit.subject_id == DEBT_SERVICE


@pytest.mark.parametrize("days", [0, -3, 366])
def test_follow_up_days_out_of_range_are_refused(world: World, days: int) -> None:
    with world.database.session() as session:
        with pytest.raises(ReferralInputError) as refused:
            service.set_follow_up_days(
                session, context_of(world.clinician), DEBT_SERVICE, days, actor=world.clinician
            )
        assert refused.value.errors == {
            "follow_up_days": f"expected a whole number of days from 1 to 365, got {days}"
        }
        with pytest.raises(ReferralInputError, match="follow_up_days: expected"):
            refer(session, world, follow_up_days=days)


def test_a_service_not_accepting_referrals_is_refused_with_the_alternative(
    world: World,
) -> None:
    with world.database.session() as session:
        with pytest.raises(ServiceNotAcceptingReferrals) as refused:
            refer(session, world, service_id=FULL_SERVICE)
        assert str(refused.value) == (
            "Housing advice is not accepting referrals (Waiting list full): "
            "choose another service for this need"
        )
        assert refused.value.service_id == FULL_SERVICE
        with pytest.raises(ServiceNotAcceptingReferrals) as closed:
            refer(session, world, service_id=CLOSED_SERVICE)
        assert str(closed.value) == (
            "Energy advice is not accepting referrals (it is inactive): "
            "choose another service for this need"
        )
        with pytest.raises(ServiceNotFound, match="no service with id 'svc-nowhere'"):
            refer(session, world, service_id="svc-nowhere")


def refer_with(world: World, session, consent_id: str, **options: object):  # type: ignore[no-untyped-def]
    return service.refer_person(
        session,
        context_of(world.clinician),
        world.person_id,
        DEBT_SERVICE,
        [world.needs["debt"]],
        consent_id,
        world.clinician,
        None,
        **{"today": TODAY, **options},  # type: ignore[arg-type]
    )


def test_a_withdrawn_consent_is_refused(world: World) -> None:
    with world.database.session() as session:
        consent = record_consent(session, world)
        service.withdraw_consent(
            session, context_of(world.clinician), consent.id, actor=world.clinician
        )
        with pytest.raises(ConsentNotValid) as refused:
            refer_with(world, session, consent.id)
        assert str(refused.value) == (
            f"the person withdrew consent {consent.id}: record a new consent before referring"
        )
        assert list_events(session, action="referral.consent.withdraw")[0].subject_id == consent.id


def test_a_consent_holds_up_to_and_including_its_last_day(world: World) -> None:
    with world.database.session() as session:
        consent = record_consent(session, world, expires_on=TODAY, today=TODAY - timedelta(days=30))
        assert refer_with(world, session, consent.id).status == ReferralStatus.REQUESTED
        with pytest.raises(ConsentNotValid) as refused:
            refer_with(world, session, consent.id, today=TODAY + timedelta(days=1))
        assert str(refused.value) == (
            f"consent {consent.id} was valid until 2026-11-23: "
            "record a new consent before referring"
        )


def test_a_consent_must_be_the_persons_and_name_the_services_organisation(
    world: World,
) -> None:
    with world.database.session() as session:
        theirs = record_consent(session, world, person_id=world.other_person_id)
        with pytest.raises(ConsentNotValid, match=r"no consent .* from this person"):
            refer_with(world, session, theirs.id)
        walking = record_consent(session, world, service_id=WALKING_SERVICE)
        assert walking.recipient_organization_id == WALKING_ORG
        with pytest.raises(ConsentNotValid) as refused:
            refer_with(world, session, walking.id)
        assert str(refused.value) == (
            f"consent {walking.id} is to share with Leeds Walking Friends, not with the "
            "organisation that runs this service: record consent to share with them"
        )
        with pytest.raises(ConsentNotValid, match="record their consent first"):
            refer_with(world, session, "no-such-consent")


def test_the_needs_must_be_the_persons(world: World) -> None:
    with world.database.session() as session:
        consent = record_consent(session, world)
        with pytest.raises(ReferralInputError) as refused:
            service.refer_person(
                session,
                context_of(world.clinician),
                world.person_id,
                DEBT_SERVICE,
                [world.needs["debt"], world.other_needs["debt"], "not-a-need"],
                consent.id,
                world.clinician,
                None,
                today=TODAY,
            )
        assert refused.value.errors == {
            "identified_need_ids": "not needs of this person: "
            + ", ".join(sorted(["not-a-need", world.other_needs["debt"]]))
        }
        with pytest.raises(ReferralInputError) as empty:
            service.refer_person(
                session,
                context_of(world.clinician),
                world.person_id,
                DEBT_SERVICE,
                [],
                consent.id,
                world.clinician,
                None,
                today=TODAY,
            )
        assert empty.value.errors == {
            "identified_need_ids": "choose at least one of the person's needs to refer for"
        }


def test_unknown_people_and_api_tokens_cannot_refer(world: World) -> None:
    with world.database.session() as session:
        # The provider may not see the person's record, so cannot refer them either.
        with pytest.raises(PersonNotFound, match="among those you can see"):
            refer(session, world, requester=world.provider)
        with pytest.raises(
            PersonNotFound, match="no person with id 'nobody' among those you can see"
        ):
            record_consent(session, world, person_id="nobody")
        token = Principal(
            display_name="Provider system",
            organisation_id=world.provider.organisation_id,
            organisation_name="Leeds Advice Network (provider)",
            roles=world.provider.roles,
            api_token_id=1,
        )
        with pytest.raises(ReferralInputError) as refused:
            refer(session, world, requester=token)
        assert refused.value.errors == {
            "requester": "this must be done by a signed-in user, not an API token"
        }


def test_several_referrals_per_person_and_per_need(world: World) -> None:
    with world.database.session() as session:
        first = refer(session, world, service_id=DEBT_SERVICE, needs=("debt",))
        second = refer(
            session, world, service_id=BENEFITS_SERVICE, needs=("debt", "income_benefits")
        )
        third = refer(session, world, service_id=DEBT_SERVICE, needs=("debt",))
        assert len({first.id, second.id, third.id}) == 3
        debt_need = world.needs["debt"]
        for referral in (first, second, third):
            assert debt_need in {need.identified_need_id for need in referral.needs}
