"""Consent and ServiceRequest over FHIR: the person's consent to share with the organisation
that runs a directory service, and the referral made on it; bad input refused with the
element named; who sees which."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from healthequity.referrals.models import Consent, Referral, ReferralStatus

from .conftest import World, answers, consent, patient, refer, service_request

SHARED = "https://healthequity.example/fhir/StructureDefinition/consent-shared-information"
RECORDED_BY = "https://healthequity.example/fhir/StructureDefinition/consent-recorded-by"
DIRECTORY_SERVICE = "https://healthequity.example/fhir/Id/directory-service"


def screened(world: World) -> tuple[str, str]:
    """A person with a debt need: their id and the need's Condition id."""
    person_id = world.practice.post("Patient", patient()).data["id"]
    world.practice.post(
        "QuestionnaireResponse", answers(person_id, world.clinician_id, debt="behind")
    )
    return person_id, world.practice.get("Condition", patient=person_id).ids[0]


def test_a_consent_is_recorded_and_read(world: World) -> None:
    person_id, _ = screened(world)
    given = world.practice.post(
        "Consent", consent(person_id, world.debt_service_id, world.clinician_id)
    )
    assert given.status == 201
    data = given.data
    assert given.headers["location"].endswith(f"/fhir/Consent/{data['id']}")
    assert (data["status"], data["patient"]) == ("active", {"reference": f"Patient/{person_id}"})
    extensions = {extension["url"]: extension for extension in data["extension"]}
    assert (
        extensions[SHARED]["valueString"] == "Name, telephone number and the need for debt advice"
    )
    assert (
        extensions[RECORDED_BY]["valueReference"]["reference"]
        == f"Practitioner/{world.clinician_id}"
    )
    assert data["organization"][0]["display"] == "Test Practice"
    assert (
        data["policyRule"]["text"]
        == "So that the advice service can contact them about their debts"
    )
    assert data["provision"]["period"]["end"] == "2099-12-31"
    actor = data["provision"]["actor"][0]["reference"]
    assert (actor["identifier"]["value"], actor["display"]) == (
        world.advice_organization_id,
        "Leeds Advice Network",
    )
    assert world.practice.get(f"Consent/{data['id']}").data == data
    assert world.practice.get("Consent", patient=person_id, status="active").ids == [data["id"]]
    assert world.practice.get("Consent", status="inactive").data["total"] == 0
    assert world.practice.get("Consent", date="lt2020").data["total"] == 0
    assert world.provider.get(f"Consent/{data['id']}").status == 403  # a provider's role


def without_extension(resource: dict[str, Any], url: str) -> dict[str, Any]:
    return {**resource, "extension": [e for e in resource["extension"] if e["url"] != url]}


def test_a_consent_that_does_not_fit_is_refused_naming_the_element(world: World) -> None:
    person_id, _ = screened(world)
    good = consent(person_id, world.debt_service_id, world.clinician_id)
    expired = {**good, "provision": {**good["provision"], "period": {"end": "2001-01-01"}}}
    cases: list[tuple[dict[str, Any], str, str]] = [
        (expired, "Consent.provision.period.end", "expires_on: expected today ("),
        (
            {**good, "provision": {**good["provision"], "period": {}}},
            "Consent.provision.period.end",
            "say until when the person agrees",
        ),
        (without_extension(good, SHARED), f"Consent.extension('{SHARED}')", "shared_information"),
        (
            {**good, "provision": {**good["provision"], "actor": []}},
            "Consent.provision.actor",
            "name the directory service",
        ),
        (
            consent(person_id, "no-such-service", world.clinician_id),
            "Consent.provision.actor",
            "no service with id 'no-such-service'",
        ),
        (
            consent("nobody", world.debt_service_id, world.clinician_id),
            "Consent.patient",
            "no person with id 'nobody' among those you can see",
        ),
        ({**good, "status": "proposed"}, "Consent.status", "a consent is recorded as active"),
        (
            without_extension(good, RECORDED_BY),
            f"Consent.extension('{RECORDED_BY}')",
            "name them, like Practitioner/<user id>",
        ),
    ]
    for resource, expression, message in cases:
        refused = world.practice.post("Consent", resource)
        assert refused.status == 422, (expression, refused.data)
        assert refused.issue()["expression"] == [expression]
        assert message in refused.issue()["diagnostics"]
    with world.database.session() as session:
        assert session.scalar(select(Consent.id)) is None


