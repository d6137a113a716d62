"""Needs as Observations and Conditions: found by patient, category, code, status and date;
sensitive ones (domestic abuse here) only for clinical users in the care team, or for the
provider of a referral made for that need; every read and search audited with how many
sensitive needs it showed."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from healthequity.audit.models import AuditEvent

from .conftest import World, answers, patient, refer

NEED = "https://healthequity.example/fhir/CodeSystem/need"
SNOMED = "http://snomed.info/sct"
HISTORY = {"debt": "behind", "lonely": "often-or-always", "hurt_by_someone_close": "now"}


def need_codes(resources: list[dict[str, Any]]) -> list[str]:
    return sorted(resource["category"][2]["coding"][0]["code"] for resource in resources)


def screened(world: World) -> str:
    person_id = world.practice.post("Patient", patient()).data["id"]
    recorded = world.practice.post(
        "QuestionnaireResponse", answers(person_id, world.clinician_id, **HISTORY)
    )
    assert recorded.status == 201
    return person_id


def last_audit(world: World, action: str) -> dict[str, Any]:
    with world.database.session() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id.desc())
        ).first()
        assert event is not None
        detail: dict[str, Any] = json.loads(event.detail or "{}")
        return detail


def test_the_care_teams_clinical_users_see_every_need(world: World) -> None:
    person_id = screened(world)
    observations = world.practice.get("Observation", patient=person_id)
    assert need_codes(observations.entries) == ["debt", "domestic_abuse", "social_isolation"]
    abuse = next(
        o for o in observations.entries if o["category"][2]["coding"][0]["code"] == "domestic_abuse"
    )
    assert abuse["meta"]["security"][0]["code"] == "R"
    assert abuse["code"]["coding"][0] == {
        "system": SNOMED,
        "code": "706893006",
        "display": "Victim of intimate partner abuse (finding)",
    }
    assert last_audit(world, "fhir.Observation.search") == {
        "ids": [o["id"] for o in observations.entries],
        "person_ids": [person_id],
        "sensitive_shown": 1,
    }
    condition = world.practice.get(f"Condition/{abuse['id']}")
    assert condition.data["evidence"] == [{"detail": [{"reference": f"Observation/{abuse['id']}"}]}]
    assert last_audit(world, "fhir.Condition.read")["sensitive_shown"] == 1


def test_needs_are_found_by_category_code_status_and_date(world: World) -> None:
    person_id = screened(world)
    practice = world.practice

    def codes(resource_type: str, **params: str) -> list[str]:
        return need_codes(practice.get(resource_type, patient=person_id, **params).entries)

    assert codes("Observation", category=f"{NEED}|debt") == ["debt"]
    assert codes("Observation", category="social-history,sdoh") == codes("Observation")
    assert codes("Observation", category="health-concern") == []
    assert codes("Condition", category="health-concern") == codes("Observation")
    assert codes("Condition", code=f"{SNOMED}|706893006") == ["domestic_abuse"]
    assert codes("Condition", code="http://loinc.org|706893006") == []
    assert codes("Condition", **{"clinical-status": "active"}) == codes("Observation")
    assert codes("Condition", **{"clinical-status": "resolved"}) == []
    assert codes("Observation", status="final") == codes("Observation")
    assert codes("Observation", status="preliminary") == []
    since = practice.get("Observation", patient=person_id, date="ge2020-01-01", _count="2")
    assert (since.data["total"], len(since.ids)) == (3, 2)
    assert codes("Condition", **{"recorded-date": "lt2020"}) == []
    first = practice.get("Observation", patient=person_id).entries[0]
    assert practice.get("Observation", _id=first["id"]).ids == [first["id"]]


def test_others_see_no_sensitive_need_and_a_provider_only_those_referred(world: World) -> None:
    person_id = screened(world)
    # An administrator may see the record, but is not a clinical user.
    assert need_codes(world.admin_token.get("Condition", patient=person_id).entries) == [
        "debt",
        "social_isolation",
    ]
    abuse_id = next(
        c["id"]
        for c in world.practice.get("Condition", patient=person_id).entries
        if c.get("meta", {}).get("security")  # only the sensitive ones carry labels
    )
    assert world.admin_token.get(f"Condition/{abuse_id}").status == 404
    assert world.provider.get("Observation", patient=person_id).data["total"] == 0
    assert world.provider.get(f"Observation/{abuse_id}").status == 404


def test_the_provider_of_a_referral_for_a_sensitive_need_sees_it(world: World) -> None:
    referred = refer(world, **HISTORY)  # for debt and domestic abuse
    seen = world.provider.get("Condition", patient=referred.person_id)
    assert need_codes(seen.entries) == ["debt", "domestic_abuse"]
    assert last_audit(world, "fhir.Condition.search")["sensitive_shown"] == 1
    abuse = referred.need_ids["domestic_abuse"]
    assert world.provider.get(f"Observation/{abuse}").status == 200
    lonely = referred.need_ids["social_isolation"]
    assert world.provider.get(f"Observation/{lonely}").status == 404
    # The walking group's system, with no referral for the person, sees none of it.
    assert world.other_provider.get("Condition", patient=referred.person_id).data["total"] == 0
    assert world.other_provider.get(f"Condition/{abuse}").status == 404
