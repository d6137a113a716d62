"""The person withdraws their consent, on each database: the consent shows withdrawn and
allows no new referral; each open referral made on it is cancelled through the lifecycle
with the reason "Consent withdrawn", which the provider sees; each that had ended gets a note;
only the referrer, whoever recorded it and the clinical users of the care team may record it;
and the referral page's button, its warning, its errors (what was typed kept) and its
refusals."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient

from healthequity.audit.service import list_events
from healthequity.auth.models import Role
from healthequity.auth.schemas import Principal
from healthequity.referrals import service
from healthequity.referrals.exceptions import ConsentNotValid, ReferralInputError
from healthequity.referrals.models import (
    Consent,
    ConsentStatus,
    Referral,
    ReferralEventKind,
    ReferralStatus,
)

from .conftest import (
    BENEFITS_SERVICE,
    DEBT_SERVICE,
    TODAY,
    World,
    context_of,
    record_consent,
)
from .test_manage_pages import post, signed_in, summary, text_of

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from conftest import TestUser

MakeUser = Callable[..., "TestUser"]
S = ReferralStatus


def refer_on(session: Session, world: World, consent: Consent, service_id: str, need: str) -> str:
    return service.refer_person(
        session,
        context_of(world.clinician),
        world.person_id,
        service_id,
        [world.needs[need]],
        consent.id,
        world.clinician,
        "Prefers a morning call.",
        today=TODAY,
    ).id


@pytest.fixture
def made_on_one_consent(world: World) -> tuple[str, str, str, str]:
    """A consent to share with the advice network and three referrals made on it: one
    requested, one accepted, one completed."""
    provider, context = world.provider, context_of(world.provider)
    with world.database.session() as session:
        consent = record_consent(session, world)
        requested = refer_on(session, world, consent, DEBT_SERVICE, "debt")
        accepted = refer_on(session, world, consent, BENEFITS_SERVICE, "income_benefits")
        service.change_status(session, context, accepted, S.ACCEPTED, 1, actor=provider)
        completed = refer_on(session, world, consent, DEBT_SERVICE, "debt")
        for to, version in ((S.ACCEPTED, 1), (S.IN_PROGRESS, 2)):
            service.change_status(session, context, completed, to, version, actor=provider)
        service.change_status(
            session, context, completed, S.COMPLETED, 3, outcome="Debts managed", actor=provider
        )
        return consent.id, requested, accepted, completed


def state(world: World, referral_id: str) -> tuple[ReferralStatus, str | None]:
    with world.database.session() as session:
        referral = session.get(Referral, referral_id)
        assert referral is not None
        return referral.status, referral.status_reason


def consent_status(world: World, consent_id: str) -> ConsentStatus:
    with world.database.session() as session:
        consent = session.get(Consent, consent_id)
        assert consent is not None
        return consent.status


# The service


def test_withdrawing_cancels_the_open_referrals_and_notes_the_ended_ones(
    world: World, made_on_one_consent: tuple[str, str, str, str]
) -> None:
    consent_id, requested, accepted, completed = made_on_one_consent
    with world.database.session() as session:
        other = record_consent(session, world, service_id=BENEFITS_SERVICE)
        untouched = refer_on(session, world, other, BENEFITS_SERVICE, "income_benefits")
        service.withdraw_consent(
            session,
            context_of(world.link_worker),
            consent_id,
            actor=world.link_worker,
            note="She phoned to say so",
        )
    assert consent_status(world, consent_id) == ConsentStatus.WITHDRAWN
    reason = "Consent withdrawn. She phoned to say so"
    assert state(world, requested) == (S.CANCELLED, reason)
    assert state(world, accepted) == (S.CANCELLED, reason)
    assert state(world, completed) == (S.COMPLETED, None)
    assert state(world, untouched) == (S.REQUESTED, None)
    assert consent_status(world, other.id) == ConsentStatus.ACTIVE
    with world.database.session() as session:
        cancel = session.get(Referral, accepted)
        assert cancel is not None
        last = cancel.events[-1]
        assert (last.kind, last.from_status, last.to_status, last.detail, last.user_id) == (
            ReferralEventKind.STATUS,
            S.ACCEPTED,
            S.CANCELLED,
            reason,
            world.link_worker.user_id,
        )
        ended = session.get(Referral, completed)
        assert ended is not None
        assert (ended.events[-1].kind, ended.events[-1].detail) == (
            ReferralEventKind.NOTE,
            "Consent withdrawn: the person no longer agrees to share their information with "
            "Leeds Advice Network. The referral had ended already (completed). "
            "She phoned to say so",
        )
        [audit] = list_events(session, action="referral.consent.withdraw")
        assert audit.subject_id == consent_id
        assert json.loads(audit.detail or "") == {
            "person_id": world.person_id,
            "cancelled_referral_ids": [requested, accepted],
        }
        statuses = [
            json.loads(e.detail or "") for e in list_events(session, action="referral.status")
        ]
        assert [d["status"] for d in statuses[-2:]] == [
            ["requested", "cancelled"],
            ["accepted", "cancelled"],
        ]
        # The provider sees the cancellations, and why, in their inbox.
        inbox = service.provider_inbox(
            session, context_of(world.provider), world.provider.organisation_id, {S.CANCELLED}
        )
        assert [(item.id, item.status_reason) for item in inbox.items] == [
            (requested, reason),
            (accepted, reason),
        ]
        # No new referral may use it, and it is not withdrawn twice.
        withdrawn = session.get(Consent, consent_id)
        assert withdrawn is not None
        with pytest.raises(ConsentNotValid, match="the person withdrew consent"):
            refer_on(session, world, withdrawn, DEBT_SERVICE, "debt")
        with pytest.raises(ConsentNotValid) as again:
            service.withdraw_consent(
                session, context_of(world.clinician), consent_id, actor=world.clinician
            )
        assert str(again.value) == f"consent {consent_id} is withdrawn already: nothing changes"


def test_only_the_referrer_recorder_and_clinical_care_team_may_withdraw(
    world: World, make_user: MakeUser
) -> None:
    admin_user = make_user(Role.ADMIN, organisation="Integrated Care Board")
    admin = Principal(
        display_name=admin_user.email,
        organisation_id=admin_user.organisation_id,
        organisation_name="Integrated Care Board",
        roles=admin_user.roles,
        user_id=admin_user.user_id,
    )
    with world.database.session() as session:
        consent = record_consent(session, world)
        refer_on(session, world, consent, DEBT_SERVICE, "debt")
        for outsider in (admin, world.provider, world.stranger):
            assert not service.may_withdraw_consent(session, outsider, consent)
            with pytest.raises(ConsentNotValid) as refused:
                service.withdraw_consent(session, context_of(outsider), consent.id, actor=outsider)
            assert str(refused.value) == f"no consent {consent.id!r} among those you can withdraw"
        with pytest.raises(ConsentNotValid, match="no consent 'nope'"):
            service.withdraw_consent(
                session, context_of(world.clinician), "nope", actor=world.clinician
            )
        assert service.may_withdraw_consent(session, world.clinician, consent)  # recorded it
        assert service.may_withdraw_consent(session, world.link_worker, consent)  # care team
        assert consent.status == ConsentStatus.ACTIVE


def test_a_note_too_long_for_the_reason_is_refused(world: World) -> None:
    with world.database.session() as session:
        consent = record_consent(session, world)
        with pytest.raises(ReferralInputError) as refused:
            service.withdraw_consent(
                session,
                context_of(world.clinician),
                consent.id,
                actor=world.clinician,
                note="x" * 3982,
            )
        assert refused.value.errors == {"note": "at most 3981 characters, 3982 given"}
        service.withdraw_consent(
            session, context_of(world.clinician), consent.id, actor=world.clinician, note="x" * 3981
        )


# The referral page


def test_the_referrer_records_the_withdrawal_on_the_referral_page(
    client: TestClient, world: World, made_on_one_consent: tuple[str, str, str, str]
) -> None:
    consent_id, requested, accepted, completed = made_on_one_consent
    signed_in(client, world.clinician)
    page = client.get(f"/referrals/{requested}")
    assert 'id="withdraw-consent"' in page.text
    words = text_of(page)
    assert "Ada has withdrawn their consent" in words
    assert (
        "These open referrals, made with this consent, are cancelled with the reason "
        "\u201cConsent withdrawn\u201d, which Leeds Advice Network sees: "
        "Debt advice (requested): this referral Benefits check (accepted)"
    ) in words

    # A note too long: refused, kept, the form open, nothing changed.
    response = post(
        client, f"/referrals/{requested}/consent/withdraw", {"withdraw-note": "y" * 3990}
    )
    assert response.status_code == 422
    assert summary(response) == [("withdraw-note", "At most 3981 characters, 3990 given")]
    assert '<details class="nhsuk-details" id="withdraw-consent" open>' in response.text
    assert f">{'y' * 3990}</textarea>" in response.text
    assert state(world, requested) == (S.REQUESTED, None)
    assert consent_status(world, consent_id) == ConsentStatus.ACTIVE

    response = post(
        client, f"/referrals/{requested}/consent/withdraw", {"withdraw-note": "By phone"}
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/referrals/{requested}?done=consent#status"
    page = client.get(response.headers["location"])
    words = text_of(page)
    assert "Recorded: the person withdrew their consent." in words
    assert "Status Cancelled Consent withdrawn. By phone" in words
    assert "(withdrawn)" in words
    assert 'id="withdraw-consent"' not in page.text
    assert "Status: Requested \u2192 Cancelled Consent withdrawn. By phone" in words
    assert state(world, accepted) == (S.CANCELLED, "Consent withdrawn. By phone")
    assert state(world, completed)[0] == S.COMPLETED

    # Sent again (a second tab, say): it says so.
    response = post(client, f"/referrals/{accepted}/consent/withdraw", {"withdraw-note": ""})
    assert response.status_code == 422
    assert summary(response) == [
        ("consent", f"Consent {consent_id} is withdrawn already: nothing changes")
    ]

    # The provider sees why, on the referral and in the inbox.
    provider = signed_in(TestClient(client.app), world.provider)
    assert "Status Cancelled Consent withdrawn. By phone" in text_of(
        provider.get(f"/referrals/{accepted}")
    )
    inbox = provider.get("/referrals/inbox?status=cancelled")
    assert requested in inbox.text
    assert accepted in inbox.text


def test_the_button_is_only_for_those_who_may_and_the_rest_are_refused(
    client: TestClient,
    world: World,
    make_user: MakeUser,
    made_on_one_consent: tuple[str, str, str, str],
) -> None:
    consent_id, requested, _accepted, _completed = made_on_one_consent
    provider = signed_in(TestClient(client.app), world.provider)
    assert 'id="withdraw-consent"' not in provider.get(f"/referrals/{requested}").text
    response = post(provider, f"/referrals/{requested}/consent/withdraw", {"withdraw-note": ""})
    assert response.status_code == 403
    admin_user = make_user(Role.ADMIN, organisation="Integrated Care Board")
    admin = signed_in(
        TestClient(client.app),
        Principal(
            display_name=admin_user.email,
            organisation_id=admin_user.organisation_id,
            organisation_name="Integrated Care Board",
            roles=admin_user.roles,
            user_id=admin_user.user_id,
            email=admin_user.email,
        ),
    )
    assert 'id="withdraw-consent"' not in admin.get(f"/referrals/{requested}").text
    assert post(admin, f"/referrals/{requested}/consent/withdraw", {}).status_code == 403
    # A clinician of another practice: no such referral for them.
    outsider = make_user(Role.CLINICIAN, organisation="Elsewhere Practice")
    other = signed_in(
        TestClient(client.app),
        Principal(
            display_name=outsider.email,
            organisation_id=outsider.organisation_id,
            organisation_name="Elsewhere Practice",
            roles=outsider.roles,
            user_id=outsider.user_id,
            email=outsider.email,
        ),
    )
    assert post(other, f"/referrals/{requested}/consent/withdraw", {}).status_code == 404
    assert consent_status(world, consent_id) == ConsentStatus.ACTIVE
    assert state(world, requested) == (S.REQUESTED, None)
