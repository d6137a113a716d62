"""Patient: the person record as a FHIR Patient, found, read and created.

The record is given in the NHS's terms: the NHS number as an identifier of system
https://fhir.nhs.uk/Id/nhs-number; the name, birth date, administrative gender and postcode
(a home address); the preferred language (`communication`, preferred) and the core
`patient-interpreterRequired` extension; and the ethnic group in UK Core's
Extension-UKCore-EthnicCategory. That extension's code system is the NHS Data Dictionary's
(2001 Census) ETHNIC CATEGORY; the record keeps the 2021 Census group, which maps to one
NHS code (Gypsy or Irish Traveller and Roma to C, "Any other White background", Arab to S),
so both codings are given, the Census one in our code system, and a client may send either
(an NHS code alone is read as the broadest Census group it covers).

A provider sees only what it needs to contact the person (name, telephone and email as
they allow, language and interpreter), tagged SUBSETTED.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from fhir.resources.R4B.extension import Extension
from fhir.resources.R4B.patient import Patient
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from healthequity.audit.schemas import AuditContext
from healthequity.auth.schemas import Principal
from healthequity.directory.search import today_in_london
from healthequity.fhir_api.access import shares_with_provider
from healthequity.fhir_api.exceptions import FhirError, Issue, conflict, invalid, not_found
from healthequity.fhir_api.responses import JsonObject, validated
from healthequity.fhir_api.search import SearchQuery
from healthequity.people import service as people
from healthequity.people.ethnicity import ETHNICITIES_BY_CODE
from healthequity.people.exceptions import InvalidNhsNumber
from healthequity.people.models import Person
from healthequity.people.schemas import PersonDetails
from healthequity.social_history.instruments import FHIR_BASE

NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
INTERPRETER_REQUIRED = "http://hl7.org/fhir/StructureDefinition/patient-interpreterRequired"
ETHNIC_CATEGORY = "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-EthnicCategory"
ETHNIC_CATEGORY_ENGLAND = "https://fhir.hl7.org.uk/CodeSystem/UKCore-EthnicCategoryEngland"
CENSUS_2021_ETHNIC_GROUP = f"{FHIR_BASE}/CodeSystem/census-2021-ethnic-group"
SUBSETTED = {
    "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
    "code": "SUBSETTED",
    "display": "subsetted",
}
PROVIDER_PURPOSE = "referral: contacting the person"

# NHS Data Dictionary ETHNIC CATEGORY (UK Core, England), with the 2021 Census groups that
# fall in each; the first is the one an NHS code alone is read as.
NHS_ETHNIC_CATEGORIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "A": ("White - British", ("13",)),
    "B": ("White - Irish", ("14",)),
    "C": ("White - Any other White background", ("17", "15", "16")),
    "D": ("Mixed - White and Black Caribbean", ("11",)),
    "E": ("Mixed - White and Black African", ("10",)),
    "F": ("Mixed - White and Asian", ("9",)),
    "G": ("Mixed - Any other mixed background", ("12",)),
    "H": ("Asian or Asian British - Indian", ("3",)),
    "J": ("Asian or Asian British - Pakistani", ("4",)),
    "K": ("Asian or Asian British - Bangladeshi", ("1",)),
    "L": ("Asian or Asian British - Any other Asian background", ("5",)),
    "M": ("Black or Black British - Caribbean", ("7",)),
    "N": ("Black or Black British - African", ("6",)),
    "P": ("Black or Black British - Any other Black background", ("8",)),
    "R": ("Other Ethnic Groups - Chinese", ("2",)),
    "S": ("Other Ethnic Groups - Any other ethnic group", ("19", "18")),
    # Asked, and chose not to say; and not known (the answer is missing).
    "Z": ("Not stated", ("PNS",)),
    "99": ("Not known", ("NS",)),
}
NHS_CODE_OF_CENSUS_GROUP = {
    census: nhs for nhs, (_display, groups) in NHS_ETHNIC_CATEGORIES.items() for census in groups
}

# Where each field of a person's details comes from in a Patient, to name it in errors.
FIELD_PATHS = {
    "given_name": "Patient.name[0].given",
    "family_name": "Patient.name[0].family",
    "date_of_birth": "Patient.birthDate",
    "nhs_number": f"Patient.identifier.where(system='{NHS_NUMBER_SYSTEM}').value",
    "sex": "Patient.gender",
    "ethnicity_code": f"Patient.extension('{ETHNIC_CATEGORY}')",
    "postcode": "Patient.address.postalCode",
    "interpreter_needed": f"Patient.extension('{INTERPRETER_REQUIRED}')",
    "preferred_language": "Patient.communication.language",
    "phone": "Patient.telecom.where(system='phone')",
    "email": "Patient.telecom.where(system='email')",
}


# The record as a Patient


def _ethnicity(code: str) -> dict[str, Any]:
    nhs_code = NHS_CODE_OF_CENSUS_GROUP[code]
    found = ETHNICITIES_BY_CODE[code]
    return {
        "url": ETHNIC_CATEGORY,
        "valueCodeableConcept": {
            "coding": [
                {
                    "system": ETHNIC_CATEGORY_ENGLAND,
                    "code": nhs_code,
                    "display": NHS_ETHNIC_CATEGORIES[nhs_code][0],
                },
                {"system": CENSUS_2021_ETHNIC_GROUP, "code": code, "display": found.full_label},
            ],
            "text": found.full_label,
        },
    }


def _telecom(person: Person) -> list[dict[str, str]]:
    telecom = []
    if person.phone and not person.no_telephone:
        telecom.append({"system": "phone", "value": person.phone})
    if person.email:
        telecom.append({"system": "email", "value": person.email})
    return telecom


def patient_resource(person: Person, *, minimum: bool = False) -> Patient:
    """The record as a Patient: whole, or (`minimum`) what a provider needs to make contact."""
    meta: dict[str, Any] = {"versionId": str(person.version), "lastUpdated": person.updated_at}
    data: dict[str, Any] = {
        "resourceType": "Patient",
        "id": person.id,
        "meta": {**meta, "tag": [SUBSETTED]} if minimum else meta,
        "name": [
            {
                "use": "official",
                "family": person.family_name,
                "given": person.given_name.split(),
            }
        ],
        "extension": [{"url": INTERPRETER_REQUIRED, "valueBoolean": person.interpreter_needed}],
    }
    if telecom := _telecom(person):
        data["telecom"] = telecom
    if person.preferred_language:
        data["communication"] = [
            {"language": {"text": person.preferred_language}, "preferred": True}
        ]
    if minimum:
        return Patient.model_validate(data)
    if person.nhs_number:
        data["identifier"] = [{"system": NHS_NUMBER_SYSTEM, "value": person.nhs_number}]
    data["gender"] = person.sex.value
    if person.date_of_birth:
        data["birthDate"] = person.date_of_birth
    if person.postcode:
        data["address"] = [{"use": "home", "postalCode": person.postcode}]
    if person.ethnicity_code:
        data["extension"].append(_ethnicity(person.ethnicity_code))
    return Patient.model_validate(data)


# Reading and finding


def read_patient(
    session: Session, context: AuditContext, principal: Principal, person_id: str
) -> Patient:
    """The Patient as the principal may see it; PersonAccessDenied (audited) for someone
    outside the care team with no referral from the person to their service."""
    person = session.get(Person, person_id)
    if person is None:
        raise not_found(f"no Patient has id {person_id!r}")
    if not people.can_see_person(principal, person):
        shared = session.scalar(
            select(Person.id).where(
                Person.id == person_id, shares_with_provider(principal, today_in_london())
            )
        )
        if shared is not None:
            people.get_person(session, context.for_purpose(PROVIDER_PURPOSE), person_id)
            return patient_resource(person, minimum=True)
    return patient_resource(people.get_person(session, context, person_id, principal=principal))


def single(query: SearchQuery, name: str) -> str | None:
    """The one value of a parameter that takes one value (and no alternatives)."""
    occurrences = query.occurrences(name)
    if not occurrences:
        return None
    if len(occurrences) > 1 or len(occurrences[0]) > 1:
        raise invalid(f"{name}: give one value", name, code="not-supported")
    return occurrences[0][0]


def _nhs_number(value: str) -> str:
    system, bar, number = value.rpartition("|")
    if bar and system not in ("", NHS_NUMBER_SYSTEM):
        raise invalid(
            f"identifier system {system!r}: Patients are found by NHS number, "
            f"{NHS_NUMBER_SYSTEM}|<10 digits>",
            "identifier",
        )
    return number


def _birth_date(value: str) -> date:
    try:
        return date.fromisoformat(value.removeprefix("eq"))
    except ValueError:
        raise invalid(
            f"birthdate {value!r}: expected one day, like 1984-03-12", "birthdate"
        ) from None


def search_patients(
    session: Session, context: AuditContext, principal: Principal, query: SearchQuery
) -> tuple[list[Patient], int]:
    """People the principal may see, by NHS number, or by words of the name and the date
    of birth (audited by the people service)."""
    identifier, name, birthdate = (single(query, n) for n in ("identifier", "name", "birthdate"))
    if identifier is None and name is None and birthdate is None:
        raise invalid(
            "search Patients by identifier (NHS number), name or birthdate",
            "identifier",
            code="required",
        )
    try:
        found = people.find_people(
            session,
            context,
            principal=principal,
            nhs_number=_nhs_number(identifier) if identifier else None,
            name=name,
            date_of_birth=_birth_date(birthdate) if birthdate else None,
            page=query.page,
            page_size=max(query.count, 1),
        )
    except InvalidNhsNumber as error:
        raise invalid(str(error), "identifier") from None
    patients = [patient_resource(person) for person in found.people] if query.count else []
    return patients, found.total


# Creating


def _first(items: Sequence[Any] | None, preferred: Any = None) -> Any:
    items = list(items or [])
    return next((item for item in items if preferred and preferred(item)), None) or (
        items[0] if items else None
    )


def _extension(resource: Patient, url: str) -> Extension | None:
    return next((e for e in resource.extension or [] if e.url == url), None)


def _ethnicity_code(extension: Extension) -> str:
    concept = extension.valueCodeableConcept
    codings = concept.coding or [] if concept else []
    for coding in codings:
        if coding.system == CENSUS_2021_ETHNIC_GROUP and coding.code:
            return coding.code
    for coding in codings:
        if coding.system == ETHNIC_CATEGORY_ENGLAND and coding.code in NHS_ETHNIC_CATEGORIES:
            return NHS_ETHNIC_CATEGORIES[coding.code][1][0]
    raise FhirError(
        422,
        Issue(
            "code-invalid",
            f"the ethnic category needs a code of {ETHNIC_CATEGORY_ENGLAND} (one of "
            f"{', '.join(NHS_ETHNIC_CATEGORIES)}) or of {CENSUS_2021_ETHNIC_GROUP} (one of "
            f"{', '.join(ETHNICITIES_BY_CODE)})",
            FIELD_PATHS["ethnicity_code"],
        ),
    )


def _details(resource: Patient) -> PersonDetails:
    """The person's details a Patient gives; 422 naming each element that does not fit."""
    name = _first(resource.name, lambda n: n.use == "official")
    address = _first(resource.address, lambda a: a.use == "home")
    language = _first(resource.communication, lambda c: c.preferred)
    telecom = resource.telecom or []
    phone = _first([t for t in telecom if t.system in ("phone", "sms")])
    email = _first([t for t in telecom if t.system == "email"])
    nhs = _first([i for i in resource.identifier or [] if i.system == NHS_NUMBER_SYSTEM])
    interpreter = _extension(resource, INTERPRETER_REQUIRED)
    ethnicity = _extension(resource, ETHNIC_CATEGORY)
    if resource.birthDate is not None and not isinstance(resource.birthDate, date):
        raise FhirError(
            422,
            Issue("value", "a date of birth needs the day, like 1984-03-12", "Patient.birthDate"),
        )
    spoken = None
    if language is not None and language.language is not None:
        coding = _first(language.language.coding)
        spoken = language.language.text or (coding.display or coding.code if coding else None)
    values = {
        "given_name": " ".join(name.given or []) if name else "",
        "family_name": (name.family or "") if name else "",
        "date_of_birth": resource.birthDate,
        "nhs_number": nhs.value if nhs else None,
        "sex": resource.gender or "unknown",
        "ethnicity_code": _ethnicity_code(ethnicity) if ethnicity else None,
        "postcode": address.postalCode if address else None,
        "interpreter_needed": bool(interpreter and interpreter.valueBoolean),
        "preferred_language": spoken,
        "phone": phone.value if phone else None,
        "email": email.value if email else None,
    }
    try:
        return PersonDetails.model_validate(values)
    except ValidationError as error:
        raise FhirError(
            422,
            [
                Issue("value", str(problem["msg"]), FIELD_PATHS.get(str(problem["loc"][0])))
                for problem in error.errors()
            ],
        ) from None


def create_patient(
    session: Session, context: AuditContext, principal: Principal, data: JsonObject
) -> Patient:
    """A new record held by the caller's organisation. One person, one record: 409 when a
    record has the NHS number already, or when records have the same names, date of birth
    and postcode (create the record on the person pages if this is someone else)."""
    details = _details(validated(Patient, data))
    result = people.find_or_create_person(session, context, details, principal.organisation_id)
    if result.created and result.person is not None:
        return patient_resource(result.person)
    problems = []
    for duplicate in result.duplicates:
        holder = (
            f"Patient/{duplicate.person.id}"
            if people.can_see_person(principal, duplicate.person)
            else f"a record held by {duplicate.person.organisation.name}"
        )
        problems.append(f"{holder} {duplicate.reason}")
    raise conflict(
        "the person has a record already: " + "; ".join(problems),
        FIELD_PATHS["nhs_number"] if result.person is not None else "Patient",
    )
