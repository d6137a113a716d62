"""The CapabilityStatement at /fhir/metadata says exactly what the API serves: its resource
types and interactions are those of the routes, and every search parameter it lists is
taken by the search of its type."""

from __future__ import annotations

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from fhir.resources.R4B.capabilitystatement import CapabilityStatement

from healthequity.fhir_api.capability import SUPPORTED
from healthequity.fhir_api.router import router
from healthequity.fhir_api.search import ParamType

from .conftest import CORE, World, checked

INTERACTIONS = {
    ("GET", ""): "search-type",
    ("POST", ""): "create",
    ("GET", "/{resource_id}"): "read",
    ("PUT", "/{resource_id}"): "update",
    ("PATCH", "/{resource_id}"): "patch",
    ("GET", "/{resource_id}/_history/{version}"): "vread",
}
REFERENCE_VALUES = {
    "patient": "Patient/someone",
    "questionnaire": CORE,
    "performer": "HealthcareService/svc",
    "owner": "Organization/org",
    "focus": "ServiceRequest/sr",
}
VALUES = {
    ParamType.TOKEN: "final",
    ParamType.DATE: "ge2026-01-01",
    ParamType.STRING: "ada",
    ParamType.URI: CORE,
}


def _served() -> set[tuple[str, str]]:
    served = set()
    for route in router.routes:
        assert isinstance(route, APIRoute)
        resource_type, _, rest = route.path.removeprefix("/fhir/").partition("/")
        if route.name in ("metadata", "fhir_unsupported"):
            continue
        for method in route.methods:
            interaction = INTERACTIONS.get((method, f"/{rest}" if rest else ""))
            if interaction:
                served.add((resource_type, interaction))
    return served


def test_the_statement_lists_exactly_the_interactions_served() -> None:
    declared = {(item.type, code) for item in SUPPORTED for code in item.interactions}
    assert declared == _served()


def test_metadata_is_a_valid_capability_statement_for_anyone(client: TestClient) -> None:
    reply = checked(client.get("/fhir/metadata"))
    assert reply.status == 200
    statement = CapabilityStatement.model_validate(reply.data)
    assert (statement.fhirVersion, statement.kind, statement.format) == (
        "4.0.1",
        "instance",
        ["application/fhir+json"],
    )
    assert statement.patchFormat == ["application/json-patch+json"]
    rest = reply.data["rest"][0]
    assert rest["mode"] == "server"
    assert "Bearer" in rest["security"]["description"]
    resources = {resource["type"]: resource for resource in rest["resource"]}
    assert list(resources) == [
        "Patient",
        "Questionnaire",
        "QuestionnaireResponse",
        "Observation",
        "Condition",
        "Consent",
        "ServiceRequest",
        "Task",
    ]
    task = resources["Task"]
    assert [i["code"] for i in task["interaction"]] == ["read", "search-type", "update", "patch"]
    assert task["versioning"] == "versioned-update"
    assert {p["name"] for p in task["searchParam"]} >= {"patient", "status", "owner", "date"}
    assert reply.data["implementation"]["url"].endswith("/fhir")


@pytest.mark.parametrize(
    ("resource_type", "name", "kind", "modifiers"),
    [
        (item.type, param.name, param.type, param.modifiers)
        for item in SUPPORTED
        for param in item.search
    ],
)
def test_every_listed_search_parameter_is_taken(
    world: World, resource_type: str, name: str, kind: ParamType, modifiers: tuple[str, ...]
) -> None:
    value = REFERENCE_VALUES[name] if kind is ParamType.REFERENCE else VALUES[kind]
    # A Patient is found by NHS number, or by one day of birth.
    value = {"identifier": "9434765919", "birthdate": "1984-03-12"}.get(name, value)
    reply = world.practice.get(resource_type, **{name: value})
    assert reply.status == 200, reply.data
    assert reply.data["type"] == "searchset"
    for modifier in modifiers:
        modified = world.practice.get(resource_type, **{f"{name}:{modifier}": "system|value"})
        assert modified.status == 200, modified.data
