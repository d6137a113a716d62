"""Every error of the FHIR API is an OperationOutcome in application/fhir+json, with the
issue's severity, code and diagnostics and the right HTTP status."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from conftest import sign_in
from healthequity.auth.models import Role
from healthequity.fhir_api import questionnaires

from .conftest import World, checked, patient


def test_no_token_is_401_with_a_bearer_challenge(client: TestClient) -> None:
    reply = checked(client.get("/fhir/Patient/abc"))
    assert reply.status == 401
    assert reply.headers["www-authenticate"] == "Bearer"
    assert reply.issue()["severity"] == "error"
    assert reply.issue()["code"] == "login"


def test_a_revoked_or_unknown_token_is_401(client: TestClient) -> None:
    reply = checked(client.get("/fhir/Task", headers={"Authorization": "Bearer he_nonsense"}))
    assert reply.status == 401
    assert "not valid, or was revoked" in reply.issue()["diagnostics"]


def test_a_role_the_route_does_not_allow_is_403(world: World) -> None:
    reply = world.provider.get("QuestionnaireResponse")
    assert reply.status == 403
    assert reply.issue()["code"] == "forbidden"
    assert reply.issue()["diagnostics"] == "this needs one of the roles clinician, link_worker"
    created = world.provider.post("Patient", patient())
    assert created.status == 403


def test_unknown_types_and_interactions_say_what_is_supported(world: World) -> None:
    unknown = world.practice.get("Practitioner/1")
    assert unknown.status == 404
    assert unknown.issue()["code"] == "not-found"
    assert "no resource type 'Practitioner'" in unknown.issue()["diagnostics"]
    assert "Patient, Questionnaire" in unknown.issue()["diagnostics"]
    deleting = checked(
        world.client.delete(
            "/fhir/Patient/abc", headers={"Authorization": f"Bearer {world.practice.token}"}
        )
    )
    assert deleting.status == 405
    assert deleting.issue()["diagnostics"] == (
        "DELETE /fhir/Patient/abc is not supported: Patient supports read, search-type, create"
    )
    history = world.practice.get("Task/abc/_history/1")
    assert history.status == 405


def test_unknown_ids_are_404(world: World) -> None:
    for path in (
        "Patient/nobody",
        "Questionnaire/nothing",
        "Questionnaire/social-history-core/_history/9.9.9",
        "QuestionnaireResponse/none",
        "Observation/none",
        "Condition/none",
        "Consent/none",
        "ServiceRequest/none",
        "Task/none",
    ):
        reply = world.practice.get(path)
        assert reply.status == 404, path
        assert reply.issue()["code"] == "not-found"


def test_a_body_that_is_not_a_fhir_resource_is_400(world: World) -> None:
    headers = {"Authorization": f"Bearer {world.practice.token}"}
    not_json = checked(
        world.client.post(
            "/fhir/Patient",
            content=b"{not json",
            headers={**headers, "Content-Type": "application/fhir+json"},
        )
    )
    assert not_json.status == 400
    assert not_json.issue()["code"] == "structure"
    wrong_type = world.practice.post("Patient", {"resourceType": "Person"})
    assert wrong_type.status == 400
    assert wrong_type.issue()["diagnostics"] == "resourceType is 'Person': expected 'Patient'"
    invalid = world.practice.post("Patient", {**patient(), "birthDate": 12, "colour": "blue"})
    assert invalid.status == 400
    assert {issue["expression"][0] for issue in invalid.data["issue"]} == {
        "Patient.birthDate",
        "Patient.colour",
    }
    form = checked(world.client.post("/fhir/Patient", data={"a": "b"}, headers=headers))
    assert form.status == 415
    assert form.issue()["code"] == "not-supported"


def test_a_bad_search_is_400_naming_the_parameter(world: World) -> None:
    reply = world.practice.get("Task", authored="2026-01-01")
    assert reply.status == 400
    assert reply.issue()["code"] == "not-supported"
    assert reply.issue()["expression"] == ["authored"]
    assert "expected one of _id, patient, status, owner" in reply.issue()["diagnostics"]
    dated = world.practice.get("Observation", date="yesterday")
    assert dated.status == 400
    assert dated.issue()["expression"] == ["date"]
    patients = world.practice.get("Patient")
    assert patients.status == 400
    assert patients.issue()["code"] == "required"


def test_a_signed_in_browser_needs_its_csrf_token(world: World, make_user: object) -> None:

    sign_in(world.client, make_user(Role.CLINICIAN, organisation="Test Practice"))  # type: ignore[operator]
    reply = checked(
        world.client.post(
            "/fhir/Patient", json=patient(), headers={"Content-Type": "application/fhir+json"}
        )
    )
    assert reply.status == 403
    assert "CSRF token" in reply.issue()["diagnostics"]


def test_a_fault_is_a_500_outcome_with_a_reference_and_no_trace(
    world: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_args: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(questionnaires, "search_questionnaires", broken)
    reply = checked(
        world.client.get(
            "/fhir/Questionnaire",
            headers={"Authorization": f"Bearer {world.practice.token}", "X-Request-ID": "ref-42"},
        )
    )
    assert reply.status == 500
    assert reply.issue()["code"] == "exception"
    assert reply.issue()["diagnostics"].endswith("give the support team this reference: ref-42.")
    assert "secret internals" not in str(reply.data)
    assert "secret internals" in caplog.text
