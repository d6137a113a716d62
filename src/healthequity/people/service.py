"""The person record: create, read, find, update (with optimistic locking), find-or-create
with duplicate warnings, the care team, and who may see a record.

Every read and every change appends an audit event (who and from where come from the
`AuditContext`; why is its purpose, "direct care" unless the caller gives another; what is
the action, the person's id and the names of the fields concerned, never their values).

Other capabilities use this module, not the person table: `get_person` (with the viewer as
`principal`, it also refuses a viewer outside the care team), `can_see_person` (and
`visible_to`, the same rule as a condition for queries), `create_person` and `find_people`.
"""

from __future__ import annotations

import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, false, func, or_, select, true, update
from sqlalchemy.orm import Session

from healthequity.audit.schemas import AuditContext
from healthequity.audit.service import record_event
from healthequity.auth.models import Role, User
from healthequity.auth.schemas import Principal
from healthequity.geography import GeographyError
from healthequity.people.exceptions import (
    DuplicateNhsNumber,
    PersonAccessDenied,
    PersonNotFound,
    StalePersonUpdate,
    UnknownCareTeamUser,
)
from healthequity.people.models import CareTeamMember, Person
from healthequity.people.nhs_number import normalise_nhs_number
from healthequity.people.schemas import PersonDetails
from healthequity.places.service import postcode_to_lsoa

DEFAULT_PURPOSE = "direct care"
SUBJECT_TYPE = "person"
# Users of the holding organisation with these roles are its care team without being named.
CLINICAL_ROLES = frozenset({Role.CLINICIAN, Role.LINK_WORKER})
PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


def _why(context: AuditContext) -> AuditContext:
    return context if context.purpose else context.for_purpose(DEFAULT_PURPOSE)


def _audit(
    session: Session,
    context: AuditContext,
    action: str,
    person_id: str | None,
    detail: dict[str, Any] | None = None,
) -> None:
    record_event(
        session,
        _why(context),
        f"person.{action}",
        subject_type=SUBJECT_TYPE,
        subject_id=person_id,
        detail=detail,
    )


# Who may see a record.


def can_see_person(principal: Principal, person: Person) -> bool:
    """Whether the principal may see the person's record: an administrator; a clinician or
    link worker of the organisation that holds it; or a user named in its care team."""
    if Role.ADMIN in principal.roles:
        return True
    if person.organisation_id == principal.organisation_id and principal.has_any_role(
        CLINICAL_ROLES
    ):
        return True
    return principal.user_id is not None and any(
        member.user_id == principal.user_id for member in person.care_team
    )


def _visible_to(principal: Principal) -> ColumnElement[bool]:
    """`can_see_person` as a condition on the person table."""
    if Role.ADMIN in principal.roles:
        return true()
    conditions: list[ColumnElement[bool]] = []
    if principal.has_any_role(CLINICAL_ROLES):
        conditions.append(Person.organisation_id == principal.organisation_id)
    if principal.user_id is not None:
        conditions.append(
            Person.id.in_(
                select(CareTeamMember.person_id).where(CareTeamMember.user_id == principal.user_id)
            )
        )
    return or_(*conditions) if conditions else false()


def visible_to(principal: Principal) -> ColumnElement[bool]:
    """`can_see_person` as a condition on the person table, for other capabilities' queries."""
    return _visible_to(principal)


# Reading.


def get_person(
    session: Session,
    context: AuditContext,
    person_id: str,
    *,
    principal: Principal | None = None,
) -> Person:
    """The person with this id, audited as read.

    With `principal` (the viewer), a viewer who may not see the record gets
    PersonAccessDenied, and the refusal is audited. PersonNotFound if there is no such id.
    """
    person = session.get(Person, person_id)
    if person is None:
        raise PersonNotFound(person_id)
    if principal is not None and not can_see_person(principal, person):
        _audit(session, context, "access_refused", person.id)
        raise PersonAccessDenied(person.id)
    _audit(session, context, "read", person.id)
    return person


