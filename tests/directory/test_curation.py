"""Curation: validation naming each wrong field and changing nothing, one RecordChange of the
changed fields only (with an audit event) for a valid edit, several phone numbers a service,
locations created and placed by postcode, services linked to locations, the dashboard's
stale, incomplete and duplicate lists, and the lists of organisations and imported terms.
The pages are tested in test_curation_pages.py."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from healthequity.audit.models import AuditEvent
from healthequity.audit.schemas import AuditContext
from healthequity.auth.models import Role
from healthequity.directory import curation
from healthequity.directory.curation import (
    CurationError,
    LocationEdit,
    OpeningTime,
    OrganizationEdit,
    PhoneNumber,
    PostcodeNotFound,
    RecordNotFound,
    ServiceEdit,
)
from healthequity.directory.models import (
    Address,
    Attribute,
    Language,
    Location,
    Organization,
    Phone,
    RecordChange,
    Schedule,
    Service,
    ServiceAtLocation,
    Taxonomy,
    TaxonomyTerm,
)
from healthequity.directory.taxonomy import (
    NEEDS_TAXONOMY_ID,
    need_term_id,
    needs_of_service,
    tag_service_with_needs,
)
from healthequity.places.models import Postcode
from healthequity.store import Database

pytestmark = pytest.mark.usefixtures("fast_password_hashing")

TODAY = date(2026, 6, 1)
# A service's phone, with an id late in the order that phones are listed in (by id).
PHONE_ID = "f1e2d3c4-0000-4000-8000-000000000001"


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
                Phone(id=PHONE_ID, service_id="svc-good", number="0113 496 0000"),
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
        phones=[PhoneNumber("12"), PhoneNumber("", "Text only")],
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
        "phone-1-number",
        "phone-2-number",
        "status",
        "referral_method",
        "maximum_age",
        "needs",
        "opening-1-closes",
        "opening-2-days",
        "opening-2-opens",
    }
    assert "http" in raised.value.errors["url"]
    assert "UK phone number" in raised.value.errors["phone-1-number"]
    assert raised.value.errors["phone-2-number"] == (
        "Enter the phone number, or clear its description"
    )
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
                phones=[PhoneNumber("0113 496 0001")],
                needs=["debt", "income_benefits"],
                opening_times=[OpeningTime("Mon-Fri", "9:00", "17:00")],
                minimum_age="18",
            ),
        )
    assert diff == {
        "email": ["debt@example.org", "help@example.org"],
        "phones": [["0113 496 0000"], ["0113 496 0001"]],
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
            OrganizationEdit(
                name="New Trust", alternate_name=" NT ", website="https://new.example.org"
            ),
        )
        assert diff == {
            "alternate_name": [None, "NT"],
            "website": [None, "https://new.example.org"],
        }
        with pytest.raises(CurationError) as raised:
            curation.update_organization(
                session, context, org_id, OrganizationEdit(alternate_name="x" * 301)
            )
        assert set(raised.value.errors) == {"alternate_name"}
        with pytest.raises(RecordNotFound):
            curation.update_organization(session, context, "nope", OrganizationEdit(name="X"))
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


# Phone numbers


def test_a_service_keeps_several_phone_numbers(database: Database, curator) -> None:  # type: ignore[no-untyped-def]
    _user, context = curator
    with database.session() as session:
        phone = session.get_one(Phone, PHONE_ID)
        phone.type = "voice"
        session.add(Language(id="lang-1", service_id="svc-good", phone_id=PHONE_ID, name="Urdu"))
    with database.session() as session:
        diff = curation.update_service(
            session,
            context,
            "svc-good",
            ServiceEdit(
                phones=[
                    PhoneNumber("0113 496 0000", " Main line "),
                    PhoneNumber("0800 123 4567", "Freephone"),
                    PhoneNumber("", ""),  # a blank row of the editor
                    PhoneNumber("07700 900982", "Text only"),
                ]
            ),
        )
    assert diff == {
        "phones": [
            ["0113 496 0000"],
            ["0113 496 0000 (Main line)", "0800 123 4567 (Freephone)", "07700 900982 (Text only)"],
        ]
    }
    with database.session() as session:
        service = session.get_one(Service, "svc-good")
        phones = {p.number: p for p in service.phones}
        assert set(phones) == {"0113 496 0000", "0800 123 4567", "07700 900982"}
        # The number still listed keeps its row: its id, its type and its language.
        assert phones["0113 496 0000"].id == PHONE_ID
        assert phones["0113 496 0000"].type == "voice"
        assert phones["0113 496 0000"].description == "Main line"
        assert phones["0800 123 4567"].description == "Freephone"
        # Numbers added come after those already there, in the order typed.
        assert [str(p) for p in curation.phone_numbers_of(service)] == diff["phones"][1]
        # Saving the same numbers again, even in another order, writes nothing: numbers
        # already there keep their place.
        shown = curation.phone_numbers_of(service)
        for again in (shown, shown[::-1]):
            assert (
                curation.update_service(session, context, "svc-good", ServiceEdit(phones=again))
                == {}
            )
    with database.session() as session:
        typed_first = [
            PhoneNumber("0113 496 0002"),
            *curation.phone_numbers_of(session.get_one(Service, "svc-good")),
        ]
        diff = curation.update_service(
            session, context, "svc-good", ServiceEdit(phones=typed_first)
        )
        assert diff["phones"][1][-1] == "0113 496 0002"
    with database.session() as session:
        diff = curation.update_service(
            session, context, "svc-good", ServiceEdit(phones=[PhoneNumber("0800 1234567")])
        )
        assert diff["phones"][1] == ["0800 1234567"]
    with database.session() as session:
        service = session.get_one(Service, "svc-good")
        assert [(p.number, p.description) for p in service.phones] == [("0800 1234567", None)]
        # The language spoken on the number that went stays, on no number.
        assert session.get_one(Language, "lang-1").phone_id is None
        changes = curation.history(session, "service", "svc-good")
        assert [sorted(json.loads(c.change)) for c in changes] == [["phones"]] * 3
    assert counts(database) == (3, 3)


def test_phone_rows_are_checked_one_by_one(database: Database, curator) -> None:  # type: ignore[no-untyped-def]
    _user, context = curator
    with database.session() as session, pytest.raises(CurationError) as raised:
        curation.update_service(
            session,
            context,
            "svc-good",
            ServiceEdit(
                phones=[
                    PhoneNumber("0113 496 0000"),
                    PhoneNumber("", ""),
                    PhoneNumber("0113 4960000", "Same number"),
                    PhoneNumber("0113 496 0001", "x" * 201),
                ]
            ),
        )
    assert raised.value.errors == {
        "phone-3-number": "This number is listed twice: give each number once",
        "phone-4-description": "must be 200 characters or fewer",
    }
    assert counts(database) == (0, 0)


# Locations


def add_postcodes(database: Database) -> None:
    with database.session() as session:
        session.add_all(
            [
                Postcode(
                    postcode="LS2 9JT", lsoa21_code="E01011365", latitude=53.8, longitude=-1.55
                ),
                Postcode(
                    postcode="LS7 3DT", lsoa21_code="E01011352", latitude=53.82, longitude=-1.53
                ),
            ]
        )


@pytest.mark.parametrize(
    ("latitude", "longitude", "wrong"),
    [
        ("53.8", "-1.55", set()),
        ("-1.55", "53.8", {"latitude", "longitude"}),  # swapped
        ("95", "0", {"latitude"}),
        ("nan", "inf", {"latitude", "longitude"}),
        ("north", "", {"latitude"}),
        ("53.8", "", {"longitude"}),
        ("", "-1.55", {"latitude"}),
    ],
)
def test_map_points_must_be_in_the_uk(
    database: Database, curator, latitude: str, longitude: str, wrong: set[str]
) -> None:  # type: ignore[no-untyped-def]
    _user, context = curator
    edit = LocationEdit(latitude=latitude, longitude=longitude)
    with database.session() as session:
        if not wrong:
            result = curation.update_location(session, context, "loc-1", edit)
            assert result.changed == {"latitude": [1.0, 53.8], "longitude": [1.0, -1.55]}
            return
        with pytest.raises(CurationError) as raised:
            curation.update_location(session, context, "loc-1", edit)
    assert set(raised.value.errors) == wrong
    if "longitude" in wrong and longitude == "":
        assert raised.value.errors["longitude"].startswith("Enter the longitude too")
    elif "latitude" in wrong:
        assert "from 49 to 61 (the UK)" in raised.value.errors["latitude"] or (
            raised.value.errors["latitude"].startswith("Enter the latitude too")
        )


def test_create_location_places_it_and_links_the_service(database: Database, curator) -> None:  # type: ignore[no-untyped-def]
    user, context = curator
    add_postcodes(database)
    with database.session() as session:
        with pytest.raises(CurationError) as raised:
            curation.create_location(session, context, "", LocationEdit(name="Hub"))
        assert raised.value.errors == {
            "service_id": "Choose the service offered at this location",
            "address_1": "Enter the first line of the address",
            "city": "Enter the town or city",
            "postal_code": "Enter the postcode, like LS1 4AP",
        }
        result = curation.create_location(
            session,
            context,
            "svc-bare",
            LocationEdit(
                name="Chapeltown Centre",
                description="Side door.",
                address_1="1 Reginald Terrace",
                city="Leeds",
                postal_code="ls7 3dt",
            ),
        )
        assert result.warning is None
        location_id = result.location.id
        assert result.changed == {
            "name": [None, "Chapeltown Centre"],
            "description": [None, "Side door."],
            "address_1": [None, "1 Reginald Terrace"],
            "city": [None, "Leeds"],
            "postal_code": [None, "LS7 3DT"],
            "latitude": [None, 53.82],
            "longitude": [None, -1.53],
            "lsoa21_code": [None, "E01011352"],
        }
    with database.session() as session:
        location = session.get_one(Location, location_id)
        assert (location.location_type, location.lsoa21_code) == ("physical", "E01011352")
        assert [(a.address_1, a.city, a.postal_code) for a in location.addresses] == [
            ("1 Reginald Terrace", "Leeds", "LS7 3DT")
        ]
        assert [s.id for s in curation.services_at_location(session, location_id)] == ["svc-bare"]
        created, linked = reversed(curation.history(session, "location", location_id))
        assert json.loads(created.change)["id"] == [None, location_id]
        assert json.loads(linked.change) == {"services": [[], ["Food bank"]]}
        assert linked.user_id == user.user_id
        service_change = curation.history(session, "service", "svc-bare")[0]
        assert json.loads(service_change.change) == {"locations": [[], ["Chapeltown Centre"]]}
        actions = list(
            session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.action.like("directory.%"))
                .order_by(AuditEvent.id)
            )
        )
        assert actions == ["directory.location.create", "directory.service_at_location.create"]


def test_an_unknown_postcode_is_refused_unless_allowed(database: Database, curator) -> None:  # type: ignore[no-untyped-def]
    _user, context = curator
    add_postcodes(database)
    edit = LocationEdit(name="Pop-up", address_1="Market", city="Leeds", postal_code="LS99 9ZZ")
    with database.session() as session:
        with pytest.raises(PostcodeNotFound) as raised:
            curation.create_location(
                session, context, "svc-bare", edit, allow_unknown_postcode=False
            )
        assert set(raised.value.errors) == {"postal_code"}
        assert (
            "LS99 9ZZ is not in the loaded postcode directory"
            in (raised.value.errors["postal_code"])
        )
        # With other wrong fields, all are named at once.
        with pytest.raises(PostcodeNotFound) as raised:
            curation.update_location(
                session,
                context,
                "loc-1",
                LocationEdit(city="", postal_code="LS99 9ZZ"),
                allow_unknown_postcode=False,
            )
        assert set(raised.value.errors) == {"city", "postal_code"}
    assert counts(database) == (0, 0)
    with database.session() as session:
        created = curation.create_location(
            session, context, "svc-bare", edit, allow_unknown_postcode=True
        )
        assert created.warning is not None
        assert "LS99 9ZZ" in created.warning
        assert (created.location.latitude, created.location.lsoa21_code) == (None, None)
        location_id = created.location.id
    with database.session() as session:
        # Saving it again unchanged, its postcode still unknown, is no longer an error.
        again = curation.update_location(
            session,
            context,
            location_id,
            LocationEdit(name="Pop-up market", postal_code="LS99 9ZZ", latitude="", longitude=""),
            allow_unknown_postcode=False,
        )
        assert again.changed == {"name": ["Pop-up", "Pop-up market"]}
        assert again.warning is None


def test_a_typed_point_wins_and_an_empty_one_comes_from_the_postcode(
    database: Database, curator
) -> None:  # type: ignore[no-untyped-def]
    _user, context = curator
    add_postcodes(database)
    with database.session() as session:
        hub = session.get_one(Location, "loc-1")
        hub.latitude, hub.longitude = 53.79, -1.54
    with database.session() as session:
        # A new postcode with the point as it was: the point moves to the postcode's.
        moved = curation.update_location(
            session,
            context,
            "loc-1",
            LocationEdit(postal_code="LS2 9JT", latitude="53.79", longitude="-1.54"),
        )
        assert moved.changed["latitude"] == [53.79, 53.8]
        assert moved.changed["lsoa21_code"] == [None, "E01011365"]
        # A new postcode with a point typed: the typed point, the postcode's area.
        typed = curation.update_location(
            session,
            context,
            "loc-1",
            LocationEdit(postal_code="LS7 3DT", latitude="53.81", longitude="-1.54"),
        )
        assert typed.changed == {
            "postal_code": ["LS2 9JT", "LS7 3DT"],
            "latitude": [53.8, 53.81],
            "longitude": [-1.55, -1.54],
            "lsoa21_code": ["E01011365", "E01011352"],
        }
        # The point emptied: from the postcode again.
        emptied = curation.update_location(
            session, context, "loc-1", LocationEdit(latitude="", longitude="")
        )
        assert emptied.changed == {"latitude": [53.81, 53.82], "longitude": [-1.54, -1.53]}
        # Services at the location count as modified when it moves.
        assert session.get_one(Service, "svc-good").last_modified is not None
        with pytest.raises(RecordNotFound):
            curation.update_location(session, context, "nope", LocationEdit(name="X"))


def test_link_and_unlink_services(database: Database, curator) -> None:  # type: ignore[no-untyped-def]
    _user, context = curator
    with database.session() as session:
        session.add(
            Schedule(
                id="sch-at-hub",
                service_at_location_id="sal-1",
                freq="WEEKLY",
                byday="MO",
                opens_at="09:00",
                closes_at="12:00",
            )
        )
        session.add(
            Schedule(
                id="sch-own-at-hub",
                service_id="svc-good",
                service_at_location_id="sal-1",
                freq="WEEKLY",
                byday="TU",
                opens_at="09:00",
                closes_at="12:00",
            )
        )
    with database.session() as session:
        assert curation.link_service_to_location(session, context, "loc-1", "svc-bare") is True
        assert curation.link_service_to_location(session, context, "loc-1", "svc-bare") is False
        with pytest.raises(CurationError) as raised:
            curation.link_service_to_location(session, context, "loc-1", "no-such-service")
        assert raised.value.errors == {"service_id": "Choose a service from the list"}
        with pytest.raises(RecordNotFound):
            curation.link_service_to_location(session, context, "nope", "svc-bare")
    with database.session() as session:
        names = [s.name for s in curation.services_at_location(session, "loc-1")]
        assert names == ["Debt Advice", "Food bank", "The debt advice!"]
        assert curation.unlink_service_from_location(session, context, "loc-1", "svc-good")
        assert not curation.unlink_service_from_location(session, context, "loc-2", "svc-good")
    with database.session() as session:
        assert session.get(ServiceAtLocation, "sal-1") is None
        # The opening times kept for the service at that location went with it.
        assert session.get(Schedule, "sch-at-hub") is None
        assert session.get(Schedule, "sch-own-at-hub") is None
        location_changes = [
            json.loads(c.change) for c in curation.history(session, "location", "loc-1")
        ]
        assert location_changes == [
            {
                "services": [
                    ["Debt Advice", "Food bank", "The debt advice!"],
                    ["Food bank", "The debt advice!"],
                ]
            },
            {
                "services": [
                    ["Debt Advice", "The debt advice!"],
                    ["Debt Advice", "Food bank", "The debt advice!"],
                ]
            },
        ]
        good = json.loads(curation.history(session, "service", "svc-good")[0].change)
        assert good == {
            "locations": [["Hub"], []],
            "opening_times": [["TU 09:00-12:00"], []],
        }
        actions = list(
            session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.action.like("directory.%"))
                .order_by(AuditEvent.id)
            )
        )
        assert actions == [
            "directory.service_at_location.create",
            "directory.service_at_location.delete",
        ]
    assert counts(database) == (4, 2)


# Lists


def seed_terms(database: Database) -> None:
    """An imported taxonomy of three terms: one used by two services, one mapped, one unused."""
    with database.session() as session:
        session.add(Taxonomy(id="tax-lga", name="LGA service types", description=""))
        session.add_all(
            [
                TaxonomyTerm(
                    id="term-debt", code="LGA-1", name="Debt counselling", taxonomy_id="tax-lga"
                ),
                TaxonomyTerm(
                    id="term-food",
                    code="LGA-2",
                    name="Food banks",
                    taxonomy_id="tax-lga",
                    need_code="food",
                ),
                TaxonomyTerm(
                    id="term-pets", code="LGA-3", name="Pet care 100%", taxonomy_id="tax-lga"
                ),
            ]
        )
        session.flush()
        session.add_all(
            [
                Attribute(id=f"att-{sid}", link_id=sid, taxonomy_term_id="term-debt")
                for sid in ("svc-good", "svc-twin")
            ]
        )


def test_imported_terms(database: Database) -> None:
    seed(database)
    seed_terms(database)
    with database.session() as session:
        uses, total = curation.imported_terms(session)
        assert total == 3
        assert [(u.term.id, u.taxonomy_name, u.services) for u in uses] == [
            ("term-debt", "LGA service types", 2),
            ("term-food", "LGA service types", 0),
            ("term-pets", "LGA service types", 0),
        ]
        # The built-in needs terms are not listed, though services use them.
        assert session.get(TaxonomyTerm, need_term_id("debt")) is not None
        assert all(u.term.taxonomy_id != NEEDS_TAXONOMY_ID for u in uses)
        unmapped, total = curation.imported_terms(session, unmapped_only=True)
        assert ([u.term.id for u in unmapped], total) == (["term-debt", "term-pets"], 2)
        found, total = curation.imported_terms(session, text="lga-2")
        assert ([u.term.id for u in found], total) == (["term-food"], 1)
        # LIKE wildcards are taken literally.
        found, _total = curation.imported_terms(session, text="100%")
        assert [u.term.id for u in found] == ["term-pets"]
        page, total = curation.imported_terms(session, offset=2, limit=2)
        assert ([u.term.id for u in page], total) == (["term-pets"], 3)


def test_find_organizations_and_their_records(database: Database) -> None:
    seed(database)
    with database.session() as session:
        session.get_one(Organization, "org-b").alternate_name = "OC_2"
        found, total = curation.find_organizations(session)
        assert total == 2
        assert [(o.organization.id, o.services) for o in found] == [("org-a", 3), ("org-b", 1)]
        assert [o.organization.id for o in curation.find_organizations(session, "LEEDS")[0]] == [
            "org-a"
        ]
        assert [o.organization.id for o in curation.find_organizations(session, "oc_")[0]] == [
            "org-b"
        ]
        assert curation.find_organizations(session, "o_c") == ([], 0)
        page, total = curation.find_organizations(session, offset=1, limit=1)
        assert ([o.organization.id for o in page], total) == (["org-b"], 2)
        records = curation.organization_records(session, "org-a")
        assert [s.id for s in records.services] == ["svc-good", "svc-bare", "svc-twin"]
        assert [loc.id for loc in records.locations] == ["loc-1"]
        with pytest.raises(RecordNotFound):
            curation.organization_records(session, "nope")
