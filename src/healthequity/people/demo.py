"""Demonstration people in one real local authority (never real people).

Thirty people live in real LSOAs of Leeds (E08000035), three in each IMD 2025 decile, from
the most deprived tenth of England to the least. Everyone is fictional and labelled so:
family names end in " (demo)"; NHS numbers are from the range 999 000 0000 to 999 999 9999,
which is never issued to anyone (each with a valid check digit); phone numbers are in
Ofcom's range reserved for drama (07700 900000 to 900999); email addresses are at a
`.example` domain. No postcode is given: each record names its LSOA instead.

The demo clinician's organisation holds the records, so the demo clinician and link worker
see them all; the demo provider adviser is named in one person's care team.

Loading is deterministic (a seeded random generator, uuid5 ids) and idempotent: a person
already there is left as it is, so loading again creates nothing.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.orm import Session

from healthequity import geography
from healthequity.audit.schemas import AuditContext
from healthequity.auth import demo as auth_demo
from healthequity.auth import service as auth_service
from healthequity.auth.models import Role
from healthequity.people import service
from healthequity.people.ethnicity import NOT_STATED, PREFER_NOT_TO_SAY
from healthequity.people.models import GpRegistration, Person, Sex
from healthequity.people.nhs_number import check_digit
from healthequity.people.schemas import PersonDetails

DEMO_LTLA_CODE = "E08000035"  # Leeds
PEOPLE_PER_DECILE = 3
DEMO_SEED = 20130902
DEMO_SUFFIX = " (demo)"
DRAMA_MOBILE_PREFIX = "07700 900"  # Ofcom: 07700 900000 to 900999, for drama
TEST_NHS_NUMBER_START = 999_000_100  # first nine digits; the range 999... is never issued
_NAMESPACE = uuid.UUID("5f0c2d8e-3b7a-4e49-9a51-6b3f0d1c2e7a")

F, M, X = Sex.FEMALE, Sex.MALE, Sex.OTHER
REG, NOT_REG, UNKNOWN = (
    GpRegistration.REGISTERED,
    GpRegistration.NOT_REGISTERED,
    GpRegistration.UNKNOWN,
)


@dataclass(frozen=True, slots=True)
class DemoPerson:
    given_name: str
    family_name: str
    sex: Sex
    ethnicity_code: str | None
    age: int
    language: str | None = None
    interpreter: bool = False
    communication_needs: str | None = None
    gp: GpRegistration = REG
    has_nhs_number: bool = True
    no_telephone: bool = False
    letters_ok: bool = True


# Thirty people, in the order their LSOAs are dealt out (three to each decile, most
# deprived first).
DEMO_PEOPLE: tuple[DemoPerson, ...] = (
    DemoPerson("Grace", "Okafor", F, "6", 34),
    DemoPerson(
        "Mihai",
        "Lăcătuș",
        M,
        "16",
        41,
        "Romanian",
        True,
        "Reads little English: explain face to face with an interpreter, and check understanding.",
        NOT_REG,
        has_nhs_number=False,
    ),
    DemoPerson("Shauna", "McDonagh", F, "15", 27, gp=UNKNOWN, letters_ok=False),
    DemoPerson(
        "Tomasz",
        "Nowak",
        M,
        "17",
        52,
        "Polish",
        True,
        "Prefers Polish for anything about money or forms.",
    ),
    DemoPerson("Aaliyah", "Hussain", F, "4", 19),
    DemoPerson(
        "Derek",
        "Pickersgill",
        M,
        "13",
        67,
        "British Sign Language",
        True,
        communication_needs="Deaf: uses British Sign Language. Book a BSL interpreter; "
        "contact by text message or letter, never by phone call.",
    ),
    DemoPerson("Fatima", "Begum", F, "1", 45, "Sylheti", True),
    DemoPerson(
        "Kwame",
        "Mensah",
        M,
        "6",
        38,
        "English",
        no_telephone=True,
        communication_needs="No fixed phone: leave messages with the drop-in centre.",
    ),
    DemoPerson(
        "Hawa",
        "Abdi",
        F,
        "8",
        29,
        "Somali",
        True,
        has_nhs_number=False,
        gp=NOT_REG,
    ),
    DemoPerson(
        "Jordan",
        "Whitaker",
        X,
        "13",
        23,
        communication_needs="Autistic: a quiet room and exact appointment times help. "
        "Prefers email.",
    ),
    DemoPerson("Marcia", "Campbell", F, "7", 58),
    DemoPerson("Imran", "Akhtar", M, "4", 33),
    DemoPerson(
        "Edna",
        "Sutcliffe",
        F,
        "13",
        84,
        communication_needs="Has dementia: her daughter helps with appointments. Large "
        "print (18 point) letters.",
    ),
    DemoPerson("Chen", "Wei", M, "2", 31, "Mandarin"),
    DemoPerson("Precious", "Moyo", F, "11", 36),
    DemoPerson("Ahmed", "Al-Sayed", M, "18", 47, "Arabic", True),
    DemoPerson("Siobhan", "Kelly", F, "14", 62),
    DemoPerson(
        "Liam",
        "Brearley",
        M,
        "13",
        16,
        communication_needs="Learning disability: easy read letters and longer "
        "appointments; his foster carer may come too.",
    ),
    DemoPerson("Priya", "Sharma", F, "3", 40),
    DemoPerson("Karol", "Horváth", M, "16", 26, "Slovak", True),
    DemoPerson("Ruth", "Greenwood", F, "13", 71, gp=REG, letters_ok=True),
    DemoPerson("Yusuf", "Demir", M, "19", 55, "Turkish"),
    DemoPerson("Olivia", "Hartley", F, NOT_STATED, 30),
    DemoPerson("Samuel", "Osei", M, "10", 12),
    DemoPerson(
        "Margaret",
        "Illingworth",
        F,
        "13",
        79,
        communication_needs="Partially sighted: large print (18 point) letters; read "
        "anything important aloud.",
    ),
    DemoPerson("Daniel", "Cohen", M, "17", 44),
    DemoPerson("Amara", "Nwosu", F, "12", 25),
    DemoPerson("Harpreet", "Gill", M, "5", 63, "Punjabi"),
    DemoPerson("Eleanor", "Ashworth", F, PREFER_NOT_TO_SAY, 49),
    DemoPerson("George", "Lindqvist", M, "9", 8),
)


def demo_person_id(index: int) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"demo-person-{index}"))


def demo_nhs_numbers(count: int) -> list[str]:
    """NHS numbers of the test range, each with a valid check digit."""
    numbers: list[str] = []
    first_nine = TEST_NHS_NUMBER_START
    while len(numbers) < count:
        digits = f"{first_nine:09d}"
        digit = check_digit(digits)
        if digit is not None:
            numbers.append(f"{digits}{digit}")
        first_nine += 37
    return numbers


def demo_lsoas(rng: random.Random) -> list[str]:
    """Three LSOAs of the authority from each IMD 2025 decile, most deprived first."""
    by_decile: dict[int, list[str]] = {}
    for code in sorted(geography.ltla(DEMO_LTLA_CODE).lsoa21_codes):
        by_decile.setdefault(geography.lsoa(code).iod2025.imd.decile, []).append(code)
    return [
        code
        for decile in sorted(by_decile)
        for code in rng.sample(by_decile[decile], PEOPLE_PER_DECILE)
    ]


def demo_details(today: date) -> list[tuple[str, PersonDetails]]:
    """Each demonstration person's id and details (deterministic, but for their ages)."""
    rng = random.Random(DEMO_SEED)
    lsoas = demo_lsoas(rng)
    numbers = iter(demo_nhs_numbers(len(DEMO_PEOPLE)))
    people: list[tuple[str, PersonDetails]] = []
    for index, (demo, lsoa) in enumerate(zip(DEMO_PEOPLE, lsoas, strict=True)):
        born = today - timedelta(days=365 * demo.age + rng.randrange(365))
        nhs_number = next(numbers) if demo.has_nhs_number else None
        local = "".join(ch for ch in demo.given_name.lower() if ch.isascii() and ch.isalpha())
        details = PersonDetails(
            given_name=demo.given_name,
            family_name=demo.family_name + DEMO_SUFFIX,
            date_of_birth=born,
            nhs_number=nhs_number,
            sex=demo.sex,
            ethnicity_code=demo.ethnicity_code,
            lsoa21_code=lsoa,
            gp_registration=demo.gp,
            interpreter_needed=demo.interpreter,
            preferred_language=demo.language,
            communication_needs=demo.communication_needs,
            no_telephone=demo.no_telephone,
            text_messages_ok=not demo.no_telephone,
            email_ok=True,
            letters_ok=demo.letters_ok,
            phone=None if demo.no_telephone else f"{DRAMA_MOBILE_PREFIX}{100 + index:03d}",
            email=f"{local}.{index + 1}@people.demo.example",
        )
        people.append((demo_person_id(index), details))
    return people


