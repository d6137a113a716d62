"""The demonstration people: thirty in real Leeds LSOAs, three in each deprivation decile,
clearly fictional, held by the demo clinician's organisation, and loaded once only."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from healthequity import geography
from healthequity.audit.schemas import AuditContext
from healthequity.auth import demo as auth_demo
from healthequity.auth.models import Organisation, Role
from healthequity.people import demo, service
from healthequity.people.models import Person
from healthequity.people.nhs_number import is_valid_nhs_number
from healthequity.store import Database

CONTEXT = AuditContext(purpose="demonstration data")


def _people(database: Database) -> list[Person]:
    with database.session() as session:
        return list(session.scalars(select(Person).order_by(Person.id)))


def test_demo_people_are_fictional_in_real_lsoas_and_loaded_once(
    database: Database, fast_password_hashing: None
) -> None:
    with database.session() as session:
        auth_demo.load_demo(session, CONTEXT)
        lines = demo.load_demo(session, CONTEXT)
    assert lines[0] == (
        "Demo people: 30 in Leeds (E08000035), held by Demo Health Centre (demonstration) "
        "(30 rows created)"
    )
    people = _people(database)
    assert len(people) == 30
    leeds = set(geography.ltla(demo.DEMO_LTLA_CODE).lsoa21_codes)
    deciles = Counter(
        geography.lsoa(person.lsoa21_code).iod2025.imd.decile
        for person in people
        if person.lsoa21_code in leeds
    )
    assert deciles == {decile: 3 for decile in range(1, 11)}
    numbers = [person.nhs_number for person in people if person.nhs_number]
    assert len(numbers) == len(set(numbers)) == 28  # two have no NHS number
    assert all(n.startswith("999") and is_valid_nhs_number(n) for n in numbers)
    assert all(person.family_name.endswith(" (demo)") for person in people)
    assert all(person.phone is None or person.phone.startswith("07700 900") for person in people)
    assert all(person.email is None or person.email.endswith(".example") for person in people)
    assert {person.ethnicity_code for person in people} >= {
        "15",
        "16",
    }  # Gypsy, Irish Traveller; Roma
    assert any(person.no_telephone for person in people)
    assert any(person.interpreter_needed for person in people)
    with database.session() as session:
        holder = session.scalar(
            select(Organisation).where(Organisation.id == people[0].organisation_id)
        )
        assert holder is not None
        clinician = next(u for u in auth_demo.DEMO_USERS if Role.CLINICIAN in u.roles)
        assert holder.name == clinician.organisation
        assert {person.organisation_id for person in people} == {holder.id}
        first = session.get(Person, demo.demo_person_id(0))
        assert first is not None
        assert len(service.care_team(session, first)) == 1

    with database.session() as session:
        again = demo.load_demo(session, CONTEXT)
    assert again[0].endswith("(0 rows created)")
    assert [(p.id, p.version, p.updated_at) for p in _people(database)] == [
        (p.id, p.version, p.updated_at) for p in people
    ]
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Person)) == 30
