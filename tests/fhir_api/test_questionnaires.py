"""Questionnaire (the instruments, read by anyone signed in) and QuestionnaireResponse
(answers: recorded by the care team's clinical users, who alone read them back)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from healthequity.audit.models import AuditEvent
from healthequity.auth.models import Role
from healthequity.social_history.instruments import get_instrument
from healthequity.social_history.models import (
    IdentifiedNeed,
    QuestionnaireResponse,
    ResponseSource,
)

from .conftest import CORE, World, answers, patient

DOMESTIC_ABUSE = "https://healthequity.example/fhir/Questionnaire/domestic-abuse-screen"


def test_questionnaires_are_read_and_found(world: World) -> None:
    read = world.provider.get("Questionnaire/social-history-core")
    assert read.status == 200
    assert read.headers["etag"] == 'W/"1.0.0"'
    assert read.data["meta"] == {"versionId": "1.0.0"}
    shipped = get_instrument(CORE).resource.model_dump(mode="json", exclude_none=True)
    assert {k: v for k, v in read.data.items() if k != "meta"} == shipped
    assert world.practice.get("Questionnaire/social-history-core/_history/1.0.0").data == read.data
    everything = world.practice.get("Questionnaire")
    assert everything.data["total"] == 3
    assert [q["title"] for q in everything.entries] == [
        "Domestic abuse: routine enquiry",
        "Low mood: PHQ-2",
        "Social history (core)",
    ]
    assert world.practice.get("Questionnaire", title="low mood").ids == ["low-mood-phq2"]
    assert world.practice.get("Questionnaire", url=CORE, version="1.0.0").ids == [
        "social-history-core"
    ]
    assert world.practice.get("Questionnaire", status="retired").data["total"] == 0


def test_answers_are_recorded_and_show_the_needs(world: World) -> None:
    person_id = world.practice.post("Patient", patient()).data["id"]
    sent = answers(person_id, world.clinician_id, debt="behind", lonely="often-or-always")
    # Nested as the questionnaire is, as a client that follows it sends them.
    sent["item"] = [{"linkId": "money-and-work", "item": [sent["item"][0]]}, sent["item"][1]]
    recorded = world.practice.post("QuestionnaireResponse", sent)
    assert recorded.status == 201
    response_id = recorded.data["id"]
    assert recorded.headers["location"].endswith(f"/fhir/QuestionnaireResponse/{response_id}")
    assert "etag" not in recorded.headers
    assert recorded.data["subject"] == {"reference": f"Patient/{person_id}"}
    assert [item["linkId"] for item in recorded.data["item"]] == ["money-and-work", "daily-life"]
    assert world.practice.get(f"QuestionnaireResponse/{response_id}").data == recorded.data
    with world.database.session() as session:
        stored = session.get(QuestionnaireResponse, response_id)
        assert stored is not None
        assert stored.answers == {"debt": ["behind"], "lonely": ["often-or-always"]}
        assert (stored.source, stored.author_user_id) == (
            ResponseSource.CLINICIAN,
            world.clinician_id,
        )
        needs = session.scalars(
            select(IdentifiedNeed.need_code).where(IdentifiedNeed.response_id == response_id)
        ).all()
        event = session.scalar(
            select(AuditEvent).where(AuditEvent.action == "social_history.response.record")
        )
        assert event is not None
        # Recorded for the clinician the practice's system acted for, by that system.
        assert (event.user_id, event.api_token_id is not None) == (world.clinician_id, True)
    assert sorted(needs) == ["debt", "social_isolation"]


def test_answers_the_person_gave_themselves_name_them_as_author(world: World) -> None:
    person_id = world.practice.post("Patient", patient()).data["id"]
    sent = answers(person_id, None, debt="worried")
    sent["author"] = {"reference": f"Patient/{person_id}"}
    recorded = world.practice.post("QuestionnaireResponse", sent)
    assert recorded.status == 201
    assert recorded.data["author"] == {"reference": f"Patient/{person_id}"}
    with world.database.session() as session:
        stored = session.get(QuestionnaireResponse, recorded.data["id"])
        assert stored is not None
        assert (stored.source, stored.author_user_id) == (ResponseSource.PERSON, None)


def test_answers_that_do_not_fit_are_refused_naming_each_question(world: World) -> None:
    person_id = world.practice.post("Patient", patient()).data["id"]
    sent = answers(person_id, world.clinician_id, debt="millions", work_secure="yes")
    sent["item"].append({"linkId": "strengths", "answer": [{"valueInteger": 3}]})
    refused = world.practice.post("QuestionnaireResponse", sent)
    assert refused.status == 422
    assert refused.issue()["expression"] == [
        "QuestionnaireResponse.item.where(linkId='strengths').answer"
    ]
    del sent["item"][-1]
    refused = world.practice.post("QuestionnaireResponse", sent)
    problems = {issue["expression"][0]: issue["diagnostics"] for issue in refused.data["issue"]}
    assert problems == {
        "QuestionnaireResponse.item.where(linkId='debt')": "debt: 'millions' is not one of its "
        "answers: expected one of no, worried, behind",
        "QuestionnaireResponse.item.where(linkId='work-secure')": "work-secure: it is asked only "
        "when 'work' is 'yes'",
    }
    unknown = world.practice.post(
        "QuestionnaireResponse", {**sent, "questionnaire": f"{CORE}|9.0.0"}
    )
    assert unknown.status == 422
    assert unknown.issue()["expression"] == ["QuestionnaireResponse.questionnaire"]
    assert "has no version '9.0.0'" in unknown.issue()["diagnostics"]
    in_progress = world.practice.post("QuestionnaireResponse", {**sent, "status": "in-progress"})
    assert in_progress.status == 422
    assert in_progress.issue()["expression"] == ["QuestionnaireResponse.status"]
    with world.database.session() as session:
        assert session.scalar(select(QuestionnaireResponse.id)) is None


def test_a_system_records_for_a_named_clinician_of_its_own_organisation(
    world: World, make_user: Any
) -> None:
    person_id = world.practice.post("Patient", patient()).data["id"]
    anonymous = world.practice.post("QuestionnaireResponse", answers(person_id, None, debt="no"))
    assert anonymous.status == 422
    assert anonymous.issue()["expression"] == ["QuestionnaireResponse.author"]
    assert "name them, like Practitioner/<user id>" in anonymous.issue()["diagnostics"]
    elsewhere = make_user(Role.CLINICIAN, organisation="Another Practice")
    for author in (elsewhere.user_id, 999_999, 10**15):
        refused = world.practice.post(
            "QuestionnaireResponse", answers(person_id, author, debt="no")
        )
        assert refused.status == 422
        assert (
            "is not an active clinician or link worker of Test Practice"
            in (refused.issue()["diagnostics"])
        )
    stranger = world.practice.post(
        "QuestionnaireResponse", {**answers("nobody", world.clinician_id, debt="no")}
    )
    assert stranger.status == 422
    assert stranger.issue()["expression"] == ["QuestionnaireResponse.subject"]


def test_answers_are_found_by_patient_questionnaire_and_date(world: World) -> None:
    ada = world.practice.post("Patient", patient()).data["id"]
    bob = world.practice.post("Patient", patient(family="Ashworth", nhs_number=None)).data["id"]
    core = world.practice.post("QuestionnaireResponse", answers(ada, world.clinician_id, debt="no"))
    screen = answers(ada, world.clinician_id)
    screen["questionnaire"] = DOMESTIC_ABUSE
    screen["item"] = [{"linkId": "safe-at-home", "answer": [{"valueCoding": {"code": "no"}}]}]
    abuse = world.practice.post("QuestionnaireResponse", screen)
    world.practice.post("QuestionnaireResponse", answers(bob, world.clinician_id, debt="no"))
    assert world.practice.get("QuestionnaireResponse", patient=ada).ids == [
        abuse.data["id"],
        core.data["id"],
    ]
    by_questionnaire = world.practice.get(
        "QuestionnaireResponse", patient=f"Patient/{ada}", questionnaire=f"{CORE}|1.0.0"
    )
    assert by_questionnaire.ids == [core.data["id"]]
    assert world.practice.get("QuestionnaireResponse", status="completed").data["total"] == 3
    assert world.practice.get("QuestionnaireResponse", date="lt2020-01-01").data["total"] == 0
    assert world.practice.get("QuestionnaireResponse", authored="ge2020").data["total"] == 3
    assert abuse.data["meta"]["security"][0]["code"] == "R"
    with world.database.session() as session:
        event = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "fhir.QuestionnaireResponse.search")
            .order_by(AuditEvent.id)
        ).first()
        assert event is not None
        detail = json.loads(event.detail or "{}")
    assert detail["person_ids"] == [ada]
    assert detail["sensitive_shown"] == 1


def test_answers_are_for_the_care_teams_clinical_users_only(world: World) -> None:
    person_id = world.practice.post("Patient", patient()).data["id"]
    recorded = world.practice.post(
        "QuestionnaireResponse", answers(person_id, world.clinician_id, debt="no")
    )
    assert world.admin_token.get(f"QuestionnaireResponse/{recorded.data['id']}").status == 403
    assert world.provider.get("QuestionnaireResponse").status == 403
