"""Follow-up: contact attempts and notes, moving the follow-up date, "still attending?"
checks, the caseload (filters, sorts, pages) and the overdue list, all on fixed dates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest

from healthequity.audit.service import list_events
from healthequity.referrals import service
from healthequity.referrals.exceptions import ReferralInputError, StaleReferral
from healthequity.referrals.models import (
    Referral,
    ReferralEventKind,
    ReferralStatus,
)
from healthequity.referrals.schemas import (
    CaseloadFilters,
    CaseloadSort,
    ContactMethod,
    DueCheckKind,
)

from .conftest import (
    BENEFITS_SERVICE,
    TODAY,
    WALKING_ORG,
    WALKING_SERVICE,
    World,
    context_of,
    refer,
)

S = ReferralStatus


def days(n: int) -> date:
    return TODAY + timedelta(days=n)


@dataclass(frozen=True)
class Caseload:
    """Referrals on fixed dates, named by what they show."""

    overdue: str  # requested, follow-up 6 days ago
    accepted: str  # benefits, follow-up in 9 days
    completed: str  # the other person's, follow-up long past but closed
    attending_due: str  # social prescription, "still attending?" due 7 days ago
    attending_late: str  # social prescription, "still attending?" due 22 days ago: late
    colleagues: str  # the link worker's, follow-up 6 days ago


@pytest.fixture
def caseload(world: World) -> Caseload:
    def step(
        session, referral: Referral, *moves: tuple[ReferralStatus, dict[str, object], date]
    ) -> None:  # type: ignore[no-untyped-def]
        for to, details, on in moves:
            service.change_status(
                session,
                context_of(world.provider),
                referral.id,
                to,
                referral.version,
                actor=world.provider,
                today=on,
                **details,  # type: ignore[arg-type]
            )

    with world.database.session() as session:
        service.link_provider(
            session, context_of(world.provider), world.provider.organisation_id, WALKING_ORG
        )
        overdue = refer(session, world, today=days(-20))
        accepted = refer(
            session, world, service_id=BENEFITS_SERVICE, needs=("income_benefits",), today=days(-5)
        )
        step(session, accepted, (S.ACCEPTED, {}, days(-4)))
        completed = refer(session, world, person_id=world.other_person_id, today=days(-30))
        step(
            session,
            completed,
            (S.ACCEPTED, {}, days(-29)),
            (S.IN_PROGRESS, {}, days(-28)),
            (S.COMPLETED, {"outcome": "Budget plan agreed"}, days(-20)),
        )
        social = {
            "service_id": WALKING_SERVICE,
            "needs": ("social_isolation",),
            "is_social_prescription": True,
        }
        attending_due = refer(session, world, today=days(-40), **social)
        step(session, attending_due, (S.ACCEPTED, {}, days(-35)))
        attending_late = refer(session, world, today=days(-55), **social)
        step(session, attending_late, (S.ACCEPTED, {}, days(-50)))
        colleagues = refer(session, world, requester=world.link_worker, today=days(-20))
        return Caseload(
            overdue.id,
            accepted.id,
            completed.id,
            attending_due.id,
            attending_late.id,
            colleagues.id,
        )


def ids_of(
    world: World, filters: CaseloadFilters = CaseloadFilters(), **options: object
) -> list[str]:
    with world.database.session() as session:
        page = service.caseload(
            session,
            context_of(world.clinician),
            world.clinician.user_id,  # type: ignore[arg-type]
            filters,
            today=TODAY,
            **options,  # type: ignore[arg-type]
        )
        return [item.id for item in page.items]


def test_the_caseload_lists_open_referrals_by_follow_up_date(
    world: World, caseload: Caseload
) -> None:
    assert ids_of(world) == [
        caseload.attending_late,  # follow-up 41 days ago
        caseload.attending_due,  # 26 days ago
        caseload.overdue,  # 6 days ago
        caseload.accepted,  # in 9 days
    ]
    with world.database.session() as session:
        page = service.caseload(
            session, context_of(world.clinician), world.clinician.user_id or 0, today=TODAY
        )
        first = page.items[0]
        assert (first.person_name, first.service_name, first.status) == (
            "Ada Lovelace",
            "Walking group",
            S.ACCEPTED,
        )
        assert first.need_codes == ("social_isolation",)
        assert first.follow_up_on == days(-41)
        assert first.attendance_check_on == days(-22)
        assert first.is_social_prescription
        audit = list_events(session, action="referral.caseload.read")[-1]
        assert audit.subject_id == str(world.clinician.user_id)
        assert caseload.overdue in (audit.detail or "")


def test_the_caseload_filters(world: World, caseload: Caseload) -> None:
    everything = frozenset(ReferralStatus)
    assert ids_of(world, CaseloadFilters(statuses=frozenset({S.COMPLETED}))) == [caseload.completed]
    assert ids_of(world, CaseloadFilters(need_code="debt")) == [caseload.overdue]
    assert ids_of(world, CaseloadFilters(statuses=everything, need_code="debt")) == [
        caseload.completed,
        caseload.overdue,
    ]
    assert ids_of(world, CaseloadFilters(service_id=BENEFITS_SERVICE)) == [caseload.accepted]
    assert ids_of(world, CaseloadFilters(overdue_only=True)) == [
        caseload.attending_late,
        caseload.attending_due,
        caseload.overdue,
    ]
    # Closed referrals are never overdue, whatever statuses are asked for.
    assert caseload.completed not in ids_of(
        world, CaseloadFilters(statuses=everything, overdue_only=True)
    )
    assert ids_of(world, CaseloadFilters(social_prescriptions_only=True)) == [
        caseload.attending_late,
        caseload.attending_due,
    ]
    assert ids_of(world, CaseloadFilters(person_id=world.other_person_id)) == []
    assert ids_of(world, CaseloadFilters(statuses=everything, person_id=world.other_person_id)) == [
        caseload.completed
    ]


def test_the_caseload_sorts(world: World, caseload: Caseload) -> None:
    assert ids_of(world, sort=CaseloadSort.STATUS) == [
        caseload.overdue,  # requested comes before accepted
        caseload.attending_late,
        caseload.attending_due,
        caseload.accepted,
    ]
    assert ids_of(world, sort=CaseloadSort.NEWEST) == [
        caseload.attending_late,
        caseload.attending_due,
        caseload.accepted,
        caseload.overdue,
    ]
    assert ids_of(world, sort=CaseloadSort.OLDEST) == [
        caseload.overdue,
        caseload.accepted,
        caseload.attending_due,
        caseload.attending_late,
    ]
    assert ids_of(world, sort=CaseloadSort.UPDATED)[0] == caseload.attending_late
    everything = CaseloadFilters(statuses=frozenset(ReferralStatus))
    # Bob Ashworth before Ada Lovelace.
    assert ids_of(world, everything, sort=CaseloadSort.PERSON)[0] == caseload.completed


def test_the_caseload_pages(world: World, caseload: Caseload) -> None:
    with world.database.session() as session:
        pages = [
            service.caseload(
                session,
                context_of(world.clinician),
                world.clinician.user_id or 0,
                page=number,
                page_size=3,
                today=TODAY,
            )
            for number in (1, 2, 3)
        ]
    assert [len(page.items) for page in pages] == [3, 1, 0]
    assert {(page.total, page.pages) for page in pages} == {(4, 2)}
    assert [item.id for page in pages for item in page.items] == ids_of(world)


def test_the_caseload_refuses_bad_filters(world: World) -> None:
    with world.database.session() as session:
        with pytest.raises(ReferralInputError) as bad_page:
            service.caseload(session, context_of(world.clinician), 1, page=0)
        assert bad_page.value.errors == {"page": "expected a page number from 1, got 0"}
        with pytest.raises(ReferralInputError, match="need_code: unknown need 'debts'"):
            service.caseload(
                session, context_of(world.clinician), 1, CaseloadFilters(need_code="debts")
            )


def test_the_overdue_list_has_follow_ups_and_still_attending_checks(
    world: World, caseload: Caseload
) -> None:
    with world.database.session() as session:
        checks = service.overdue(
            session, context_of(world.clinician), user_id=world.clinician.user_id, today=TODAY
        )
    assert [
        (check.referral.id, check.kind, check.due_on, check.days_overdue, check.late)
        for check in checks
    ] == [
        (caseload.attending_late, DueCheckKind.FOLLOW_UP, days(-41), 41, True),
        (caseload.attending_due, DueCheckKind.FOLLOW_UP, days(-26), 26, True),
        (caseload.attending_late, DueCheckKind.STILL_ATTENDING, days(-22), 22, True),
        (caseload.attending_due, DueCheckKind.STILL_ATTENDING, days(-7), 7, False),
        (caseload.overdue, DueCheckKind.FOLLOW_UP, days(-6), 6, True),
    ]


def test_the_still_attending_check_is_due_from_four_weeks_and_late_after_six(
    world: World, caseload: Caseload
) -> None:
    def attending(today: date) -> list[tuple[str, bool]]:
        with world.database.session() as session:
            return [
                (check.referral.id, check.late)
                for check in service.overdue(
                    session,
                    context_of(world.clinician),
                    user_id=world.clinician.user_id,
                    today=today,
                )
                if check.kind == DueCheckKind.STILL_ATTENDING
            ]

    accepted_on = days(-35)
    assert (caseload.attending_due, False) not in attending(accepted_on + timedelta(days=27))
    assert (caseload.attending_due, False) in attending(accepted_on + timedelta(weeks=4))
    assert (caseload.attending_due, False) in attending(accepted_on + timedelta(weeks=6))
    assert (caseload.attending_due, True) in attending(accepted_on + timedelta(weeks=6, days=1))


def test_the_organisations_overdue_list_includes_colleagues(
    world: World, caseload: Caseload
) -> None:
    with world.database.session() as session:
        mine = service.overdue(
            session, context_of(world.clinician), user_id=world.clinician.user_id, today=TODAY
        )
        ours = service.overdue(
            session,
            context_of(world.clinician),
            organisation_id=world.clinician.organisation_id,
            today=TODAY,
        )
        assert caseload.colleagues not in {check.referral.id for check in mine}
        assert caseload.colleagues in {check.referral.id for check in ours}
        assert list_events(session, action="referral.overdue.read")
        with pytest.raises(ReferralInputError, match="give either a user or an organisation"):
            service.overdue(session, context_of(world.clinician), today=TODAY)


def test_answering_still_attending_clears_the_check(world: World, caseload: Caseload) -> None:
    with world.database.session() as session:
        referral = session.get(Referral, caseload.attending_due)
        assert referral is not None
        answered = service.record_attendance_check(
            session,
            context_of(world.link_worker),
            referral.id,
            referral.version,
            True,
            note="Goes every Thursday",
            actor=world.link_worker,
        )
        assert answered.attendance_check_on is None
        event = max(answered.events, key=lambda event: event.id)
        assert (event.kind, event.detail) == (
            ReferralEventKind.FOLLOW_UP,
            "Still attending: yes. Goes every Thursday",
        )
        checks = service.overdue(
            session, context_of(world.clinician), user_id=world.clinician.user_id, today=TODAY
        )
        assert (caseload.attending_due, DueCheckKind.STILL_ATTENDING) not in {
            (check.referral.id, check.kind) for check in checks
        }
        benefits = session.get(Referral, caseload.accepted)
        assert benefits is not None
        with pytest.raises(ReferralInputError) as refused:
            service.record_attendance_check(
                session,
                context_of(world.clinician),
                benefits.id,
                benefits.version,
                False,
                actor=world.clinician,
            )
        assert refused.value.errors == {
            "still_attending": "no 'still attending?' check is due on this referral"
        }


def test_moving_the_follow_up_date(world: World, caseload: Caseload) -> None:
    with world.database.session() as session:
        referral = session.get(Referral, caseload.overdue)
        assert referral is not None
        moved = service.reschedule_follow_up(
            session,
            context_of(world.clinician),
            referral.id,
            1,
            days(7),
            note="Spoke to the advice centre: appointment next week",
            actor=world.clinician,
            today=TODAY,
        )
        assert (moved.follow_up_on, moved.version) == (days(7), 2)
        event = max(moved.events, key=lambda event: event.id)
        assert event.detail == (
            "Follow-up moved from 2026-11-17 to 2026-11-30. "
            "Spoke to the advice centre: appointment next week"
        )
        assert list_events(session, action="referral.follow_up", subject_id=referral.id)
        with pytest.raises(StaleReferral):
            service.reschedule_follow_up(
                session,
                context_of(world.clinician),
                referral.id,
                1,
                days(8),
                actor=world.clinician,
                today=TODAY,
            )
        with pytest.raises(ReferralInputError) as past:
            service.reschedule_follow_up(
                session,
                context_of(world.clinician),
                referral.id,
                2,
                days(-1),
                actor=world.clinician,
                today=TODAY,
            )
        assert past.value.errors == {"follow_up_on": "expected today (2026-11-23) or later"}
        completed = session.get(Referral, caseload.completed)
        assert completed is not None
        with pytest.raises(ReferralInputError) as closed:
            service.reschedule_follow_up(
                session,
                context_of(world.clinician),
                completed.id,
                completed.version,
                days(3),
                actor=world.clinician,
                today=TODAY,
            )
        assert closed.value.errors == {
            "follow_up_on": "the referral is completed: there is nothing left to follow up"
        }


def test_contact_attempts_and_notes_join_the_history_without_a_new_version(
    world: World, caseload: Caseload
) -> None:
    with world.database.session() as session:
        attempt = service.record_contact_attempt(
            session,
            context_of(world.provider),
            caseload.overdue,
            method=ContactMethod.PHONE,
            reached=False,
            note="Left a voicemail",
            actor=world.provider,
        )
        assert (attempt.kind, attempt.detail) == (
            ReferralEventKind.CONTACT_ATTEMPT,
            "Phone: not reached. Left a voicemail",
        )
        assert attempt.user_id == world.provider.user_id
        texted = service.record_contact_attempt(
            session,
            context_of(world.provider),
            caseload.overdue,
            method="text_message",
            reached=True,
            actor=world.provider,
        )
        assert texted.detail == "Text message: reached"
        note = service.add_note(
            session,
            context_of(world.clinician),
            caseload.overdue,
            "  The person asked for calls after 10am  ",
            actor=world.clinician,
        )
        assert (note.kind, note.detail) == (
            ReferralEventKind.NOTE,
            "The person asked for calls after 10am",
        )
        referral = session.get(Referral, caseload.overdue)
        assert referral is not None
        assert referral.version == 1
        with pytest.raises(ReferralInputError) as bad_method:
            service.record_contact_attempt(
                session,
                context_of(world.provider),
                caseload.overdue,
                method="pigeon",
                reached=False,
                actor=world.provider,
            )
        assert bad_method.value.errors == {
            "method": "expected one of phone, text_message, email, letter, in_person, got 'pigeon'"
        }
        with pytest.raises(ReferralInputError) as blank:
            service.add_note(
                session, context_of(world.clinician), caseload.overdue, " ", actor=world.clinician
            )
        assert blank.value.errors == {"text": "write the note"}
        assert len(list_events(session, action="referral.contact_attempt")) == 2
        assert len(list_events(session, action="referral.note")) == 1


def test_the_count_of_checks_due_is_what_the_overdue_list_lists(
    world: World, caseload: Caseload
) -> None:
    with world.database.session() as session:
        for principal, expected in (
            (world.clinician, 5),  # three follow-ups past their date, two attendance checks
            (world.link_worker, 1),  # the colleague's one late follow-up
            (world.provider, 0),  # has made no referral
        ):
            assert principal.user_id is not None
            listed = service.overdue(
                session, context_of(principal), user_id=principal.user_id, today=TODAY
            )
            counted = service.count_due(session, principal.user_id, today=TODAY)
            assert counted == len(listed) == expected, principal.email
        # Kinds of check both: the clinician's count holds the "still attending?" checks.
        kinds = {
            check.kind
            for check in service.overdue(
                session, context_of(world.clinician), user_id=world.clinician.user_id, today=TODAY
            )
        }
        assert kinds == {DueCheckKind.FOLLOW_UP, DueCheckKind.STILL_ATTENDING}
        # A count names no one: it is not audited, unlike the list.
        listed_reads = len(list_events(session, action="referral.overdue.read"))
        service.count_due(session, world.clinician.user_id or 0, today=TODAY)
        assert len(list_events(session, action="referral.overdue.read")) == listed_reads
    # Answering one check takes it off both.
    with world.database.session() as session:
        referral = session.get(Referral, caseload.attending_due)
        assert referral is not None
        service.record_attendance_check(
            session,
            context_of(world.clinician),
            referral.id,
            referral.version,
            True,
            actor=world.clinician,
        )
    with world.database.session() as session:
        assert service.count_due(session, world.clinician.user_id or 0, today=TODAY) == 4
