"""The people API (`/api/people`): find or create, read, search, update with the version
read, the care team; 403 outside the care team, 409 for a stale update or a likely
duplicate, 422 naming the wrong field."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
from fastapi.testclient import TestClient

from conftest import csrf_token, sign_in
from healthequity.auth.models import Role
from healthequity.store import Database
from healthequity.web.security import CSRF_HEADER

from .support import VALID_NHS_NUMBER, add_person, events

if TYPE_CHECKING:
    from conftest import TestUser

pytestmark = pytest.mark.usefixtures("fast_password_hashing")

MakeUser = Callable[..., "TestUser"]
BODY = {
    "given_name": "Ann",
    "family_name": "Smith",
    "date_of_birth": "1980-02-01",
    "postcode": "ls1 1ur",
    "nhs_number": "943 476 5919",
    "communication_needs": "Easy read letters",
}


def _send(client: TestClient, method: str, path: str, body: Any = None) -> Any:
    return client.request(method, path, json=body, headers={CSRF_HEADER: csrf_token(client)})


def test_create_read_search_and_update(
    client: TestClient, database: Database, make_user: MakeUser
) -> None:
    clinician = make_user(Role.CLINICIAN)
    sign_in(client, clinician)
    created = _send(client, "POST", "/api/people", BODY)
    assert created.status_code == 201, created.text
    saved = created.json()
    assert saved["created"] is True
    assert saved["duplicates"] == []
    person = saved["person"]
    assert person["nhs_number"] == VALID_NHS_NUMBER
    assert person["nhs_number_formatted"] == "943 476 5919"
    assert person["postcode"] == "LS1 1UR"
    assert person["lsoa21_code"] is None
    assert "not in the postcode directory" in person["area_note"]
    assert person["organisation_id"] == clinician.organisation_id
    assert person["version"] == 1

    read = client.get(f"/api/people/{person['id']}")
    assert read.status_code == 200
    assert read.json()["communication_needs"] == "Easy read letters"

    by_number = client.get("/api/people", params={"nhs_number": "9434765919"}).json()
    assert [p["id"] for p in by_number["people"]] == [person["id"]]
    by_name = client.get(
        "/api/people", params={"name": "smi", "date_of_birth": "1980-02-01", "page_size": 5}
    ).json()
    assert (by_name["total"], by_name["page_size"]) == (1, 5)
    bad_number = client.get("/api/people", params={"nhs_number": "9434765918"})
    assert bad_number.status_code == 422
    assert bad_number.json()["detail"].startswith("nhs_number: 943 476 5918 is not a valid")

    changed = _send(
        client,
        "PUT",
        f"/api/people/{person['id']}",
        {**BODY, "version": 1, "preferred_language": "Urdu", "interpreter_needed": True},
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["version"], changed.json()["preferred_language"]) == (2, "Urdu")
    stale = _send(client, "PUT", f"/api/people/{person['id']}", {**BODY, "version": 1})
    assert stale.status_code == 409
    assert "changed by someone else" in stale.json()["detail"]
    assert person["id"] in stale.json()["detail"]
    assert client.get(f"/api/people/{person['id']}").json()["preferred_language"] == "Urdu"

    actions = [event.action for event in events(database)]
    assert actions == [
        "person.create",
        "person.read",
        "person.search",
        "person.search",
        "person.update",
        "person.read",
    ]


def test_find_or_create_answers_duplicates(
    client: TestClient, database: Database, make_user: MakeUser
) -> None:
    clinician = make_user(Role.LINK_WORKER)
    sign_in(client, clinician)
    first = _send(client, "POST", "/api/people", BODY).json()["person"]
    same_number = _send(client, "POST", "/api/people", {**BODY, "given_name": "Anne"})
    assert same_number.status_code == 200
    assert same_number.json()["created"] is False
    assert same_number.json()["person"]["id"] == first["id"]
    assert same_number.json()["duplicates"][0]["kind"] == "nhs_number"

    likely = {**BODY, "nhs_number": None, "given_name": "ANN", "postcode": "LS11UR"}
    refused = _send(client, "POST", "/api/people", likely)
    assert refused.status_code == 409
    body = refused.json()
    assert body["person"] is None
    assert [(d["person_id"], d["kind"], d["visible"]) for d in body["duplicates"]] == [
        (first["id"], "likely", True)
    ]
    confirmed = _send(client, "POST", "/api/people", {**likely, "confirm_not_duplicate": True})
    assert confirmed.status_code == 201
    assert confirmed.json()["created"] is True


def test_a_duplicate_held_elsewhere_names_the_holder_only(
    client: TestClient, database: Database, make_user: MakeUser
) -> None:
    holder = make_user(Role.CLINICIAN, organisation="Holding Practice")
    add_person(database, holder.organisation_id, nhs_number=VALID_NHS_NUMBER)
    sign_in(client, make_user(Role.CLINICIAN, organisation="Another Practice"))
    answer = _send(client, "POST", "/api/people", BODY)
    assert answer.status_code == 200
    body = answer.json()
    assert body["person"] is None
    assert body["duplicates"][0]["visible"] is False
    assert body["duplicates"][0]["person"] is None
    assert body["duplicates"][0]["holding_organisation"] == "Holding Practice"


def test_bad_input_names_the_field_and_what_is_expected(
    client: TestClient, make_user: MakeUser
) -> None:
    sign_in(client, make_user(Role.CLINICIAN))
    response = _send(
        client,
        "POST",
        "/api/people",
        {**BODY, "nhs_number": "12345", "ethnicity_code": "X", "shoe_size": 9},
    )
    assert response.status_code == 422
    problems = {tuple(p["loc"]): p["msg"] for p in response.json()["detail"]}
    assert problems[("body", "nhs_number")].startswith("An NHS number is 10 digits")
    assert problems[("body", "ethnicity_code")].startswith("Choose an ethnic group")
    assert ("body", "shoe_size") in problems


def test_the_care_team_decides_who_sees_a_record(
    client: TestClient, database: Database, make_user: MakeUser
) -> None:
    holder = make_user(Role.CLINICIAN, organisation="Holding Practice")
    outsider = make_user(Role.LINK_WORKER, organisation="Community Hub")
    person_id = add_person(database, holder.organisation_id)
    sign_in(client, outsider)
    refused = client.get(f"/api/people/{person_id}")
    assert refused.status_code == 403
    assert "not in the care team" in refused.json()["detail"]
    assert (
        _send(client, "PUT", f"/api/people/{person_id}", {**BODY, "version": 1}).status_code == 403
    )
    assert client.get(f"/api/people/{person_id}/care-team").status_code == 403
    assert client.get("/api/people/no-such-person").status_code == 404

    with TestClient(client.app) as holder_client:
        sign_in(holder_client, holder)
        team = _send(
            holder_client,
            "POST",
            f"/api/people/{person_id}/care-team",
            {"user_id": outsider.user_id},
        )
        assert team.status_code == 200
        assert [m["user_id"] for m in team.json()] == [outsider.user_id]
        unknown = _send(
            holder_client, "POST", f"/api/people/{person_id}/care-team", {"user_id": 999_999}
        )
        assert unknown.status_code == 422
        assert unknown.json()["detail"].startswith("user_id: no active user")
        assert client.get(f"/api/people/{person_id}").status_code == 200
        left = _send(
            holder_client, "DELETE", f"/api/people/{person_id}/care-team/{outsider.user_id}"
        )
        assert left.json() == []
    assert client.get(f"/api/people/{person_id}").status_code == 403
    refusals = events(database, "person.access_refused")
    assert {e.user_id for e in refusals} == {outsider.user_id}
    assert len(refusals) == 4
