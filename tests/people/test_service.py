"""The person service: create, read and find (audited, with why), duplicates, optimistic
locking between two sessions, postcode to LSOA, the care team and who may see a record."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from healthequity.auth.models import Role
from healthequity.people import service
from healthequity.people.exceptions import (
    DuplicateNhsNumber,
    InvalidNhsNumber,
    PersonAccessDenied,
    PersonNotFound,
    StalePersonUpdate,
    UnknownCareTeamUser,
)
from healthequity.people.models import Person, Sex
from healthequity.places.service import load_postcode_directory
from healthequity.store import Database

from .support import (
    OTHER_NHS_NUMBER,
    VALID_NHS_NUMBER,
    add_person,
    context,
    details,
    events,
    load,
    principal,
)

if TYPE_CHECKING:
    from conftest import TestUser

pytestmark = pytest.mark.usefixtures("fast_password_hashing")

MakeUser = Callable[..., "TestUser"]
POSTCODES = Path(__file__).resolve().parents[1] / "data" / "postcodes_sample.csv"


def test_create_and_read_are_audited_with_who_what_and_why(
    database: Database, make_user: MakeUser
) -> None:
    clinician = make_user(Role.CLINICIAN)
    with database.session() as session:
        person = service.create_person(
            session,
            context(clinician),
            details(nhs_number="943 476 5919", communication_needs="Large print"),
            clinician.organisation_id,
        )
        person_id = person.id
        assert person.nhs_number == VALID_NHS_NUMBER
        assert person.version == 1
    with database.session() as session:
        read = service.get_person(session, context(clinician), person_id)
        assert read.full_name == "Ann Smith"
        assert read.nhs_number_formatted == "943 476 5919"

    created, was_read = events(database)
    assert (created.action, was_read.action) == ("person.create", "person.read")
    for event in (created, was_read):
        assert event.user_id == clinician.user_id
        assert event.organisation_id == clinician.organisation_id
        assert (event.subject_type, event.subject_id) == ("person", person_id)
        assert event.purpose == "direct care"
        assert event.request_id == "test"
    fields = json.loads(created.detail or "")["fields"]
    assert {"given_name", "nhs_number", "communication_needs"} <= set(fields)
    # Names of fields only: no personal data goes into the audit log.
    assert "Smith" not in (created.detail or "")
    assert VALID_NHS_NUMBER not in (created.detail or "")

    with database.session() as session:
        service.get_person(session, context(clinician).for_purpose("referral"), person_id)
    assert events(database)[-1].purpose == "referral"


def test_a_missing_person_is_not_found(database: Database) -> None:
    with database.session() as session, pytest.raises(PersonNotFound, match="no person"):
        service.get_person(session, context(), "no-such-id")


def test_find_by_nhs_number_name_and_birth_or_part_of_a_name(
    database: Database, make_user: MakeUser
) -> None:
    clinician = make_user(Role.CLINICIAN)
    org = clinician.organisation_id
    ann = add_person(database, org, nhs_number=VALID_NHS_NUMBER)
    add_person(database, org, given_name="Annabel", family_name="Jones")
    bob = add_person(database, org, given_name="Bob", family_name="Smithson")
    add_person(database, org, given_name="Łucja", family_name="Żak", date_of_birth=date(1990, 5, 6))
    viewer = principal(clinician)

    def names(**criteria: object) -> list[str]:
        with database.session() as session:
            found = service.find_people(session, context(clinician), principal=viewer, **criteria)  # type: ignore[arg-type]
            return [p.full_name for p in found.people]

    assert names(nhs_number="943-476-5919") == ["Ann Smith"]
    assert names(name="smith") == ["Ann Smith", "Bob Smithson"]
    assert names(name="ANN") == ["Annabel Jones", "Ann Smith"]
    assert names(name="ann smi") == ["Ann Smith"]
    assert names(name="smith", date_of_birth=date(1980, 2, 1)) == ["Ann Smith", "Bob Smithson"]
    assert names(name="smith", date_of_birth=date(1980, 2, 2)) == []
    assert names(name="żak") == ["Łucja Żak"]
    assert names(name="ŁUCJA ZAK") == ["Łucja Żak"]  # accents forgiven, case folded
    assert names(name="100%") == []  # wildcards are searched for as typed
    assert names() == []
    with database.session() as session, pytest.raises(InvalidNhsNumber):
        service.find_people(session, context(), nhs_number="943 476 5918")

    search = events(database, "person.search")[-3]  # the search for "żak"
    detail = json.loads(search.detail or "")
    assert detail["by"] == "name"
    assert detail["found"] == 1
    assert "żak" not in (search.detail or "").lower()  # what was typed is not logged
    by_nhs = json.loads(events(database, "person.search")[0].detail or "")
    assert by_nhs == {"by": "nhs_number", "found": 1, "page": 1, "shown": [ann]}
    assert bob in json.loads(events(database, "person.search")[1].detail or "")["shown"]


def test_find_pages_through_many(database: Database, make_user: MakeUser) -> None:
    clinician = make_user(Role.CLINICIAN)
    for number in range(25):
        add_person(database, clinician.organisation_id, family_name=f"Tester{number:02d}")
    with database.session() as session:
        pages = [
            service.find_people(session, context(), name="tester", page=page, page_size=10)
            for page in (1, 2, 3)
        ]
    assert [len(page.people) for page in pages] == [10, 10, 5]
    assert {page.total for page in pages} == {25}
    assert pages[0].pages == 3
    assert pages[1].people[0].family_name == "Tester10"


def test_find_shows_only_the_records_the_viewer_may_see(
    database: Database, make_user: MakeUser
) -> None:
    here = make_user(Role.CLINICIAN, organisation="Here Practice")
    there = make_user(Role.CLINICIAN, organisation="There Practice")
    admin = make_user(Role.ADMIN, organisation="ICB")
    provider_here = make_user(Role.PROVIDER, organisation="Here Practice")
    mine = add_person(database, here.organisation_id, family_name="Holt")
    theirs = add_person(database, there.organisation_id, family_name="Holt")

    def found(user: TestUser) -> set[str]:
        with database.session() as session:
            page = service.find_people(
                session, context(user), principal=principal(user), name="holt"
            )
            return {p.id for p in page.people}

    assert found(here) == {mine}
    assert found(there) == {theirs}
    assert found(admin) == {mine, theirs}
    assert found(provider_here) == set()  # a provider is not the record's care team
    with database.session() as session:
        service.add_care_team_member(session, context(here), mine, provider_here.user_id)
    assert found(provider_here) == {mine}


def test_same_nhs_number_is_a_hard_duplicate(database: Database, make_user: MakeUser) -> None:
    clinician = make_user(Role.CLINICIAN)
    existing = add_person(database, clinician.organisation_id, nhs_number=VALID_NHS_NUMBER)
    same = details(given_name="Anne", family_name="Smyth", nhs_number="943 476 5919")
    with database.session() as session:
        result = service.find_or_create_person(
            session, context(clinician), same, clinician.organisation_id, confirmed=True
        )
        assert result.person is not None
        assert result.person.id == existing
        assert not result.created
        assert [d.kind for d in result.duplicates] == [service.DuplicateKind.NHS_NUMBER]
        assert result.duplicates[0].reason == "has the same NHS number"
    with database.session() as session, pytest.raises(DuplicateNhsNumber, match=existing):
        service.create_person(session, context(), same, clinician.organisation_id)
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Person)) == 1
    check = events(database, "person.duplicate_check")[0]
    assert json.loads(check.detail or "") == {"found": [{"id": existing, "kind": "nhs_number"}]}


def test_same_names_birth_and_postcode_is_a_likely_duplicate_in_any_case_or_spacing(
    database: Database, make_user: MakeUser
) -> None:
    clinician = make_user(Role.CLINICIAN)
    org = clinician.organisation_id
    existing = add_person(database, org, given_name="Mary Ann", family_name="McDonald")
    look_alike = details(given_name="maryann", family_name="MC DONALD", postcode="ls11ur")
    with database.session() as session:
        result = service.find_or_create_person(session, context(), look_alike, org)
        assert result.person is None
        assert not result.created
        assert [(d.person.id, d.kind) for d in result.duplicates] == [
            (existing, service.DuplicateKind.LIKELY)
        ]
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Person)) == 1
        confirmed = service.find_or_create_person(
            session, context(), look_alike, org, confirmed=True
        )
        assert confirmed.created
        assert confirmed.person is not None
        assert len(confirmed.duplicates) == 1
    with database.session() as session:
        for different in (
            details(given_name="Mary Ann", family_name="McDonald", postcode="LS2 7HY"),
            details(given_name="Mary Ann", family_name="McDonald", date_of_birth=date(1981, 2, 1)),
            details(given_name="Mary", family_name="McDonald"),
            details(given_name="Mary Ann", family_name="McDonald", postcode=None),
        ):
            assert service.find_duplicates(session, context(), different) == []


def test_likely_duplicates_compare_letters_beyond_ascii_alike_on_both_databases(
    database: Database, make_user: MakeUser
) -> None:
    clinician = make_user(Role.CLINICIAN)
    existing = add_person(
        database,
        clinician.organisation_id,
        given_name="ŁUKASZ",
        family_name="WÓJCIK",
        postcode=None,
    )
    with database.session() as session:
        found = service.find_duplicates(
            session, context(), details(given_name="łukasz", family_name="wójcik", postcode=None)
        )
    assert [d.person.id for d in found] == [existing]


def test_a_stale_update_from_a_second_session_is_refused_naming_the_record(
    database: Database, make_user: MakeUser
) -> None:
    clinician = make_user(Role.CLINICIAN)
    person_id = add_person(database, clinician.organisation_id)
    first = Session(database.engine, expire_on_commit=False)
    second = Session(database.engine, expire_on_commit=False)
    try:
        # Both read version 1.
        assert first.get(Person, person_id).version == 1  # type: ignore[union-attr]
        assert second.get(Person, person_id).version == 1  # type: ignore[union-attr]
        diff = service.update_person(
            first, context(), person_id, details(phone="0113 496 0001"), expected_version=1
        )
        assert diff == {"phone": [None, "0113 496 0001"]}
        first.commit()
        with pytest.raises(StalePersonUpdate) as raised:
            service.update_person(
                second, context(), person_id, details(given_name="Annie"), expected_version=1
            )
        message = str(raised.value)
        assert person_id in message
        assert "Ann Smith" in message
        assert "you had version 1; it is now at version 2" in message
        assert (raised.value.expected, raised.value.current) == (1, 2)
        second.commit()  # the refused update left the session usable
    finally:
        first.close()
        second.close()
    person = load(database, person_id)
    assert (person.given_name, person.phone, person.version) == ("Ann", "0113 496 0001", 2)
    assert [e.action for e in events(database)] == ["person.create", "person.update"]


def test_two_writers_at_once_from_one_version_never_both_succeed(
    database: Database, make_user: MakeUser
) -> None:
    person_id = add_person(database, make_user(Role.CLINICIAN).organisation_id)
    start = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def write(phone: str) -> None:
        start.wait()
        try:
            with database.session() as session:
                service.update_person(
                    session, context(), person_id, details(phone=phone), expected_version=1
                )
            outcomes[phone] = "saved"
        except StalePersonUpdate:
            outcomes[phone] = "refused"

    writers = [threading.Thread(target=write, args=(f"0113 496 000{n}",)) for n in (1, 2)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=30)
    assert sorted(outcomes.values()) == ["refused", "saved"]
    saved = next(phone for phone, outcome in outcomes.items() if outcome == "saved")
    person = load(database, person_id)
    assert (person.phone, person.version) == (saved, 2)
    assert len(events(database, "person.update")) == 1


def test_update_writes_only_what_changed_and_audits_the_fields(
    database: Database, make_user: MakeUser
) -> None:
    clinician = make_user(Role.CLINICIAN)
    person_id = add_person(database, clinician.organisation_id)
    before = load(database, person_id)
    with database.session() as session:
        nothing = service.update_person(
            session, context(), person_id, details(), expected_version=1
        )
    assert nothing == {}
    assert load(database, person_id).version == 1
    with database.session() as session:
        diff = service.update_person(
            session,
            context(clinician),
            person_id,
            details(sex=Sex.FEMALE, interpreter_needed=True, preferred_language="Polish"),
            expected_version=1,
        )
    assert sorted(diff) == ["interpreter_needed", "preferred_language", "sex"]
    after = load(database, person_id)
    assert after.version == 2
    assert after.updated_at > before.updated_at
    update = events(database, "person.update")[0]
    assert json.loads(update.detail or "") == {
        "fields": ["interpreter_needed", "preferred_language", "sex"]
    }
    with database.session() as session, pytest.raises(StalePersonUpdate):
        service.update_person(session, context(), person_id, details(), expected_version=1)


def test_an_update_to_another_records_nhs_number_is_refused(
    database: Database, make_user: MakeUser
) -> None:
    clinician = make_user(Role.CLINICIAN)
    add_person(database, clinician.organisation_id, nhs_number=VALID_NHS_NUMBER)
    other = add_person(database, clinician.organisation_id, nhs_number=OTHER_NHS_NUMBER)
    with database.session() as session, pytest.raises(DuplicateNhsNumber):
        service.update_person(
            session, context(), other, details(nhs_number=VALID_NHS_NUMBER), expected_version=1
        )


def test_postcode_gives_the_lsoa_when_the_directory_has_it_else_it_says_so(
    database: Database, make_user: MakeUser
) -> None:
    org = make_user(Role.CLINICIAN).organisation_id
    with database.session() as session:
        load_postcode_directory(session, POSTCODES)
    placed = load(database, add_person(database, org, postcode="ls1 1ur"))
    assert (placed.postcode, placed.lsoa21_code, placed.area_note) == (
        "LS1 1UR",
        "E01011264",
        None,
    )
    unknown = load(database, add_person(database, org, postcode="LS99 9ZZ"))
    assert (unknown.postcode, unknown.lsoa21_code) == ("LS99 9ZZ", None)
    assert unknown.area_note is not None
    assert "LS99 9ZZ was not in the postcode directory" in unknown.area_note
    # No LSOA from the postcode: the one given is kept.
    given = load(database, add_person(database, org, postcode="LS99 9ZZ", lsoa21_code="e01011265"))
    assert given.lsoa21_code == "E01011265"
    # The postcode's LSOA wins over the one given.
    both = load(database, add_person(database, org, postcode="LS1 1UR", lsoa21_code="E01011265"))
    assert both.lsoa21_code == "E01011264"
    nowhere = load(database, add_person(database, org, postcode=None))
    assert nowhere.area_note == "No postcode or area is recorded."


def test_who_may_see_a_record(database: Database, make_user: MakeUser) -> None:
    clinician = make_user(Role.CLINICIAN, organisation="Holding Practice")
    link_worker = make_user(Role.LINK_WORKER, organisation="Holding Practice")
    colleague_provider = make_user(Role.PROVIDER, organisation="Holding Practice")
    curator = make_user(Role.CURATOR, organisation="Holding Practice")
    elsewhere = make_user(Role.CLINICIAN, organisation="Other Practice")
    admin = make_user(Role.ADMIN, organisation="Other ICB")
    person_id = add_person(database, clinician.organisation_id)

    def sees(user: TestUser) -> bool:
        with database.session() as session:
            person = session.get(Person, person_id)
            assert person is not None
            return service.can_see_person(principal(user), person)

    assert sees(clinician)
    assert sees(link_worker)
    assert sees(admin)
    assert not sees(colleague_provider)
    assert not sees(curator)
    assert not sees(elsewhere)

    with database.session() as session:
        assert service.add_care_team_member(
            session, context(clinician), person_id, elsewhere.user_id
        )
        assert not service.add_care_team_member(
            session, context(clinician), person_id, elsewhere.user_id
        )
    assert sees(elsewhere)
    with database.session() as session:
        person = session.get(Person, person_id)
        assert person is not None
        team = service.care_team(session, person)
        assert [entry.user.id for entry in team] == [elsewhere.user_id]
        assert team[0].member.added_by_user_id == clinician.user_id
        assert service.remove_care_team_member(
            session, context(clinician), person_id, elsewhere.user_id
        )
        assert not service.remove_care_team_member(
            session, context(clinician), person_id, elsewhere.user_id
        )
    assert not sees(elsewhere)
    assert [e.action for e in events(database) if e.action.startswith("person.care_team")] == [
        "person.care_team.add",
        "person.care_team.remove",
    ]
    with database.session() as session, pytest.raises(UnknownCareTeamUser):
        service.add_care_team_member(session, context(), person_id, 999_999)


def test_get_person_with_a_viewer_refuses_and_audits_a_refusal(
    database: Database, make_user: MakeUser
) -> None:
    holder = make_user(Role.CLINICIAN, organisation="Holding Practice")
    elsewhere = make_user(Role.CLINICIAN, organisation="Other Practice")
    person_id = add_person(database, holder.organisation_id)
    with database.session() as session:
        with pytest.raises(PersonAccessDenied, match="not in the care team"):
            service.get_person(
                session, context(elsewhere), person_id, principal=principal(elsewhere)
            )
        with pytest.raises(PersonAccessDenied):
            service.update_person(
                session,
                context(elsewhere),
                person_id,
                details(given_name="Changed"),
                expected_version=1,
                principal=principal(elsewhere),
            )
    refused = events(database, "person.access_refused")
    assert [(e.user_id, e.subject_id) for e in refused] == [(elsewhere.user_id, person_id)] * 2
    assert load(database, person_id).given_name == "Ann"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"given_name": "  "}, "given_name", "Enter the person's first name"),
        ({"family_name": "x" * 101}, "family_name", "100 characters or fewer"),
        ({"nhs_number": "943 476 5918"}, "nhs_number", "943 476 5918 is not a valid NHS number"),
        ({"nhs_number": "12345"}, "nhs_number", "An NHS number is 10 digits"),
        ({"date_of_birth": date(2999, 1, 1)}, "date_of_birth", "today or in the past"),
        ({"ethnicity_code": "Z"}, "ethnicity_code", "Choose an ethnic group from the list"),
        ({"postcode": "not a postcode"}, "postcode", "Enter a real UK postcode"),
        ({"lsoa21_code": "W01000001"}, "lsoa21_code", "2021 LSOA code in England"),
        ({"interpreter_needed": True}, "preferred_language", "needs an interpreter for"),
        ({"no_telephone": True, "phone": "0113 496 0000"}, "phone", "has no telephone"),
        ({"no_telephone": True, "text_messages_ok": True}, "text_messages_ok", "need a telephone"),
        ({"phone": "12"}, "phone", "Enter a UK phone number"),
        ({"email": "nobody"}, "email", "Enter an email address in the correct format"),
    ],
)
def test_details_name_the_wrong_field_and_what_is_expected(
    changes: dict[str, object], field: str, message: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        details(**changes)
    problems = {str(e["loc"][0]): e["msg"] for e in raised.value.errors()}
    assert list(problems) == [field]
    assert message in problems[field]


def test_details_tidy_what_was_typed() -> None:
    tidy = details(
        given_name=" Ann ",
        nhs_number="943-476-5919",
        postcode="ls11ur",
        phone="",
        email="  ",
        lsoa21_code="",
        no_telephone=True,
    )
    assert (tidy.given_name, tidy.nhs_number, tidy.postcode) == ("Ann", VALID_NHS_NUMBER, "LS1 1UR")
    assert (tidy.phone, tidy.email, tidy.lsoa21_code) == (None, None, None)
    # Not said explicitly: nobody is texted without a telephone.
    assert tidy.stored_values()["text_messages_ok"] is False
