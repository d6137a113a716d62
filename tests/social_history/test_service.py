"""Recording a social history on each database: answers checked against their questionnaire
(errors name the question and change nothing), the needs they show stored with their SNOMED CT
findings, the person's say in which needs they want help with, review of answers given from a
link, one-time links from creation to use or expiry, and an audit event for every change."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from healthequity.audit.models import AuditEvent
from healthequity.social_history import service
from healthequity.social_history.exceptions import (
    AnswerError,
    InvalidLinkValidity,
    InvalidPriority,
    NotReviewable,
    PatientLinkExpired,
    PatientLinkUnknown,
    PatientLinkUsed,
    RecordNotFound,
    UnknownInstrument,
)
from healthequity.social_history.models import (
    IdentifiedNeed,
    NeedLevel,
    NeedStatus,
    PatientLink,
    QuestionnaireResponse,
    ResponseSource,
    ResponseStatus,
)
from healthequity.store.database import utc_now

from .conftest import CORE, DOMESTIC_ABUSE, Clinic

HISTORY = {
    "housing-situation": "temporary",
    "home-conditions": ["damp"],
    "food-worried": "LA6729-3",
    "hurt-by-someone-close": "in-the-past",
    "strengths": "My sister visits every week",
}


def _record(clinic: Clinic, answers: dict[str, object] = HISTORY) -> str:
    with clinic.database.session() as session:
        response = service.record_response(
            session,
            clinic.context,
            clinic.person_id,
            CORE,
            answers,
            ResponseSource.CLINICIAN,
            clinic.clinician_id,
        )
        return response.id


def _events(clinic: Clinic, action: str) -> list[AuditEvent]:
    with clinic.database.session() as session:
        return list(
            session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by("id"))
        )


def test_a_response_is_stored_with_the_needs_it_shows(clinic: Clinic) -> None:
    response_id = _record(clinic)
    with clinic.database.session() as session:
        response = session.get(QuestionnaireResponse, response_id)
        assert response is not None
        assert (response.questionnaire_url, response.questionnaire_version) == (CORE, "1.0.0")
        assert response.status is ResponseStatus.COMPLETED
        assert response.source is ResponseSource.CLINICIAN
        assert response.author_user_id == clinic.clinician_id
        assert response.answers == {
            "housing-situation": ["temporary"],
            "home-conditions": ["damp"],
            "food-worried": ["LA6729-3"],
            "hurt-by-someone-close": ["in-the-past"],
            "strengths": ["My sister visits every week"],
        }
        needs = session.scalars(
            select(IdentifiedNeed)
            .where(IdentifiedNeed.response_id == response_id)
            .order_by(IdentifiedNeed.need_code)
        )
        assert [
            (n.question_link_id, n.need_code, n.level, n.snomed_code, n.sensitive, n.status)
            for n in needs
        ] == [
            (
                "hurt-by-someone-close",
                "domestic_abuse",
                NeedLevel.NEED,
                "706893006",
                True,
                NeedStatus.ACTIVE,
            ),
            ("food-worried", "food", NeedLevel.AT_RISK, "733423003", False, NeedStatus.ACTIVE),
            (
                "home-conditions",
                "fuel_poverty",
                NeedLevel.NEED,
                "397756006",
                False,
                NeedStatus.ACTIVE,
            ),
            (
                "housing-situation",
                "homelessness",
                NeedLevel.NEED,
                "365510008",
                False,
                NeedStatus.ACTIVE,
            ),
        ]
    [event] = _events(clinic, "social_history.response.record")
    assert (event.subject_type, event.subject_id) == ("questionnaire_response", response_id)
    assert event.user_id == clinic.clinician_id
    detail = json.loads(event.detail or "{}")
    assert detail == {
        "needs_identified": 4,
        "person_id": clinic.person_id,
        "questionnaire": f"{CORE}|1.0.0",
        "source": "clinician",
    }
    # The audit log names the record, never the answers or the needs.
    assert "domestic" not in (event.detail or "")
    assert "sister" not in (event.detail or "")


def test_answers_that_do_not_fit_are_refused_naming_the_question_and_nothing_is_stored(
    clinic: Clinic,
) -> None:
    with pytest.raises(AnswerError) as raised:
        _record(
            clinic,
            {
                "housing-situation": "tent",
                "caring": True,
                "shoe-size": "9",
            },
        )
    assert set(raised.value.errors) == {"housing-situation", "caring", "shoe-size"}
    assert (
        raised.value.errors["caring"] == "True is not one of its answers: expected one of no, yes"
    )
    assert "expected one of own-or-rented, with-others, temporary, no-home" in str(raised.value)
    with clinic.database.session() as session:
        assert session.scalar(select(func.count()).select_from(QuestionnaireResponse)) == 0
        assert session.scalar(select(func.count()).select_from(IdentifiedNeed)) == 0
    assert _events(clinic, "social_history.response.record") == []


def test_a_response_needs_a_known_person_and_instrument(clinic: Clinic) -> None:
    with clinic.database.session() as session, pytest.raises(RecordNotFound, match="no person"):
        service.record_response(
            session, clinic.context, "nobody", CORE, {}, ResponseSource.CLINICIAN, None
        )
    with clinic.database.session() as session, pytest.raises(UnknownInstrument):
        service.record_response(
            session, clinic.context, clinic.person_id, "urn:x", {}, ResponseSource.CLINICIAN, None
        )


def test_the_person_says_which_needs_they_want_help_with_and_what_matters_most(
    clinic: Clinic,
) -> None:
    _record(clinic)
    with clinic.database.session() as session:
        needs = {
            n.need_code: n.id for n in service.needs_of_person(session, clinic.person_id, True)
        }
        service.set_help_wanted(session, clinic.context, needs["food"], True, 2)
        service.set_help_wanted(session, clinic.context, needs["homelessness"], True, 1)
        service.set_help_wanted(session, clinic.context, needs["fuel_poverty"], False, None)
    with clinic.database.session() as session:
        visible = service.needs_of_person(session, clinic.person_id, include_sensitive=False)
        everything = service.needs_of_person(session, clinic.person_id, include_sensitive=True)
        assert [(n.need_code, n.wants_help, n.priority) for n in visible] == [
            ("homelessness", True, 1),
            ("food", True, 2),
            ("fuel_poverty", False, None),
        ]
        assert {n.need_code for n in everything} - {n.need_code for n in visible} == {
            "domestic_abuse"
        }
    events = _events(clinic, "social_history.need.help_wanted")
    assert [(e.subject_id, json.loads(e.detail or "{}")["priority"]) for e in events] == [
        (needs["food"], 2),
        (needs["homelessness"], 1),
        (needs["fuel_poverty"], None),
    ]


@pytest.mark.parametrize("priority", [0, -1, True])
def test_a_priority_is_a_whole_number_from_one(clinic: Clinic, priority: int) -> None:
    _record(clinic)
    with clinic.database.session() as session:
        need = service.needs_of_person(session, clinic.person_id, True)[0]
        with pytest.raises(InvalidPriority, match="expected a whole number from 1"):
            service.set_help_wanted(session, clinic.context, need.id, True, priority)
        with pytest.raises(RecordNotFound, match="no identified need with id 'x'"):
            service.set_help_wanted(session, clinic.context, "x", True, 1)


def test_a_clinician_reviews_what_a_person_answered_from_a_link(clinic: Clinic) -> None:
    with clinic.database.session() as session:
        by_person = service.record_response(
            session, clinic.context, clinic.person_id, CORE, HISTORY, ResponseSource.PERSON, None
        ).id
    by_clinician = _record(clinic)
    with clinic.database.session() as session:
        reviewed = service.review_response(session, clinic.context, by_person, clinic.clinician_id)
        assert reviewed.reviewed_by_user_id == clinic.clinician_id
        assert reviewed.reviewed_at is not None
    with clinic.database.session() as session:
        with pytest.raises(NotReviewable, match="reviewed already"):
            service.review_response(session, clinic.context, by_person, clinic.clinician_id)
        with pytest.raises(NotReviewable, match="a clinician recorded these answers"):
            service.review_response(session, clinic.context, by_clinician, clinic.clinician_id)
        with pytest.raises(RecordNotFound):
            service.review_response(session, clinic.context, "none", clinic.clinician_id)
    [event] = _events(clinic, "social_history.response.review")
    assert (event.subject_id, event.user_id) == (by_person, clinic.clinician_id)


# One-time links


def _create_link(clinic: Clinic, url: str = CORE, valid_for: timedelta | None = None) -> str:
    with clinic.database.session() as session:
        if valid_for is None:
            return service.create_patient_link(
                session, clinic.context, clinic.person_id, url, clinic.clinician_id
            )
        return service.create_patient_link(
            session, clinic.context, clinic.person_id, url, clinic.clinician_id, valid_for
        )


def test_a_link_stores_only_the_hash_of_its_secret_and_lasts_a_week(clinic: Clinic) -> None:
    secret = _create_link(clinic, DOMESTIC_ABUSE)
    assert len(secret) >= 40
    with clinic.database.session() as session:
        link = session.scalars(select(PatientLink)).one()
        assert link.token_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert secret not in (link.token_hash, link.id)
        assert link.questionnaire_url == DOMESTIC_ABUSE
        assert link.expires_at - link.created_at == timedelta(days=7)
        assert link.used_at is None
        assert service.open_patient_link(session, secret).id == link.id
    [event] = _events(clinic, "social_history.patient_link.create")
    assert event.subject_id == link.id
    assert secret not in (event.detail or "")


def test_a_person_answers_once_from_their_link_and_a_clinician_reviews_it(clinic: Clinic) -> None:
    secret = _create_link(clinic)
    with clinic.database.session() as session:
        response = service.submit_patient_link(
            session, clinic.context.for_purpose("self-completion"), secret, HISTORY
        )
        assert response.source is ResponseSource.PERSON
        assert response.author_user_id is None
        assert response.person_id == clinic.person_id
        response_id = response.id
    with clinic.database.session() as session:
        link = session.scalars(select(PatientLink)).one()
        assert link.used_at is not None
        assert link.response_id == response_id
        with pytest.raises(PatientLinkUsed, match="each link works once, so ask for a new one"):
            service.open_patient_link(session, secret)
        with pytest.raises(PatientLinkUsed):
            service.submit_patient_link(session, clinic.context, secret, HISTORY)
    with clinic.database.session() as session:
        assert service.review_response(session, clinic.context, response_id, clinic.clinician_id)
    [used] = _events(clinic, "social_history.patient_link.use")
    assert used.subject_id == link.id
    assert json.loads(used.detail or "{}")["response_id"] == response_id


def test_answers_that_do_not_fit_leave_the_link_unused(clinic: Clinic) -> None:
    secret = _create_link(clinic)
    with clinic.database.session() as session:
        with pytest.raises(AnswerError, match="lonely: 'always' is not one of its answers"):
            service.submit_patient_link(session, clinic.context, secret, {"lonely": "always"})
        assert service.open_patient_link(session, secret).used_at is None


def test_an_expired_link_says_so(clinic: Clinic) -> None:
    secret = _create_link(clinic, valid_for=timedelta(hours=1))
    with clinic.database.session() as session:
        session.execute(update(PatientLink).values(expires_at=utc_now() - timedelta(minutes=1)))
    with clinic.database.session() as session:
        with pytest.raises(PatientLinkExpired, match=r"this link expired on .* UTC: ask for a new"):
            service.open_patient_link(session, secret)
        with pytest.raises(PatientLinkExpired):
            service.submit_patient_link(session, clinic.context, secret, HISTORY)
        assert session.scalar(select(func.count()).select_from(QuestionnaireResponse)) == 0


def test_an_unknown_link_says_so(clinic: Clinic) -> None:
    _create_link(clinic)
    with (
        clinic.database.session() as session,
        pytest.raises(
            PatientLinkUnknown, match="this link is not known: check that all of it was copied"
        ),
    ):
        service.open_patient_link(session, "not-the-secret")


def test_a_link_must_be_valid_for_some_time_and_name_a_known_instrument(clinic: Clinic) -> None:
    with pytest.raises(InvalidLinkValidity, match="valid for some time: got 0:00:00"):
        _create_link(clinic, valid_for=timedelta(0))
    with pytest.raises(UnknownInstrument):
        _create_link(clinic, url="urn:nothing")
    with clinic.database.session() as session:
        assert session.scalar(select(func.count()).select_from(PatientLink)) == 0