class SearchBy(StrEnum):
    NHS_NUMBER = "nhs_number"
    NAME_AND_DATE_OF_BIRTH = "name_and_date_of_birth"
    NAME = "name"
    DATE_OF_BIRTH = "date_of_birth"


@dataclass(frozen=True, slots=True)
class PersonPage:
    """One page of people found, and how many were found in all."""

    people: list[Person]
    total: int
    page: int
    page_size: int
    by: SearchBy | None

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def search_key(text: str) -> str:
    """Text as names are searched and compared: case-folded, accents dropped ("Lăcătuș"
    is found by "lacatus"), single spaces."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def _name_key(given_name: str, family_name: str) -> str:
    return search_key(f"{given_name} {family_name}")


def find_people(
    session: Session,
    context: AuditContext,
    *,
    principal: Principal | None = None,
    nhs_number: str | None = None,
    name: str | None = None,
    date_of_birth: date | None = None,
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> PersonPage:
    """People by NHS number; or by name (each word part of a name, in any case, accents
    ignored) with or without the date of birth; family name first, one page at a time.

    With `principal`, only the records that viewer may see. The search is audited with
    what it was by and the ids shown (not the words searched for). InvalidNhsNumber for a
    malformed NHS number; an empty page when nothing is asked.
    """
    page = max(1, page)
    page_size = min(max(1, page_size), MAX_PAGE_SIZE)
    words = search_key(name or "").split()
    conditions: list[ColumnElement[bool]] = []
    by: SearchBy | None
    if nhs_number:
        conditions.append(Person.nhs_number == normalise_nhs_number(nhs_number))
        by = SearchBy.NHS_NUMBER
    elif words or date_of_birth is not None:
        # Each word a part of either name.
        conditions.extend(Person.name_key.contains(word, autoescape=True) for word in words)
        if date_of_birth is not None:
            conditions.append(Person.date_of_birth == date_of_birth)
        by = (
            SearchBy.NAME_AND_DATE_OF_BIRTH
            if words and date_of_birth is not None
            else SearchBy.NAME
            if words
            else SearchBy.DATE_OF_BIRTH
        )
    else:
        return PersonPage([], 0, page, page_size, None)
    if principal is not None:
        conditions.append(_visible_to(principal))
    total = session.scalar(select(func.count()).select_from(Person).where(*conditions)) or 0
    people = list(
        session.scalars(
            select(Person)
            .where(*conditions)
            .order_by(Person.family_name, Person.given_name, Person.date_of_birth, Person.id)
            .offset((page - 1) * page_size)
            .limit(page_size)
        )
    )
    _audit(
        session,
        context,
        "search",
        None,
        {"by": by.value, "found": total, "page": page, "shown": [p.id for p in people]},
    )
    return PersonPage(people, total, page, page_size, by)


# Duplicates.


class DuplicateKind(StrEnum):
    NHS_NUMBER = "nhs_number"  # the same person, certainly
    LIKELY = "likely"  # same names, date of birth and postcode


@dataclass(frozen=True, slots=True)
class Duplicate:
    person: Person
    kind: DuplicateKind

    @property
    def reason(self) -> str:
        if self.kind is DuplicateKind.NHS_NUMBER:
            return "has the same NHS number"
        return "has the same name, date of birth and postcode"


def _squashed(text: str) -> str:
    """A name as compared for duplicates: in any case, accents and spaces ignored."""
    return search_key(text).replace(" ", "")


def find_duplicates(
    session: Session, context: AuditContext, details: PersonDetails
) -> list[Duplicate]:
    """Records that are, or may be, the same person as these details: the same NHS
    number; or the same given and family names (in any case, accents and spaces ignored), date of
    birth and postcode (both absent counts as the same). Audited when any is found."""
    found: list[Duplicate] = []
    if details.nhs_number:
        same = session.scalar(select(Person).where(Person.nhs_number == details.nhs_number))
        if same is not None:
            found.append(Duplicate(same, DuplicateKind.NHS_NUMBER))
    if details.date_of_birth is not None:
        postcode = (
            Person.postcode == details.postcode if details.postcode else Person.postcode.is_(None)
        )
        # The date of birth (indexed) narrows to a few; names are compared here, where
        # case folding is the same on every database.
        candidates = session.scalars(
            select(Person)
            .where(Person.date_of_birth == details.date_of_birth, postcode)
            .order_by(Person.created_at, Person.id)
        )
        names = (_squashed(details.given_name), _squashed(details.family_name))
        found.extend(
            Duplicate(candidate, DuplicateKind.LIKELY)
            for candidate in candidates
            if (_squashed(candidate.given_name), _squashed(candidate.family_name)) == names
            and all(candidate.id != item.person.id for item in found)
        )
    if found:
        _audit(
            session,
            context,
            "duplicate_check",
            None,
            {"found": [{"id": item.person.id, "kind": item.kind.value} for item in found]},
        )
    return found


# Changing.


def _place(session: Session, details: PersonDetails) -> str | None:
    """The LSOA the person lives in: the postcode's, when the postcode directory has it;
    else the one given (or none, which the record then says: `Person.area_note`)."""
    if details.postcode:
        try:
            return postcode_to_lsoa(session, details.postcode)
        except GeographyError:
            pass
    return details.lsoa21_code


def _values(session: Session, details: PersonDetails) -> dict[str, Any]:
    """The details as stored (without the derived `name_key`)."""
    values = details.stored_values()
    values["lsoa21_code"] = _place(session, details)
    return values


def create_person(
    session: Session,
    context: AuditContext,
    details: PersonDetails,
    organisation_id: int,
    *,
    person_id: str | None = None,
) -> Person:
    """A new record held by the organisation (whose clinicians and link workers are then
    its care team), with a new UUID unless `person_id` gives a stable one (demonstration or
    migrated records). DuplicateNhsNumber if a record has the NHS number already; to check
    for likely duplicates first, use `find_or_create_person`."""
    if details.nhs_number:
        existing = session.scalar(select(Person.id).where(Person.nhs_number == details.nhs_number))
        if existing is not None:
            raise DuplicateNhsNumber(details.nhs_number, existing)
    values = _values(session, details)
    person = Person(
        id=person_id or str(uuid.uuid4()),
        organisation_id=organisation_id,
        name_key=_name_key(details.given_name, details.family_name),
        **values,
    )
    person.care_team = []
    session.add(person)
    session.flush()
    recorded = sorted(name for name, value in values.items() if value not in (None, ""))
    _audit(session, context, "create", person.id, {"fields": recorded})
    return person


@dataclass(frozen=True, slots=True)
class FindOrCreateResult:
    """The record (None when likely duplicates stopped the creation), whether it was
    created, and the records it duplicates or may duplicate."""

    person: Person | None
    created: bool
    duplicates: list[Duplicate] = field(default_factory=list)


def find_or_create_person(
    session: Session,
    context: AuditContext,
    details: PersonDetails,
    organisation_id: int,
    *,
    confirmed: bool = False,
) -> FindOrCreateResult:
    """The record with the same NHS number if there is one (nothing is created); else,
    when records look like the same person, nothing unless `confirmed` (the user has seen
    them and says this is someone else); else a new record."""
    duplicates = find_duplicates(session, context, details)
    same = next((d for d in duplicates if d.kind is DuplicateKind.NHS_NUMBER), None)
    if same is not None:
        return FindOrCreateResult(same.person, False, duplicates)
    if duplicates and not confirmed:
        return FindOrCreateResult(None, False, duplicates)
    return FindOrCreateResult(
        create_person(session, context, details, organisation_id), True, duplicates
    )


def update_person(
    session: Session,
    context: AuditContext,
    person_id: str,
    details: PersonDetails,
    *,
    expected_version: int,
    principal: Principal | None = None,
) -> dict[str, list[Any]]:
    """Replace the person's details with these; the diff `{field: [before, after]}`
    ({} and nothing written if nothing changed).

    `expected_version` is the version the details were edited from: if someone saved a
    change since, StalePersonUpdate and nothing is written. The write is conditional on
    the version, so two writers at the same moment cannot both succeed. With `principal`,
    PersonAccessDenied for a viewer outside the care team. DuplicateNhsNumber if the new
    NHS number is another record's.
    """
    person = session.get(Person, person_id)
    if person is None:
        raise PersonNotFound(person_id)
    if principal is not None and not can_see_person(principal, person):
        _audit(session, context, "access_refused", person.id)
        raise PersonAccessDenied(person.id)
    session.refresh(person)  # compare with what is stored now, not an older copy
    if person.version != expected_version:
        raise StalePersonUpdate(person.id, person.full_name, expected_version, person.version)
    if details.nhs_number and details.nhs_number != person.nhs_number:
        other = session.scalar(select(Person.id).where(Person.nhs_number == details.nhs_number))
        if other is not None:
            raise DuplicateNhsNumber(details.nhs_number, other)
    values = _values(session, details)
    diff = {
        name: [getattr(person, name), value]
        for name, value in values.items()
        if getattr(person, name) != value
    }
    if not diff:
        return {}
    written = cast(
        "CursorResult[Any]",
        session.execute(
            update(Person)
            .where(Person.id == person.id, Person.version == expected_version)
            .values({name: after for name, (_before, after) in diff.items()})
            .values(name_key=_name_key(details.given_name, details.family_name))
            .values(version=expected_version + 1)
            .execution_options(synchronize_session=False)
        ),
    )
    if written.rowcount != 1:
        session.expire(person)
        raise StalePersonUpdate(person.id, person.full_name, expected_version, person.version)
    session.refresh(person)
    _audit(session, context, "update", person.id, {"fields": sorted(diff)})
    return diff


# The care team.


@dataclass(frozen=True, slots=True)
class CareTeamEntry:
    member: CareTeamMember
    user: User


def care_team(session: Session, person: Person) -> list[CareTeamEntry]:
    """The users named in the person's care team, by name (not audited: it shows the
    team, not the person)."""
    members = {member.user_id: member for member in person.care_team}
    if not members:
        return []
    users = session.scalars(
        select(User).where(User.id.in_(members)).order_by(User.display_name, User.id)
    )
    return [CareTeamEntry(members[user.id], user) for user in users]


def _active_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        raise UnknownCareTeamUser(f"no active user has id {user_id}")
    return user


def add_care_team_member(
    session: Session, context: AuditContext, person_id: str, user_id: int
) -> bool:
    """Name a user in the person's care team; False if they are in it already."""
    person = session.get(Person, person_id)
    if person is None:
        raise PersonNotFound(person_id)
    user = _active_user(session, user_id)
    if any(member.user_id == user.id for member in person.care_team):
        return False
    person.care_team.append(CareTeamMember(user_id=user.id, added_by_user_id=context.user_id))
    session.flush()
    _audit(session, context, "care_team.add", person.id, {"user_id": user.id})
    return True


def remove_care_team_member(
    session: Session, context: AuditContext, person_id: str, user_id: int
) -> bool:
    """Take a user out of the person's care team; False if they were not in it."""
    person = session.get(Person, person_id)
    if person is None:
        raise PersonNotFound(person_id)
    member = next((m for m in person.care_team if m.user_id == user_id), None)
    if member is None:
        return False
    person.care_team.remove(member)
    session.flush()
    _audit(session, context, "care_team.remove", person.id, {"user_id": user_id})
    return True
