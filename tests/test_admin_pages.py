"""Administrators' pages and API: the users list and the audit log."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient

from conftest import sign_in
from healthequity.audit import service as audit_service
from healthequity.auth.models import Role
from healthequity.store import Database

if TYPE_CHECKING:
    from conftest import TestUser

pytestmark = pytest.mark.usefixtures("fast_password_hashing")

MakeUser = Callable[..., "TestUser"]


def test_admin_sees_every_user(client: TestClient, make_user: MakeUser) -> None:
    admin = make_user(Role.ADMIN, organisation="Integrated Care Board")
    clinician = make_user(Role.CLINICIAN, organisation="Riverside Practice")
    sign_in(client, admin)
    page = client.get("/admin/users")
    assert page.status_code == 200
    assert clinician.email in page.text
    assert admin.email in page.text
    assert "Riverside Practice" in page.text
    assert 'href="/admin/users"' in client.get("/").text  # in the admin's navigation


def test_organisation_lead_sees_only_their_organisation(
    client: TestClient, make_user: MakeUser
) -> None:
    lead = make_user(Role.ORG_ADMIN, organisation="Riverside Practice")
    colleague = make_user(Role.CLINICIAN, organisation="Riverside Practice")
    outsider = make_user(Role.CLINICIAN, organisation="Hilltop Practice")
    sign_in(client, lead)
    page = client.get("/admin/users").text
    assert colleague.email in page
    assert outsider.email not in page
    emails = {user["email"] for user in client.get("/api/users").json()}
    assert emails == {lead.email, colleague.email}


def test_clinician_has_no_admin_navigation(client: TestClient, make_user: MakeUser) -> None:
    sign_in(client, make_user(Role.CLINICIAN))
    home = client.get("/").text
    assert 'href="/admin/users"' not in home
    assert 'href="/admin/audit"' not in home
    assert client.get("/admin/audit").status_code == 403


def test_audit_api_lists_events_and_logs_the_reading(
    client: TestClient, database: Database, make_user: MakeUser
) -> None:
    admin = make_user(Role.ADMIN)
    sign_in(client, admin)
    events = client.get("/api/audit/events", params={"action": "login"}).json()
    assert [event["action"] for event in events] == ["login"]
    assert events[0]["user_id"] == admin.user_id
    assert events[0]["request_id"]
    with database.session() as session:
        reads = audit_service.list_events(session, action="audit.read")
    assert len(reads) == 1
    assert reads[0].user_id == admin.user_id
    assert reads[0].purpose == "audit review"


def test_audit_page_shows_newest_first_and_filters(client: TestClient, make_user: MakeUser) -> None:
    admin = make_user(Role.ADMIN)
    sign_in(client, admin)
    page = client.get("/admin/audit").text
    # The admin's sign-in comes before the creation of their account on the page.
    assert page.index('<td class="nhsuk-table__cell">login</td>') < page.index(
        '<td class="nhsuk-table__cell">user.create</td>'
    )
    filtered = client.get("/admin/audit", params={"action": "user.create"}).text
    assert '<td class="nhsuk-table__cell">login</td>' not in filtered
    assert '<td class="nhsuk-table__cell">user.create</td>' in filtered