def test_a_referral_is_a_service_request_on_a_consent(world: World) -> None:
    referred = refer(world)
    sent = world.practice.get(f"ServiceRequest/{referred.task_id}")
    data = sent.data
    assert sent.headers["etag"] == 'W/"1"'
    assert (data["status"], data["intent"]) == ("active", "order")
    assert data["subject"] == {"reference": f"Patient/{referred.person_id}"}
    assert data["requester"]["display"] == "Test Practice"
    assert data["performer"] == [
        {
            "type": "HealthcareService",
            "identifier": {"system": DIRECTORY_SERVICE, "value": world.debt_service_id},
            "display": "Debt advice",
        }
    ]
    assert data["reasonReference"] == [{"reference": f"Condition/{referred.need_ids['debt']}"}]
    assert data["supportingInfo"] == [{"reference": f"Consent/{referred.consent_id}"}]
    assert data["note"] == [
        {"text": "Rent arrears and a county court letter; prefers a morning call."}
    ]
    with world.database.session() as session:
        referral = session.get(Referral, referred.task_id)
        assert referral is not None
        assert (referral.status, referral.requester_user_id) == (
            ReferralStatus.REQUESTED,
            world.clinician_id,
        )


def test_a_referral_that_cannot_be_made_is_refused_naming_why(world: World) -> None:
    person_id, need_id = screened(world)
    debt_consent = world.practice.post(
        "Consent", consent(person_id, world.debt_service_id, world.clinician_id)
    ).data["id"]
    walking_consent = world.practice.post(
        "Consent", consent(person_id, world.walking_service_id, world.clinician_id)
    ).data["id"]

    def refused(resource: dict[str, Any], expression: str, message: str) -> None:
        reply = world.practice.post("ServiceRequest", resource)
        assert reply.status == 422, reply.data
        assert reply.issue()["expression"] == [expression]
        assert message in reply.issue()["diagnostics"]

    good = service_request(
        person_id, world.debt_service_id, debt_consent, [need_id], world.clinician_id
    )
    refused(
        service_request(
            person_id, world.full_service_id, debt_consent, [need_id], world.clinician_id
        ),
        "ServiceRequest.performer",
        "Housing advice is not accepting referrals (Waiting list full until March): choose "
        "another service for this need",
    )
    refused(
        service_request(
            person_id, world.debt_service_id, walking_consent, [need_id], world.clinician_id
        ),
        "ServiceRequest.supportingInfo",
        "is to share with Leeds Walking Friends, not with the organisation that runs this service",
    )
    refused({**good, "supportingInfo": []}, "ServiceRequest.supportingInfo", "one supportingInfo")
    refused(
        {**good, "reasonReference": []},
        "ServiceRequest.reasonReference",
        "choose at least one of the person's needs",
    )
    refused({**good, "performer": []}, "ServiceRequest.performer", "name one directory service")
    refused({**good, "intent": "plan"}, "ServiceRequest.intent", "a referral is an order")
    refused({**good, "status": "completed"}, "ServiceRequest.status", "expected active")
    with world.database.session() as session:
        assert session.scalar(select(Referral.id)) is None


def test_service_requests_are_found_and_drafts_stay_with_the_referrer(world: World) -> None:
    referred = refer(world)
    person_id = referred.person_id
    walk_consent = world.practice.post(
        "Consent", consent(person_id, world.walking_service_id, world.clinician_id)
    ).data["id"]
    lonely = world.practice.post(
        "QuestionnaireResponse", answers(person_id, world.clinician_id, lonely="often-or-always")
    )
    assert lonely.status == 201
    lonely_id = world.practice.get(
        "Condition",
        patient=person_id,
        category="https://healthequity.example/fhir/CodeSystem/need|social_isolation",
    ).ids[0]
    draft = service_request(
        person_id, world.walking_service_id, walk_consent, [lonely_id], world.clinician_id
    )
    draft["status"] = "draft"
    draft["category"] = [
        {
            "coding": [
                {
                    "system": "https://healthequity.example/fhir/CodeSystem/referral-kind",
                    "code": "social-prescription",
                }
            ]
        }
    ]
    drafted = world.practice.post("ServiceRequest", draft)
    assert drafted.status == 201
    assert drafted.data["status"] == "draft"
    assert [c["coding"][0]["code"] for c in drafted.data["category"]] == [
        "social_isolation",
        "social-prescription",
    ]
    practice = world.practice
    assert practice.get("ServiceRequest", patient=person_id).ids == [
        drafted.data["id"],
        referred.task_id,
    ]
    assert practice.get("ServiceRequest", status="draft").ids == [drafted.data["id"]]
    assert practice.get("ServiceRequest", status="active,completed").ids == [referred.task_id]
    assert practice.get(
        "ServiceRequest", performer=f"HealthcareService/{world.debt_service_id}"
    ).ids == [referred.task_id]
    assert practice.get("ServiceRequest", authored="lt2000").data["total"] == 0
    # The walking group is not given a draft; the advice charity sees its own referral only.
    assert world.other_provider.get("ServiceRequest").data["total"] == 0
    assert world.other_provider.get(f"ServiceRequest/{drafted.data['id']}").status == 404
    assert world.provider.get("ServiceRequest").ids == [referred.task_id]
