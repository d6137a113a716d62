"""What the FHIR API supports, in one place: each resource type with its interactions and
search parameters. The router serves these, the search reads queries against them, and
`GET /fhir/metadata` publishes them as the CapabilityStatement, so that the statement lists
exactly what is served (a test compares it with the routes)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from fhir.resources.R4B.capabilitystatement import CapabilityStatement

from healthequity import __version__
from healthequity.fhir_api.responses import FHIR_JSON, JSON_PATCH
from healthequity.fhir_api.search import ParamType, SearchParam

# The FHIR version the resources follow (R4). They are validated with fhir.resources' R4B
# models, which are the same as R4's for every resource type served here.
FHIR_VERSION = "4.0.1"
PUBLISHED = "2026-11-22"

TOKEN, REFERENCE, DATE = ParamType.TOKEN, ParamType.REFERENCE, ParamType.DATE
STRING, URI = ParamType.STRING, ParamType.URI


def _id(what: str) -> SearchParam:
    return SearchParam("_id", TOKEN, f"The {what}'s logical id")


def _patient(element: str) -> SearchParam:
    return SearchParam("patient", REFERENCE, f"The person ({element}): Patient/<id> or the id")


@dataclass(frozen=True, slots=True)
class ResourceSupport:
    type: str
    interactions: tuple[str, ...]  # FHIR type-restful-interaction codes
    search: tuple[SearchParam, ...]
    documentation: str
    # Versioning: "versioned-update" when a change must quote the version it was made from.
    versioning: str = "no-version"


SUPPORTED: tuple[ResourceSupport, ...] = (
    ResourceSupport(
        "Patient",
        ("read", "search-type", "create"),
        (
            SearchParam(
                "identifier",
                TOKEN,
                "NHS number: https://fhir.nhs.uk/Id/nhs-number|<10 digits>, or the digits alone",
            ),
            SearchParam(
                "name",
                STRING,
                "Words of the name: each a part of the given or family name, in any "
                "case, accents ignored",
            ),
            SearchParam("birthdate", DATE, "Date of birth: one day, like 1984-03-12"),
        ),
        "The person record. The care team (clinicians and link workers of the organisation "
        "that holds it, and users named in it) read it whole; a provider with a referral for "
        "the person, while its consent lasts, reads the minimum needed to contact them "
        "(meta.tag SUBSETTED). A search needs an NHS number, a name or a date of birth.",
        "versioned",
    ),
    ResourceSupport(
        "Questionnaire",
        ("read", "vread", "search-type"),
        (
            _id("Questionnaire"),
            SearchParam("url", URI, "The canonical url"),
            SearchParam("version", TOKEN, "The business version, like 1.0.0"),
            SearchParam("name", STRING, "The computable name (starts with, any case)"),
            SearchParam("title", STRING, "The title (starts with, any case)"),
            SearchParam("status", TOKEN, "draft, active, retired or unknown"),
        ),
        "The social history instruments. Read gives the latest version; vread "
        "(/_history/<version>) any version; a search finds the latest versions.",
        "versioned",
    ),
    ResourceSupport(
        "QuestionnaireResponse",
        ("read", "search-type", "create"),
        (
            _id("QuestionnaireResponse"),
            _patient("subject"),
            SearchParam(
                "questionnaire", REFERENCE, "The questionnaire: its canonical url[|version]"
            ),
            SearchParam("status", TOKEN, "completed (the only status stored)"),
            SearchParam("authored", DATE, "When the answers were given"),
            SearchParam("date", DATE, "The same as authored"),
        ),
        "Answers to an instrument. Create records them and identifies the needs they show "
        "(then found as Observations and Conditions). For clinical users in the person's "
        "care team only.",
    ),
    ResourceSupport(
        "Observation",
        ("read", "search-type"),
        (
            _id("Observation"),
            _patient("subject"),
            SearchParam(
                "category",
                TOKEN,
                "social-history, sdoh, or a need (https://healthequity.example/fhir/CodeSystem/"
                "need|<code>)",
            ),
            SearchParam(
                "code", TOKEN, "The SNOMED CT finding: http://snomed.info/sct|<concept id>"
            ),
            SearchParam("status", TOKEN, "final (every need's Observation is final)"),
            SearchParam("date", DATE, "When the need was identified (effectiveDateTime)"),
        ),
        "Each identified need as an SDOH Observation of its SNOMED CT finding. Sensitive ones "
        "(domestic abuse, immigration, safeguarding: meta.security R) only for clinical users "
        "in the care team, or the provider of a referral made for that need.",
    ),
    ResourceSupport(
        "Condition",
        ("read", "search-type"),
        (
            _id("Condition"),
            _patient("subject"),
            SearchParam(
                "category",
                TOKEN,
                "health-concern, sdoh, or a need (https://healthequity.example/fhir/CodeSystem/"
                "need|<code>)",
            ),
            SearchParam(
                "code", TOKEN, "The SNOMED CT finding: http://snomed.info/sct|<concept id>"
            ),
            SearchParam("clinical-status", TOKEN, "active or resolved"),
            SearchParam("recorded-date", DATE, "When the need was identified"),
            SearchParam("date", DATE, "The same as recorded-date"),
        ),
        "Each identified need as a health concern, its Observation as evidence; the same "
        "access rules as Observation.",
    ),
    ResourceSupport(
        "Consent",
        ("read", "search-type", "create"),
        (
            _id("Consent"),
            _patient("patient"),
            SearchParam("status", TOKEN, "active or inactive (withdrawn)"),
            SearchParam("date", DATE, "When the consent was recorded"),
        ),
        "The person's consent to share information with the organisation that runs a "
        "directory service, for a purpose, until a date. Create names the service as "
        "provision.actor (role IRCP) HealthcareService/<directory service id>.",
    ),
    ResourceSupport(
        "ServiceRequest",
        ("read", "search-type", "create"),
        (
            _id("ServiceRequest"),
            _patient("subject"),
            SearchParam("status", TOKEN, "draft, active, completed or revoked"),
            SearchParam(
                "performer", REFERENCE, "The directory service: HealthcareService/<id> or the id"
            ),
            SearchParam("authored", DATE, "When the referral was made"),
            SearchParam("date", DATE, "The same as authored"),
        ),
        "A referral to a directory service for some of the person's needs (reasonReference "
        "Conditions), on a Consent (supportingInfo). Its Task (same id) tracks it.",
        "versioned",
    ),
    ResourceSupport(
        "Task",
        ("read", "search-type", "update", "patch"),
        (
            _id("Task"),
            _patient("for"),
            SearchParam(
                "status",
                TOKEN,
                "draft, requested, received, accepted, rejected, in-progress, completed, "
                "cancelled or failed",
            ),
            SearchParam(
                "owner",
                REFERENCE,
                "The provider: Organization/<directory organisation id>, the id, or "
                "owner:identifier=https://healthequity.example/fhir/Id/directory-organization|<id>",
                ("identifier",),
            ),
            SearchParam("focus", REFERENCE, "The ServiceRequest: ServiceRequest/<id> or the id"),
            SearchParam("authored-on", DATE, "When the referral was made"),
            SearchParam("modified", DATE, "When the Task last changed"),
            SearchParam("date", DATE, "The same as authored-on"),
        ),
        "The referral's progress. A provider system (or the referrer) changes status, "
        "statusReason and output with update (PUT) or patch (JSON Patch), quoting the version "
        'it read in If-Match: W/"<version>"; a stale version is refused with 412, a move the '
        "lifecycle does not allow with 409.",
        "versioned-update",
    ),
)

SUPPORT_BY_TYPE: Mapping[str, ResourceSupport] = {item.type: item for item in SUPPORTED}


def search_params(resource_type: str) -> tuple[SearchParam, ...]:
    return SUPPORT_BY_TYPE[resource_type].search


def capability_statement(base: str) -> CapabilityStatement:
    """What this server supports, as FHIR says it: `GET /fhir/metadata`."""
    return CapabilityStatement.model_validate(
        {
            "resourceType": "CapabilityStatement",
            "status": "active",
            "date": PUBLISHED,
            "publisher": "healthequity",
            "kind": "instance",
            "software": {"name": "healthequity", "version": __version__},
            "implementation": {
                "description": "healthequity: social history and closed-loop referral, in "
                "the style of the HL7 Gravity Project SDOH Clinical Care guide",
                "url": base,
            },
            "fhirVersion": FHIR_VERSION,
            "format": [FHIR_JSON],
            "patchFormat": [JSON_PATCH],
            "rest": [
                {
                    "mode": "server",
                    "security": {
                        "description": "Send 'Authorization: Bearer <API token>' (from "
                        "`healthequity tokens create`, scoped to roles), or use a signed-in "
                        "browser session with its CSRF token. Reads of a person's data are "
                        "audited.",
                    },
                    "resource": [_resource(item) for item in SUPPORTED],
                }
            ],
        }
    )


def _resource(item: ResourceSupport) -> dict[str, object]:
    resource: dict[str, object] = {
        "type": item.type,
        "documentation": item.documentation,
        "interaction": [{"code": code} for code in item.interactions],
        "versioning": item.versioning,
        "readHistory": False,
        "updateCreate": False,
        "conditionalCreate": False,
        "conditionalUpdate": False,
        "conditionalDelete": "not-supported",
        "searchParam": [
            {"name": param.name, "type": param.type.value, "documentation": param.documentation}
            for param in item.search
        ],
    }
    return resource
