"""Patient over FHIR: created from a Patient with the NHS number, names, date of birth,
gender, postcode, language, interpreter and ethnic category; read whole by the care team
and as the minimum by a provider with a referral while its consent lasts; found by NHS
number, name or date of birth; bad input named field by field; every read audited."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from healthequity.audit.models import AuditEvent
from healthequity.people.models import Person
from healthequity.referrals.models import Consent, ConsentStatus

from .conftest import NHS_NUMBER, World, patient, refer

INTERPRETER = "http://hl7.org/fhir/StructureDefinition/patient-interpreterRequired"
ETHNIC = "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-EthnicCategory"
NHS_ETHNIC = "https://fhir.hl7.org.uk/CodeSystem/UKCore-EthnicCategoryEngland"
CENSUS = "https://healthequity.example/fhir/CodeSystem/census-2021-ethnic-group"


def ethnic_category(system: str, code: str) -> dict[str, Any]:
    return {"url": ETHNIC, "valueCodeableConcept": {"coding": [{"system": system, "code": code}]}}


def roma_speaking_romanian() -> dict[str, Any]:
    return patient(
        family="Lăcătuș",
        given="Mihai Ion",
        nhs_number="943 476 5870",
        gender="male",
        telecom=[
            {"system": "phone", "value": "07700 900123"},
            {"system": "email", "value": "mihai@example.org"},
        ],
        communication=[{"language": {"text": "Romanian"}, "preferred": True}],
        extension=[
            {"url": INTERPRETER, "valueBoolean": True},
            ethnic_category(CENSUS, "16"),
        ],
    )


def test_a_patient_is_created_and_read_back_whole(world: World) -> None:
    created = world.practice.post("Patient", roma_speaking_romanian())
    assert created.status == 201
    person_id = created.data["id"]
    assert created.headers["location"] == f"http://testserver/fhir/Patient/{person_id}"
    assert created.headers["etag"] == 'W/"1"'
    read = world.practice.get(f"Patient/{person_id}")
    assert read.data == created.data
    data = read.data
    assert data["identifier"] == [{"system": NHS_NUMBER, "value": "9434765870"}]
    assert data["name"] == [{"use": "official", "family": "Lăcătuș", "given": ["Mihai", "Ion"]}]
    assert (data["gender"], data["birthDate"]) == ("male", "1984-03-12")
    assert data["address"] == [{"use": "home", "postalCode": "LS1 4AP"}]
    assert data["telecom"] == [
        {"system": "phone", "value": "07700 900123"},
        {"system": "email", "value": "mihai@example.org"},
    ]
    assert data["communication"] == [{"language": {"text": "Romanian"}, "preferred": True}]
    extensions = {extension["url"]: extension for extension in data["extension"]}
    assert extensions[INTERPRETER]["valueBoolean"] is True
    # Roma is a 2021 Census group; the NHS's (2001) categories count it as other White.
    assert extensions[ETHNIC]["valueCodeableConcept"] == {
        "coding": [
            {"system": NHS_ETHNIC, "code": "C", "display": "White - Any other White background"},
            {"system": CENSUS, "code": "16", "display": "White: Roma"},
        ],
        "text": "White: Roma",
    }
    with world.database.session() as session:
        person = session.get(Person, person_id)
        assert person is not None
        assert (person.ethnicity_code, person.preferred_language, person.interpreter_needed) == (
            "16",
            "Romanian",
            True,
        )
        assert person.organisation.name == "Test Practice"
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.subject_id == person_id)
        ).all()
    assert actions == ["person.create", "person.read"]


def test_an_nhs_ethnic_category_alone_is_read_as_the_broadest_census_group(world: World) -> None:
    sent = patient(
        extension=[
            {
                "url": ETHNIC,
                "valueCodeableConcept": {"coding": [{"system": NHS_ETHNIC, "code": "S"}]},
            }
        ]
    )
    created = world.practice.post("Patient", sent)
    coding = next(e for e in created.data["extension"] if e["url"] == ETHNIC)
    assert [c["code"] for c in coding["valueCodeableConcept"]["coding"]] == ["S", "19"]
    unknown = patient(
        nhs_number="9434765870",
        extension=[
            {
                "url": ETHNIC,
                "valueCodeableConcept": {"coding": [{"system": NHS_ETHNIC, "code": "Q"}]},
            }
        ],
    )
    refused = world.practice.post("Patient", unknown)
    assert refused.status == 422
    assert refused.issue()["code"] == "code-invalid"
    assert refused.issue()["expression"] == [f"Patient.extension('{ETHNIC}')"]


def test_bad_details_are_refused_naming_each_element(world: World) -> None:
    sent = patient(
        nhs_number="9434765918",
        given="",
        address=[{"postalCode": "not a postcode"}],
        extension=[{"url": INTERPRETER, "valueBoolean": True}],
    )
    refused = world.practice.post("Patient", sent)
    assert refused.status == 422
    problems = {issue["expression"][0]: issue["diagnostics"] for issue in refused.data["issue"]}
    assert set(problems) == {
        "Patient.name[0].given",
        f"Patient.identifier.where(system='{NHS_NUMBER}').value",
        "Patient.address.postalCode",
        "Patient.communication.language",
    }
    assert problems["Patient.name[0].given"] == "Enter the person's first name"
    assert problems[f"Patient.identifier.where(system='{NHS_NUMBER}').value"].startswith(
        "943 476 5918 is not a valid NHS number: its last digit does not match the others"
    )
    assert problems["Patient.communication.language"] == (
        "Enter the language the person needs an interpreter for"
    )
    partial = world.practice.post("Patient", {**patient(), "birthDate": "1984"})
    assert partial.status == 422
    assert partial.issue()["expression"] == ["Patient.birthDate"]
    with world.database.session() as session:
        assert session.scalar(select(Person.id)) is None


def test_one_person_one_record(world: World) -> None:
    first = world.practice.post("Patient", patient())
    same_number = world.practice.post("Patient", patient(family="Okafor-Smith"))
    assert same_number.status == 409
    assert same_number.issue()["code"] == "conflict"
    assert same_number.issue()["diagnostics"] == (
        f"the person has a record already: Patient/{first.data['id']} has the same NHS number"
    )
    likely = world.practice.post("Patient", patient(nhs_number=None))
    assert likely.status == 409
    assert "has the same name, date of birth and postcode" in likely.issue()["diagnostics"]


def test_patients_are_found_by_nhs_number_name_or_birth_date(world: World) -> None:
    ada = world.practice.post("Patient", patient()).data["id"]
    mihai = world.practice.post("Patient", roma_speaking_romanian()).data["id"]
    assert world.practice.get("Patient", identifier=f"{NHS_NUMBER}|9434765919").ids == [ada]
    assert world.practice.get("Patient", identifier="943 476 5870").ids == [mihai]
    assert world.practice.get("Patient", name="lacatus").ids == [mihai]
    both = world.practice.get("Patient", birthdate="1984-03-12", _count="1")
    assert (both.data["total"], both.ids) == (2, [mihai])  # family name first
    next_page = next(link["url"] for link in both.data["link"] if link["relation"] == "next")
    assert next_page.endswith("/fhir/Patient?birthdate=1984-03-12&_count=1&_page=2")
    assert world.practice.get("Patient", birthdate="1984-03-12", _count="1", _page="2").ids == [ada]
    wrong = world.practice.get("Patient", identifier="https://example.org/mrn|123")
    assert wrong.status == 400
    assert "Patients are found by NHS number" in wrong.issue()["diagnostics"]
    bad = world.practice.get("Patient", identifier="9434765918")
    assert bad.status == 400
    assert bad.issue()["expression"] == ["identifier"]


def test_others_outside_the_care_team_are_refused_and_the_refusal_audited(
    world: World,
) -> None:
    person_id = world.practice.post("Patient", patient()).data["id"]
    refused = world.provider.get(f"Patient/{person_id}")
    assert refused.status == 403
    assert "you are not in the care team" in refused.issue()["diagnostics"]
    assert world.admin_token.get(f"Patient/{person_id}").status == 200
    assert world.admin_token.get("Patient", name="ada").ids == [person_id]
    with world.database.session() as session:
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.subject_id == person_id)
        ).all()
    assert actions == ["person.create", "person.access_refused", "person.read"]


def test_a_provider_sees_the_minimum_while_the_consent_lasts(world: World) -> None:
    referred = refer(world)
    contact = world.provider.get(f"Patient/{referred.person_id}")
    assert contact.status == 200
    assert contact.data["meta"]["tag"] == [
        {
            "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
            "code": "SUBSETTED",
            "display": "subsetted",
        }
    ]
    assert set(contact.data) == {"resourceType", "id", "meta", "name", "extension"}
    # Another provider, with no referral, sees nothing.
    assert world.other_provider.get(f"Patient/{referred.person_id}").status == 403
    with world.database.session() as session:
        consent = session.get(Consent, referred.consent_id)
        assert consent is not None
        consent.status = ConsentStatus.WITHDRAWN
    assert world.provider.get(f"Patient/{referred.person_id}").status == 403
    with world.database.session() as session:
        purposes = session.scalars(
            select(AuditEvent.purpose).where(
                AuditEvent.subject_id == referred.person_id, AuditEvent.action == "person.read"
            )
        ).all()
    assert "referral: contacting the person" in purposes
