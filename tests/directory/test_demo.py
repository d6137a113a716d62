"""The demonstration directory: one real authority, every need, real LSOAs, labelled as
demonstration data, deterministic and idempotent."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from healthequity import geography
from healthequity.audit.models import AuditEvent
from healthequity.audit.schemas import AuditContext
from healthequity.directory import models
from healthequity.directory.demo import DEMO_LTLA_CODE, load_demo, load_demo_directory
from healthequity.directory.models import (
    Address,
    Location,
    Organization,
    Service,
    ServiceStatus,
)
from healthequity.directory.taxonomy import needs_of_service, services_meeting_needs
from healthequity.needs import NEEDS
from healthequity.store import Database

CONTEXT = AuditContext(purpose="demonstration data")
TABLES = (
    models.Organization,
    models.Service,
    models.Location,
    models.Address,
    models.Accessibility,
    models.ServiceAtLocation,
    models.Contact,
    models.Phone,
    models.Schedule,
    models.CostOption,
    models.Language,
    models.ServiceArea,
    models.Funding,
    models.Taxonomy,
    models.TaxonomyTerm,
    models.Attribute,
    models.RecordChange,
)
DRAMA_NUMBER = re.compile(r"^0113 496 0\d{3}$")  # Ofcom's drama range for Leeds


def _counts(session: Session) -> dict[str, int]:
    return {
        table.__tablename__: session.scalar(select(func.count()).select_from(table)) or 0
        for table in TABLES
    }


def test_demo_directory_covers_every_need_in_real_lsoas(database: Database) -> None:
    with database.session() as session:
        lines = load_demo(session, CONTEXT)
    assert lines[0].startswith("Demo directory: 336 services")
    assert "Leeds (E08000035)" in lines[0]

    authority = geography.ltla(DEMO_LTLA_CODE)
    authority_lsoas = set(authority.lsoa21_codes)
    today = date.today()
    with database.session() as session:
        services = list(
            session.scalars(
                select(Service).options(
                    selectinload(Service.service_at_locations),
                    selectinload(Service.schedules),
                    selectinload(Service.phones),
                    selectinload(Service.contacts),
                    selectinload(Service.cost_options),
                )
            )
        )
        assert len(services) >= 300
        for item in NEEDS:
            matching = list(session.scalars(services_meeting_needs([item.code])))
            assert len(matching) >= 10, item.code

        deciles = set()
        for location in session.scalars(select(Location)):
            assert location.lsoa21_code in authority_lsoas
            lsoa = geography.lsoa(location.lsoa21_code)
            assert (location.latitude, location.longitude) == (
                lsoa.interior_point.latitude,
                lsoa.interior_point.longitude,
            )
            deciles.add(lsoa.iod2025.imd.decile)
            assert (location.name or "").endswith(" (demo)")
            assert (location.description or "").startswith("Demonstration record:")
        assert deciles == set(range(1, 11))  # the whole deprivation gradient

        for address in session.scalars(select(Address)):
            assert address.postal_code == ""  # no invented postcodes
            assert address.city == "Leeds"
            assert "LSOA" in (address.address_2 or "")

        for organisation in session.scalars(select(Organization)):
            assert organisation.name.endswith(" (demo)")
            assert organisation.description.startswith("Demonstration record:")
            assert (organisation.email or "").endswith(".example")

        for service in services:
            uuid.UUID(service.id)
            assert service.name.endswith(" (demo)")
            assert service.description.startswith("Demonstration record:")
            assert (service.email or "").endswith(".example")
            assert service.referral_method is not None
            assert service.accepting_referrals_note
            assert service.last_reviewed is not None
            assert today - timedelta(days=400) <= service.last_reviewed <= today
            assert needs_of_service(session, service.id)
            assert len(service.service_at_locations) == 1
            assert service.schedules
            assert service.cost_options
            assert service.contacts
            for schedule in service.schedules:
                assert schedule.freq == "WEEKLY"
                assert schedule.byday
                assert (schedule.opens_at or "") < (schedule.closes_at or "")
            for phone in service.phones:
                assert DRAMA_NUMBER.match(phone.number), phone.number
            for contact in service.contacts:
                assert (contact.email or "").endswith(".example")

        stale = [s for s in services if s.last_reviewed and (today - s.last_reviewed).days > 180]
        fresh = [s for s in services if s.last_reviewed and (today - s.last_reviewed).days <= 180]
        assert stale
        assert len(fresh) > len(stale)
        statuses = [service.status for service in services]
        assert ServiceStatus.INACTIVE in statuses
        assert statuses.count(ServiceStatus.ACTIVE) > 0.9 * len(services)
        assert {service.accepting_referrals for service in services} == {True, False}
        assert any(service.minimum_age is not None for service in services)
        assert any(
            cost.amount is None for service in services for cost in service.cost_options
        )  # mostly free
        assert len({service.name for service in services}) == len(services)
        numbers = [phone.number for phone in session.scalars(select(models.Phone))]
        assert len(set(numbers)) == len(numbers)
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "directory.demo.load")
        )
        assert len(list(events)) == 1


def test_loading_the_demo_twice_changes_nothing(database: Database) -> None:
    with database.session() as session:
        first = load_demo_directory(session, CONTEXT)
    with database.session() as session:
        counts = _counts(session)
        names = sorted(session.scalars(select(Service.name)))
    with database.session() as session:
        second = load_demo_directory(session, CONTEXT)
    assert first.created > 0
    assert (second.created, second.updated) == (0, 0)
    assert second.by_need == first.by_need
    with database.session() as session:
        assert _counts(session) == counts
        assert sorted(session.scalars(select(Service.name))) == names
    assert counts["directory_service"] == first.services >= 300
    assert min(first.by_need.values()) >= 10
    assert set(first.by_need) == {item.code for item in NEEDS}
