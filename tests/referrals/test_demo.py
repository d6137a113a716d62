"""The demonstration referrals: social histories for most demo people, and referrals from the
demo clinician and link worker at every status, some overdue, some due a "still attending?"
check, the demo provider with an inbox; loaded once only."""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta

from sqlalchemy import func, select

from healthequity.audit.schemas import AuditContext
from healthequity.auth import demo as auth_demo
from healthequity.auth import service as auth_service
from healthequity.directory import demo as directory_demo
from healthequity.directory.search import today_in_london
from healthequity.needs import NEEDS_BY_CODE
from healthequity.people import demo as people_demo
from healthequity.referrals import demo, service
from healthequity.referrals.models import (
    FailureReason,
    OutcomeMeasure,
    Referral,
    ReferralEvent,
    ReferralStatus,
)
from healthequity.referrals.schemas import DueCheckKind
from healthequity.social_history.models import IdentifiedNeed, QuestionnaireResponse
from healthequity.store import Database
from healthequity.store.database import utc_now

CONTEXT = AuditContext(purpose="demonstration data")
S = ReferralStatus


def _load(database: Database) -> list[str]:
    with database.session() as session:
        for load in (auth_demo.load_demo, directory_demo.load_demo, people_demo.load_demo):
            load(session, CONTEXT)
        return demo.load_demo(session, CONTEXT)


def _counts(database: Database) -> tuple[int, ...]:
    with database.session() as session:
        return tuple(
            session.scalar(select(func.count()).select_from(table)) or 0
            for table in (Referral, ReferralEvent, QuestionnaireResponse, IdentifiedNeed)
        )


def test_demo_referrals_stand_at_every_status_and_load_once(
    database: Database, fast_password_hashing: None
) -> None:
    lines = _load(database)
    assert re.fullmatch(
        r"Demo referrals: 31 for the demo people, by status: draft 2, requested 4, received 2, "
        r"accepted 5, rejected 3, in-progress 4, completed 5, cancelled 2, failed 4 "
        r"\(\d+ rows created\)",
        lines[0],
    )
    assert lines[1] == (
        "  social histories of 26 demo people; the demo provider adviser works the referrals "
        "to Aire Valley Advice Collective (demo) and Money Sense Community Interest Company "
        "(demo)"
    )
    today = today_in_london()
    with database.session() as session:
        referrals = list(session.scalars(select(Referral)))
        assert {referral.status for referral in referrals} == set(ReferralStatus)
        for referral in referrals:
            if referral.status in (S.REJECTED, S.CANCELLED, S.FAILED):
                assert referral.status_reason, referral.service_name
            if referral.status == S.COMPLETED:
                assert referral.outcome, referral.service_name
            # Dated as it happened, over the past weeks, its history in order.
            assert referral.created_at <= referral.updated_at <= utc_now()
            moments = [event.occurred_at for event in referral.events]
            assert moments == sorted(moments)
            assert moments[0] == referral.created_at
        assert {r.failure_reason for r in referrals if r.status == S.FAILED} == set(FailureReason)
        clinician = auth_service.get_user(session, "clinician@demo.healthequity.test")
        link_worker = auth_service.get_user(session, "linkworker@demo.healthequity.test")
        referrers = Counter(referral.requester_user_id for referral in referrals)
        assert set(referrers) == {clinician.id, link_worker.id}
        # Wellbeing before and after on some completed referrals.
        measured = Counter(
            (referral_id, instrument)
            for referral_id, instrument in session.execute(
                select(OutcomeMeasure.referral_id, OutcomeMeasure.instrument)
            )
        )
        assert len(measured) == 6  # three referrals, each ONS4 and SWEMWBS
        assert set(measured.values()) == {2}  # before and after
        completed = {r.id for r in referrals if r.status == S.COMPLETED}
        assert {referral_id for referral_id, _ in measured} <= completed

        # Follow-ups due: past their date, and "still attending?" checks (one late).
        checks = service.overdue(session, CONTEXT, organisation_id=clinician.organisation_id)
        late = [c for c in checks if c.kind == DueCheckKind.FOLLOW_UP]
        attending = [c for c in checks if c.kind == DueCheckKind.STILL_ATTENDING]
        assert len(late) >= 4
        assert {check.referral.status for check in late} >= {S.REQUESTED, S.RECEIVED}
        assert len(attending) == 2
        assert [check.late for check in attending] == [True, False]
        assert all(check.referral.is_social_prescription for check in attending)
        assert all(check.due_on <= today for check in checks)

        # The demo provider has an inbox of open referrals to the linked organisations.
        adviser = auth_service.get_user(session, "provider@demo.healthequity.test")
        inbox = service.provider_inbox(session, CONTEXT, adviser.organisation_id)
        assert inbox.total >= 8
        assert {item.status for item in inbox.items} >= {
            S.REQUESTED,
            S.RECEIVED,
            S.ACCEPTED,
            S.IN_PROGRESS,
        }
        # A referral for a sensitive need is there; another person's sensitive need is not.
        codes = {code for item in inbox.items for code in item.need_codes}
        assert "legal_immigration" in codes
        assert "domestic_abuse" not in codes

        # Social histories for 26 people, with the help they want.
        people = session.scalar(select(func.count(QuestionnaireResponse.person_id.distinct())))
        assert people == 26
        needs = list(session.scalars(select(IdentifiedNeed)))
        assert all(need.wants_help is not None for need in needs)
        assert any(need.sensitive for need in needs)
        referred = {
            (referral.person_id, item.need_code)
            for referral in referrals
            for item in referral.needs
        }
        wanted = {(need.person_id, need.need_code) for need in needs if need.wants_help}
        assert referred <= wanted
        assert {code for _person, code in referred} <= set(NEEDS_BY_CODE)
        oldest = min(referral.created_at for referral in referrals)
        assert utc_now() - oldest < timedelta(days=80)

    before = _counts(database)
    again = _load(database)
    assert again[0] == lines[0].split(" (")[0] + " (0 rows created)"
    assert again[1] == lines[1]
    assert _counts(database) == before