def _demo_user(role: Role) -> auth_demo.DemoUser:
    return next(user for user in auth_demo.DEMO_USERS if role in user.roles)


def load_demo(session: Session, context: AuditContext) -> list[str]:
    """Create the demonstration people that are not there yet; return the lines to print."""
    holder = _demo_user(Role.CLINICIAN).organisation
    kind = auth_demo.DEMO_ORGANISATIONS[holder]
    organisation_id = auth_service.ensure_organisation(session, holder, kind).id
    created = 0
    deciles: Counter[int] = Counter()
    for person_id, details in demo_details(date.today()):
        if details.lsoa21_code:
            deciles[geography.lsoa(details.lsoa21_code).iod2025.imd.decile] += 1
        if session.get(Person, person_id) is not None:
            continue
        service.create_person(session, context, details, organisation_id, person_id=person_id)
        created += 1
    adviser = auth_service.get_user(session, _demo_user(Role.PROVIDER).email)
    service.add_care_team_member(session, context, demo_person_id(0), adviser.id)
    authority = geography.ltla(DEMO_LTLA_CODE)
    by_decile = ", ".join(f"{decile}: {count}" for decile, count in sorted(deciles.items()))
    return [
        f"Demo people: {len(DEMO_PEOPLE)} in {authority.name} ({authority.code}), held by "
        f"{holder} ({created} rows created)",
        f"  by IMD 2025 decile of their LSOA (1 = most deprived): {by_decile}",
    ]
