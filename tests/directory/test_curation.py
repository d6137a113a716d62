"""Curation: validation naming each wrong field and changing nothing, one RecordChange of the
changed fields only (with an audit event) for a valid edit, locations placed by postcode,
the dashboard's stale, incomplete and duplicate lists, and the curator pages."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from conftest import csrf_token, sign_in
from healthequity.audit.models import AuditEvent
from healthequity.audit.schemas import AuditContext
from healthequity.auth.models import Role
from healthequity.directory import curation
from healthequity.directory.curation import (
    CurationError,
    LocationEdit,
    OpeningTime,
    OrganizationEdit,
    ServiceEdit,
)
from healthequity.directory.models import (
    Address,
    Location,
    Organization,
    Phone,
    RecordChange,
    Service,
    ServiceAtLocation,
)
from healthequity.directory.search import today_in_london
from healthequity.directory.taxonomy import needs_of_service, tag_service_with_needs
from healthequity.places.models import Postcode
from healthequity.store import Database
from healthequity.web.security import CSRF_FIELD

pytestmark = pytest.mark.usefixtures("fast_password_hashing")

TODAY = date(2026, 6, 1)


def seed(database: Database) -> None:
    """Org A runs a complete, reviewed service and a bare one; a look-alike is elsewhere."""
    with database.session() as session:
        session.add_all(
            [
                Organization(id="org-a", name="Advice Leeds"),
                Organization(id="org-b", name="Other Charity"),
            ]
        )
        session.flush()
        session.add_all(
            [
                Service(
                    id="svc-good",
                    organization_id="org-a",
                    name="Debt Advice",
                    description="Free debt advice.",
                    email="debt@example.org",
                    last_reviewed=TODAY - timedelta(days=10),
                ),
                Service(
                    id="svc-bare",
                    organization_id="org-a",
                    name="Food bank",
                    description="",
                    last_reviewed=TODAY - timedelta(days=400),
                ),
                Service(
                    id="svc-twin",
                    organization_id="org-a",
                    name="The debt advice!",
                    email="twin@example.org",
                    last_reviewed=TODAY,
                ),
                Service(
                    id="svc-elsewhere",
                    organization_id="org-b",
                    name="Debt advice",
                    email="b@example.org",
                    last_reviewed=TODAY,
                ),
            ]
        )
        session.add(Location(id="loc-1", name="Hub", latitude=1.0, longitude=1.0))
        session.add(Location(id="loc-2", name="Other hub", latitude=1.0, longitude=1.0))
        session.flush()
        session.add_all(
            [
                Address(
                    id="adr-1", location_id="loc-1", address_1="1 Street", postal_code="LS1 1AA"
                ),
                Address(
                    id="adr-2", location_id="loc-2", address_1="2 Street", postal_code="ls11aa"
                ),
                ServiceAtLocation(id="sal-1", service_id="svc-good", location_id="loc-1"),
                ServiceAtLocation(id="sal-2", service_id="svc-twin", location_id="loc-1"),
                ServiceAtLocation(id="sal-3", service_id="svc-elsewhere", location_id="loc-2"),
                Phone(id="ph-1", service_id="svc-good", number="0113 496 0000"),
            ]
        )
        for sid in ("svc-good", "svc-twin", "svc-elsewhere"):
            tag_service_with_needs(session, session.get_one(Service, sid), ["debt"])


def counts(database: Database) -> tuple[int, int]:
    with database.session() as session:
        changes = session.scalar(
            select(func.count()).select_from(RecordChange).where(RecordChange.source == "curator")
        )
        events = session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action.like("directory.%"))
        )
        return changes or 0, events or 0


@pytest.fixture
def curator(database: Database, make_user):  # type: ignore[no-untyped-def]
    seed(database)
    user = make_user(Role.CURATOR)
    return user, AuditContext(user_id=user.user_id, organisation_id=user.organisation_id)


# Validation


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("0113 496 0000", True),
        ("07700 900982", True),
        ("+44 (0)20 7946 0000", True),
        ("+44 20 7946 0000", True),
        ("111", True),
        ("116 123", True),
        ("12345", True),
        ("0113 496", False),
        ("+1 202 555 0100", False),
        ("call us", False),
    ],
)
def test_phone_numbers(value: str, ok: bool) -> None:
    if ok:
        assert curation.clean_phone(value) == value
    else:
        with pytest.raises(ValueError, match="UK phone number"):
            curation.clean_phone(value)


def test_days_and_clock() -> None:
    assert curation.parse_days("Mon-Fri") == ["MO", "TU", "WE", "TH", "FR"]
    assert curation.parse_days("saturday and Sunday") == ["SA", "SU"]
    assert curation.parse_days("MO, WE,FR") == ["MO", "WE", "FR"]
    assert curation.days_text(["MO", "TU", "WE", "SA"]) == "Mon-Wed, Sat"
    for bad in ("Funday", "Fri-Mon", ""):
        with pytest.raises(ValueError, match="days"):
            curation.parse_days(bad)
    assert curation.parse_clock("9.30") == "09:30"
    with pytest.raises(ValueError, match="24-hour clock"):
        curation.parse_clock("25:00")
    assert curation.normalise_name("The  Debt-Advice & Money!") == "debt advice and money"


def test_invalid_edit_names_each_field_and_changes_nothing(database: Database, curator) -> None:  # type: ignore[no-untyped-def]
    _user, context = curator
    bad = ServiceEdit(
        name="  ",
        email="not an email",
        url="www.example.org",
        phone="12",
        status="gone",
        referral_method="pigeon",
        minimum_age="18",
        maximum_age="16",
        needs=["unicorns"],
        opening_times=[
            OpeningTime("Mon-Fri", "17:00", "09:00"),
            OpeningTime("Funday", "9", "10:00"),
        ],
    )
    with database.session() as session, pytest.raises(CurationError) as raised:
        curation.update_service(session, context, "svc-good", bad)
    assert set(raised.value.errors) == {
        "name",
        "email",
        "url",
        "phone",
        "status",
        "referral_method",
        "maximum_age",
        "needs",
        "opening-1-closes",
        "opening-2-days",
        "opening-2-opens",
    }
    assert "http" in raised.value.errors["url"]
    assert "after the opening time" in raised.value.errors["opening-1-closes"]
    with database.session() as session:
        service = session.get_one(Service, "svc-good")
        assert (service.name, service.email) == ("Debt Advice", "debt@example.org")
        assert needs_of_service(session, "svc-good") == ["debt"]
    assert counts(database) == (0, 0)


def test_valid_edit_writes_one_change_of_the_changed_fields(database: Database, curator) -> None:  # type: ignore[no-untyped-def]
    user, context = curator
    with database.session() as session:
        before_modified = session.get_one(Service, "svc-good").last_modified
    with database.session() as session:
        diff = curation.update_service(
            session,
            context,
            "svc-good",
            ServiceEdit(
                name="Debt Advice",  # unchanged
                description="Free debt advice.",  # unchanged
                email="help@example.org",
                phone="0113 496 0001",
                needs=["debt", "income_benefits"],
                opening_times=[OpeningTime("Mon-Fri", "9:00", "17:00")],
                minimum_age="18",
            ),
        )
    assert diff == {
        "email": ["debt@example.org", "help@example.org"],
        "phone": ["0113 496 0000", "0113 496 0001"],
        "needs": [["debt"], ["income_benefits", "debt"]],  # the vocabulary's order
        "opening_times": [[], ["MO,TU,WE,TH,FR 09:00-17:00"]],
        "minimum_age": [None, 18.0],
    }
    with database.session() as session:
        changes = list(
            session.scalars(select(RecordChange).where(RecordChange.source == "curator"))
        )
        assert len(changes) == 1
        assert (changes[0].entity_type, changes[0].entity_id) == ("service", "svc-good")
        assert changes[0].user_id == user.user_id
        assert json.loads(changes[0].change) == diff
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action.like("directory.%"))
        ).one()
        assert event.action == "directory.service.update"
        assert event.subject_id == "svc-good"
        assert event.user_id == user.user_id
        service = session.get_one(Service, "svc-good")
        assert service.last_modified > before_modified
        assert [(s.byday, s.opens_at, s.closes_at) for s in service.schedules] == [
            ("MO,TU,WE,TH,FR", "09:00", "17:00")
        ]
        assert [p.number for p in service.phones] == ["0113 496 0001"]
    # Saving the same again writes nothing.
    with database.session() as session:
        assert (
            curation.update_service(
                session, context, "svc-good", ServiceEdit(email="help@example.org")
            )
            == {}
        )
    assert counts(database) == (1, 1)


def test_create_and_update_organisation_and_service(database: Database, curator) -> None:  # type: ignore[no-untyped-def]
    _user, context = curator
    with database.session() as session:
        with pytest.raises(CurationError) as raised:
            curation.create_organization(
                session, context, OrganizationEdit(name="", website="ftp://x.org")
            )
        assert set(raised.value.errors) == {"name", "website"}
        organization = curation.create_organization(
            session, context, OrganizationEdit(name="New Trust", email="a@example.org")
        )
        org_id = organization.id
        diff = curation.update_organization(
            session,
            context,
            org_id,
            OrganizationEdit(name="New Trust", website="https://new.example.org"),
        )
        assert diff == {"website": [None, "https://new.example.org"]}
        with pytest.raises(CurationError) as raised:
            curation.create_service(session, context, "no-such-org", ServiceEdit(name=""))
        assert set(raised.value.errors) == {"organization_id", "name"}
        service = curation.create_service(
            session, context, org_id, ServiceEdit(name="Warm space", needs=["social_isolation"])
        )
        assert needs_of_service(session, service.id) == ["social_isolation"]
        sid = service.id
    with database.session() as session:
        actions = list(
            session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.action.like("directory.%"))
                .order_by(AuditEvent.id)
            )
        )
        assert actions == [
            "directory.organization.create",
            "directory.organization.update",
            "directory.service.create",
        ]
        change = json.loads(curation.history(session, "service", sid)[0].change)
        assert change["name"] == [None, "Warm space"]
        assert change["organization_id"] == [None, org_id]


def test_update_location_places_it_by_postcode(database: Database, curator) -> None:  # type: ignore[no-untyped-def]
    _user, context = curator
    with database.session() as session:
        session.add(
            Postcode(postcode="LS2 9JT", lsoa21_code="E01011365", latitude=53.8, longitude=-1.55)
        )
    with database.session() as session:
        with pytest.raises(CurationError) as raised:
            curation.update_location(
                session, context, "loc-1", LocationEdit(postal_code="NOT A CODE", address_1="")
            )
        assert set(raised.value.errors) == {"postal_code", "address_1"}
        result = curation.update_location(
            session, context, "loc-1", LocationEdit(postal_code="ls29jt")
        )
        assert result.warning is None
        assert result.changed == {
            "postal_code": ["LS1 1AA", "LS2 9JT"],
            "latitude": [1.0, 53.8],
            "longitude": [1.0, -1.55],
            "lsoa21_code": [None, "E01011365"],
        }
        unknown = curation.update_location(
            session, context, "loc-2", LocationEdit(postal_code="ZZ9 9ZZ")
        )
        assert unknown.warning is not None
        assert "ZZ9 9ZZ" in unknown.warning
        assert unknown.changed == {"postal_code": ["ls11aa", "ZZ9 9ZZ"]}
        assert (unknown.location.latitude, unknown.location.longitude) == (1.0, 1.0)
    assert counts(database) == (2, 2)


def test_mark_reviewed(database: Database, curator) -> None:  # type: ignore[no-untyped-def]
    user, context = curator
    with database.session() as session:
        curation.mark_reviewed(session, context, "svc-bare", today=TODAY)
    with database.session() as session:
        service = session.get_one(Service, "svc-bare")
        assert service.last_reviewed == TODAY
        assert service.reviewed_by_user_id == user.user_id
        change = json.loads(curation.history(session, "service", "svc-bare")[0].change)
        assert change["last_reviewed"] == [str(TODAY - timedelta(days=400)), str(TODAY)]
        with pytest.raises(curation.RecordNotFound):
            curation.mark_reviewed(session, context, "nope")
    assert counts(database) == (1, 1)


def test_dashboard(database: Database) -> None:
    seed(database)
    with database.session() as session:
        board = curation.curator_dashboard(session, TODAY, stale_after_days=180)
    assert [item.service_id for item in board.stale] == ["svc-bare"]
    assert "400 days" in board.stale[0].detail
    incomplete = {item.service_id: item.detail for item in board.incomplete}
    assert incomplete == {"svc-bare": "Has no phone or email, no location, no need"}
    groups = {
        (group.reason, frozenset(i.service_id for i in group.services))
        for group in board.duplicates
    }
    assert groups == {
        ("Same name in the same organisation", frozenset({"svc-good", "svc-twin"})),
        ("Same name at the same postcode", frozenset({"svc-good", "svc-twin", "svc-elsewhere"})),
    }


# Pages


def _post(client: TestClient, path: str, data: dict[str, object]):  # type: ignore[no-untyped-def]
    return client.post(path, data={CSRF_FIELD: csrf_token(client), **data}, follow_redirects=False)


FORM = {
    "name": "Debt Advice",
    "description": "Free debt advice.",
    "status": "active",
    "email": "debt@example.org",
    "url": "",
    "phone": "0113 496 0000",
    "referral_method": "",
    "accepting_referrals": "yes",
    "accepting_referrals_note": "",
    "minimum_age": "",
    "maximum_age": "",
    "eligibility_description": "",
    "needs": ["debt"],
    "opening-1-days": "",
    "opening-1-opens": "",
    "opening-1-closes": "",
}


def test_editor_keeps_what_was_typed_on_error(
    database: Database, client: TestClient, curator
) -> None:  # type: ignore[no-untyped-def]
    user, _context = curator
    sign_in(client, user)
    page = client.get("/curate/services/svc-good")
    assert page.status_code == 200
    assert 'value="debt@example.org"' in page.text
    assert 'value="0113 496 0000"' in page.text
    typed = {
        **FORM,
        "name": "Debt Advice Plus",
        "email": "nobody-at-example",
        "opening-1-days": "Tue",
        "opening-1-opens": "18:00",
        "opening-1-closes": "10:00",
        "needs": ["debt", "housing"],
    }
    response = _post(client, "/curate/services/svc-good", typed)
    assert response.status_code == 422
    assert "There is a problem" in response.text
    assert 'href="#email"' in response.text
    assert 'href="#opening-1-closes"' in response.text
    assert 'value="Debt Advice Plus"' in response.text
    assert 'value="nobody-at-example"' in response.text
    assert 'value="Tue"' in response.text
    assert 'value="18:00"' in response.text
    assert 'value="housing" checked' in response.text
    with database.session() as session:
        assert session.get_one(Service, "svc-good").name == "Debt Advice"
    assert counts(database) == (0, 0)


def test_editor_saves_then_history_lists_the_change(
    database: Database, client: TestClient, curator
) -> None:  # type: ignore[no-untyped-def]
    user, _context = curator
    sign_in(client, user)
    response = _post(
        client,
        "/curate/services/svc-good",
        {
            **FORM,
            "email": "new@example.org",
            "opening-1-days": "Mon-Fri",
            "opening-1-opens": "09:00",
            "opening-1-closes": "17:00",
        },
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/curate/services/svc-good?saved=1"
    saved = client.get(response.headers["location"])
    assert "saved-banner" in saved.text
    assert 'value="new@example.org"' in saved.text
    assert 'value="Mon-Fri"' in saved.text
    with database.session() as session:
        change = json.loads(session.scalars(select(RecordChange)).one().change)
    assert change == {
        "email": ["debt@example.org", "new@example.org"],
        "opening_times": [[], ["MO,TU,WE,TH,FR 09:00-17:00"]],
    }
    history = client.get("/curate/services/svc-good/history")
    assert history.status_code == 200
    assert "debt@example.org" in history.text
    assert "new@example.org" in history.text
    assert f"Test {user.email}" in history.text

    reviewed = _post(client, "/curate/services/svc-good/review", {})
    assert reviewed.status_code == 303
    assert "Marked as reviewed" in client.get(reviewed.headers["location"]).text
    with database.session() as session:
        assert session.get_one(Service, "svc-good").last_reviewed == today_in_london()
    assert "Last reviewed" in client.get("/curate/services/svc-good/history").text


def test_dashboard_and_new_service_pages(database: Database, client: TestClient, curator) -> None:  # type: ignore[no-untyped-def]
    user, _context = curator
    sign_in(client, user)
    board = client.get("/curate")
    assert board.status_code == 200
    assert 'href="/curate/services/svc-bare"' in board.text
    assert "Possible duplicates (2)" in board.text
    assert client.get("/curate/services/nope").status_code == 404
    assert client.get("/curate/services/new").status_code == 200
    missing = _post(
        client, "/curate/services/new", {**FORM, "name": "Warm space", "organization_id": ""}
    )
    assert missing.status_code == 422
    assert 'href="#organization_id"' in missing.text
    assert 'value="Warm space"' in missing.text
    created = _post(
        client, "/curate/services/new", {**FORM, "name": "Warm space", "organization_id": "org-b"}
    )
    assert created.status_code == 303
    assert "saved-banner" in client.get(created.headers["location"]).text


def test_only_curators_and_admins(database: Database, client: TestClient, make_user) -> None:  # type: ignore[no-untyped-def]
    seed(database)
    sign_in(client, make_user(Role.CLINICIAN, Role.LINK_WORKER, Role.ORG_ADMIN))
    assert client.get("/curate").status_code == 403
    assert client.get("/curate/services/svc-good").status_code == 403
    assert _post(client, "/curate/services/svc-good", FORM).status_code == 403
    assert "Curate directory" not in client.get("/").text
    with TestClient(client.app) as admin:
        sign_in(admin, make_user(Role.ADMIN))
        assert admin.get("/curate").status_code == 200
        assert "Curate directory" in admin.get("/").text
