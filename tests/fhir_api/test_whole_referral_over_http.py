"""A whole referral over HTTP only, from screening to a completed Task, on each database.

The practice's system (its API token, acting for a named clinician) creates the Patient,
reads the social history Questionnaire, records answers that show a debt need, finds the
need as an Observation and a Condition, records the person's consent and refers them to a
debt advice service of the directory. The advice charity's system (its own token) finds the
Task, moves it through received, accepted and in-progress to completed with the outcome,
quoting each time the version it read; the practice then reads the completed Task and
ServiceRequest. Every answer is validated as FHIR on arrival (conftest `checked`)."""

from __future__ import annotations

from sqlalchemy import select

from healthequity.audit.models import AuditEvent
from healthequity.referrals.models import Referral, ReferralStatus

from .conftest import CORE, NHS_NUMBER, World, answers, consent, patient, service_request

DIRECTORY_ORGANIZATION = "https://healthequity.example/fhir/Id/directory-organization"


def test_a_referral_from_screening_to_a_completed_task_over_http(world: World) -> None:
    practice, provider = world.practice, world.provider

    # The practice registers the person.
    created = practice.post("Patient", patient())
    assert created.status == 201
    person_id = created.data["id"]
    assert created.headers["location"].endswith(f"/fhir/Patient/{person_id}")
    assert created.data["identifier"] == [{"system": NHS_NUMBER, "value": "9434765919"}]

    # ... finds the social history questionnaire and reads it.
    found = practice.get("Questionnaire", url=CORE)
    assert found.data["total"] == 1
    questionnaire = practice.get(f"Questionnaire/{found.ids[0]}")
    assert questionnaire.status == 200
    assert questionnaire.data["url"] == CORE
    link_ids = [
        item["linkId"] for group in questionnaire.data["item"] for item in group.get("item", [])
    ]
    assert "debt" in link_ids

    # ... records the answers given in the consultation: behind with payments.
    recorded = practice.post(
        "QuestionnaireResponse",
        answers(person_id, world.clinician_id, housing_situation="own-or-rented", debt="behind"),
    )
    assert recorded.status == 201
    assert recorded.data["questionnaire"] == f"{CORE}|1.0.0"
    assert recorded.data["author"] == {"reference": f"Practitioner/{world.clinician_id}"}

    # ... finds the need it showed, as an Observation and as a Condition.
    observations = practice.get("Observation", patient=person_id, category="sdoh")
    assert observations.data["total"] == 1
    observation = observations.entries[0]
    assert observation["code"]["coding"][0]["code"] == "1184702004"  # financial insecurity
    assert observation["derivedFrom"] == [
        {"reference": f"QuestionnaireResponse/{recorded.data['id']}"}
    ]
    conditions = practice.get(
        "Condition", patient=person_id, code="http://snomed.info/sct|1184702004"
    )
    assert conditions.ids == [observation["id"]]
    need_id = conditions.ids[0]

    # ... records the person's consent to share with the charity that runs debt advice.
    given = practice.post("Consent", consent(person_id, world.debt_service_id, world.clinician_id))
    assert given.status == 201
    recipient = given.data["provision"]["actor"][0]["reference"]
    assert recipient["identifier"]["value"] == world.advice_organization_id

    # ... and refers them to the service, for that need, on that consent.
    sent = practice.post(
        "ServiceRequest",
        service_request(
            person_id, world.debt_service_id, given.data["id"], [need_id], world.clinician_id
        ),
    )
    assert sent.status == 201
    referral_id = sent.data["id"]
    assert sent.data["status"] == "active"
    assert sent.data["performer"][0]["display"] == "Debt advice"
    assert sent.data["reasonReference"] == [{"reference": f"Condition/{need_id}"}]

    # The charity's system finds the new Task in its inbox.
    inbox = provider.get(
        "Task",
        status="requested",
        **{"owner:identifier": f"{DIRECTORY_ORGANIZATION}|{world.advice_organization_id}"},
    )
    assert inbox.ids == [referral_id]
    task = inbox.entries[0]
    assert task["focus"] == {"reference": f"ServiceRequest/{referral_id}"}
    assert task["for"] == {"reference": f"Patient/{person_id}"}
    # ... with the minimum of the person's record it needs to contact them.
    contact = provider.get(f"Patient/{person_id}")
    assert contact.data["name"][0]["family"] == "Okafor"
    assert "identifier" not in contact.data
    assert "birthDate" not in contact.data
    assert contact.data["meta"]["tag"][0]["code"] == "SUBSETTED"

    # ... and moves it along, quoting the version it read each time.
    for status in ("received", "accepted", "in-progress"):
        changed = provider.put(
            f"Task/{referral_id}", {**task, "status": status}, task["meta"]["versionId"]
        )
        assert changed.status == 200, changed.data
        assert changed.data["status"] == status
        assert int(changed.data["meta"]["versionId"]) == int(task["meta"]["versionId"]) + 1
        assert changed.headers["etag"] == f'W/"{changed.data["meta"]["versionId"]}"'
        task = changed.data
    outcome = "Debt relief order applied for; the person is now on a payment plan."
    done = provider.put(
        f"Task/{referral_id}",
        {
            **task,
            "status": "completed",
            "output": [{"type": {"text": "Outcome"}, "valueString": outcome}],
        },
        task["meta"]["versionId"],
    )
    assert done.status == 200, done.data

    # The practice reads the completed Task and ServiceRequest: the loop is closed.
    closed = practice.get(f"Task/{referral_id}")
    assert closed.data["status"] == "completed"
    assert closed.data["output"][0]["valueString"] == outcome
    request = practice.get(f"ServiceRequest/{referral_id}")
    assert request.data["status"] == "completed"
    assert request.data["meta"]["versionId"] == closed.data["meta"]["versionId"]

    with world.database.session() as session:
        referral = session.get(Referral, referral_id)
        assert referral is not None
        assert referral.status == ReferralStatus.COMPLETED
        assert referral.outcome == outcome
        assert [event.to_status for event in referral.events] == [
            ReferralStatus.REQUESTED,
            ReferralStatus.RECEIVED,
            ReferralStatus.ACCEPTED,
            ReferralStatus.IN_PROGRESS,
            ReferralStatus.COMPLETED,
        ]
        # The practice's changes are recorded against the clinician the token acted for.
        assert referral.requester_user_id == world.clinician_id
        reads = session.scalars(
            select(AuditEvent.action).where(AuditEvent.action.like("fhir.%"))
        ).all()
    assert {"fhir.Observation.search", "fhir.Condition.search", "fhir.Task.search"} <= set(reads)
