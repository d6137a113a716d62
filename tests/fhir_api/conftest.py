"""A small world for the FHIR API, on each database: a practice with a clinician, a link
worker and an administrator, and a system token acting for the practice; an advice charity's
provider organisation (linked to its directory organisation) with a system token; a walking
group's provider organisation with its own token; and a directory of their services, made
with the directory's curation functions. Every FHIR answer is checked as it arrives: its
content type, and that it reads as a valid fhir.resources R4B model."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from fhir.resources.R4B import get_fhir_model_class
from httpx import Response

from healthequity.audit.schemas import AuditContext
from healthequity.auth import service as auth_service
from healthequity.auth.models import OrganisationKind, Role
from healthequity.directory import curation
from healthequity.referrals import service as referrals
from healthequity.store import Database

CORE = "https://healthequity.example/fhir/Questionnaire/social-history-core"
NHS_NUMBER = "https://fhir.nhs.uk/Id/nhs-number"
SETUP = AuditContext(purpose="test set-up")


@dataclass(frozen=True)
class Reply:
    """A FHIR answer: its status, headers and JSON, validated as FHIR on arrival."""

    status: int
    headers: Any
    data: dict[str, Any]

    @property
    def entries(self) -> list[dict[str, Any]]:
        assert self.data["resourceType"] == "Bundle", self.data
        return [entry["resource"] for entry in self.data.get("entry", [])]

    @property
    def ids(self) -> list[str]:
        return [resource["id"] for resource in self.entries]

    def issue(self) -> dict[str, Any]:
        assert self.data["resourceType"] == "OperationOutcome", self.data
        first: dict[str, Any] = self.data["issue"][0]
        return first


def checked(response: Response) -> Reply:
    """The response, after checking it is FHIR JSON that fhir.resources reads as valid."""
    assert response.headers["content-type"].startswith("application/fhir+json"), (
        response.status_code,
        response.headers.get("content-type"),
        response.text,
    )
    data = response.json()
    model = get_fhir_model_class(data["resourceType"])
    model.model_validate(data)
    for entry in data.get("entry", []) if data["resourceType"] == "Bundle" else []:
        get_fhir_model_class(entry["resource"]["resourceType"]).model_validate(entry["resource"])
    return Reply(response.status_code, response.headers, data)


class Fhir:
    """A machine client of the FHIR API: every call carries its bearer token."""

    def __init__(self, client: TestClient, token: str) -> None:
        self.client = client
        self.token = token

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **(extra or {})}

    def get(self, path: str, **params: Any) -> Reply:
        return checked(self.client.get(f"/fhir/{path}", params=params, headers=self._headers()))

    def post(self, path: str, resource: dict[str, Any]) -> Reply:
        return checked(
            self.client.post(
                f"/fhir/{path}",
                json=resource,
                headers=self._headers({"Content-Type": "application/fhir+json"}),
            )
        )

    def put(self, path: str, resource: dict[str, Any], version: str | None) -> Reply:
        headers = {"Content-Type": "application/fhir+json"}
        if version is not None:
            headers["If-Match"] = f'W/"{version}"'
        return checked(
            self.client.put(f"/fhir/{path}", json=resource, headers=self._headers(headers))
        )

    def patch(self, path: str, operations: list[dict[str, Any]], version: str | None) -> Reply:
        headers = {"Content-Type": "application/json-patch+json"}
        if version is not None:
            headers["If-Match"] = f'W/"{version}"'
        return checked(
            self.client.patch(f"/fhir/{path}", json=operations, headers=self._headers(headers))
        )


@dataclass(frozen=True)
class World:
    database: Database
    client: TestClient
    clinician_id: int
    link_worker_id: int
    admin_token: Fhir
    practice: Fhir  # the practice's system token (clinician and link worker roles)
    provider: Fhir  # the advice charity's system, linked to its directory organisation
    other_provider: Fhir  # the walking group's system, linked to another organisation
    advice_organization_id: str
    debt_service_id: str
    full_service_id: str
    walking_service_id: str
    walking_organization_id: str


def _token(database: Database, organisation: str, kind: OrganisationKind, *roles: Role) -> str:
    with database.session() as session:
        org = auth_service.ensure_organisation(session, organisation, kind)
        return auth_service.create_api_token(
            session,
            SETUP,
            name=f"{organisation} system ({', '.join(sorted(roles))})",
            organisation=org,
            roles=roles,
        ).secret


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=True) as test_client:
        yield test_client


@pytest.fixture
def world(
    database: Database,
    client: TestClient,
    make_user: Any,
    fast_password_hashing: None,
) -> World:
    clinician = make_user(Role.CLINICIAN, organisation="Test Practice")
    link_worker = make_user(Role.LINK_WORKER, organisation="Test Practice")
    practice = _token(
        database, "Test Practice", OrganisationKind.PRACTICE, Role.CLINICIAN, Role.LINK_WORKER
    )
    admin = _token(database, "Test Practice", OrganisationKind.PRACTICE, Role.ADMIN)
    provider = _token(database, "Leeds Advice Network", OrganisationKind.PROVIDER, Role.PROVIDER)
    other = _token(database, "Leeds Walking Friends", OrganisationKind.PROVIDER, Role.PROVIDER)
    with database.session() as session:
        advice = curation.create_organization(
            session, SETUP, curation.OrganizationEdit(name="Leeds Advice Network")
        )
        walking = curation.create_organization(
            session, SETUP, curation.OrganizationEdit(name="Leeds Walking Friends")
        )
        debt = curation.create_service(
            session,
            SETUP,
            advice.id,
            curation.ServiceEdit(
                name="Debt advice",
                description="Free, confidential debt advice (demonstration record).",
                needs=["debt", "income_benefits", "domestic_abuse"],
            ),
        )
        full = curation.create_service(
            session,
            SETUP,
            advice.id,
            curation.ServiceEdit(
                name="Housing advice",
                description="Housing advice (demonstration record).",
                needs=["housing"],
                accepting_referrals=False,
                accepting_referrals_note="Waiting list full until March",
            ),
        )
        walk = curation.create_service(
            session,
            SETUP,
            walking.id,
            curation.ServiceEdit(
                name="Walking group",
                description="Weekly walks (demonstration record).",
                needs=["social_isolation"],
            ),
        )
        for name, directory_id in (
            ("Leeds Advice Network", advice.id),
            ("Leeds Walking Friends", walking.id),
        ):
            organisation = auth_service.get_organisation(session, name)
            referrals.link_provider(session, SETUP, organisation.id, directory_id)
        ids = (advice.id, debt.id, full.id, walk.id, walking.id)
    return World(
        database,
        client,
        clinician.user_id,
        link_worker.user_id,
        Fhir(client, admin),
        Fhir(client, practice),
        Fhir(client, provider),
        Fhir(client, other),
        *ids,
    )


# Resources as a client sends them


def patient(
    family: str = "Okafor",
    given: str = "Ada",
    nhs_number: str | None = "9434765919",
    **extra: Any,
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "name": [{"use": "official", "family": family, "given": given.split()}],
        "gender": "female",
        "birthDate": "1984-03-12",
        "address": [{"use": "home", "postalCode": "LS1 4AP"}],
        **extra,
    }
    if nhs_number:
        resource["identifier"] = [{"system": NHS_NUMBER, "value": nhs_number}]
    return resource


def answers(person_id: str, practitioner_id: int | None, **by_link_id: Any) -> dict[str, Any]:
    """A completed QuestionnaireResponse to the core social history, flat."""
    items = []
    for link_id, value in by_link_id.items():
        link = link_id.replace("_", "-")
        answer = (
            {"valueBoolean": value} if isinstance(value, bool) else {"valueCoding": {"code": value}}
        )
        items.append({"linkId": link, "answer": [answer]})
    resource: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": CORE,
        "status": "completed",
        "subject": {"reference": f"Patient/{person_id}"},
        "item": items,
    }
    if practitioner_id is not None:
        resource["author"] = {"reference": f"Practitioner/{practitioner_id}"}
    return resource


def consent(person_id: str, service_id: str, practitioner_id: int | None) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Consent",
        "status": "active",
        "scope": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/consentscope",
                    "code": "patient-privacy",
                }
            ]
        },
        "category": [
            {
                "coding": [
                    {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IDSCL"}
                ]
            }
        ],
        "patient": {"reference": f"Patient/{person_id}"},
        "extension": [
            {
                "url": "https://healthequity.example/fhir/StructureDefinition/consent-shared-information",
                "valueString": "Name, telephone number and the need for debt advice",
            }
        ],
        "policyRule": {"text": "So that the advice service can contact them about their debts"},
        "provision": {
            "type": "permit",
            "period": {"end": "2099-12-31"},
            "actor": [
                {
                    "role": {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                                "code": "IRCP",
                            }
                        ]
                    },
                    "reference": {"reference": f"HealthcareService/{service_id}"},
                }
            ],
        },
    }
    if practitioner_id is not None:
        resource["extension"].append(
            {
                "url": "https://healthequity.example/fhir/StructureDefinition/consent-recorded-by",
                "valueReference": {"reference": f"Practitioner/{practitioner_id}"},
            }
        )
    return resource


def service_request(
    person_id: str,
    service_id: str,
    consent_id: str,
    condition_ids: list[str],
    practitioner_id: int | None,
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "status": "active",
        "intent": "order",
        "subject": {"reference": f"Patient/{person_id}"},
        "performer": [{"reference": f"HealthcareService/{service_id}"}],
        "reasonReference": [{"reference": f"Condition/{c}"} for c in condition_ids],
        "supportingInfo": [{"reference": f"Consent/{consent_id}"}],
        "note": [{"text": "Rent arrears and a county court letter; prefers a morning call."}],
    }
    if practitioner_id is not None:
        resource["requester"] = {"reference": f"Practitioner/{practitioner_id}"}
    return resource


@dataclass(frozen=True)
class Referred:
    person_id: str
    need_ids: dict[str, str]  # need code -> Condition id
    consent_id: str
    task_id: str


def refer(
    world: World, *, family: str = "Okafor", nhs_number: str | None = "9434765919", **history: Any
) -> Referred:
    """Through the API: a Patient, their answers, a consent and a referral to debt advice for
    their debt need."""
    person = world.practice.post("Patient", patient(family=family, nhs_number=nhs_number))
    assert person.status == 201, person.data
    person_id = person.data["id"]
    recorded = world.practice.post(
        "QuestionnaireResponse",
        answers(person_id, world.clinician_id, **(history or {"debt": "behind"})),
    )
    assert recorded.status == 201, recorded.data
    conditions = world.practice.get("Condition", patient=person_id)
    need_ids = {c["category"][2]["coding"][0]["code"]: c["id"] for c in conditions.entries}
    given = world.practice.post(
        "Consent", consent(person_id, world.debt_service_id, world.clinician_id)
    )
    assert given.status == 201, given.data
    referred_for = [need_ids[code] for code in ("debt", "domestic_abuse") if code in need_ids]
    sent = world.practice.post(
        "ServiceRequest",
        service_request(
            person_id, world.debt_service_id, given.data["id"], referred_for, world.clinician_id
        ),
    )
    assert sent.status == 201, sent.data
    return Referred(person_id, need_ids, given.data["id"], sent.data["id"])
