"""Letter templates and letters.

Templates: the built-in ones (files in `builtin_templates/`, copied into the database when
first needed, with a new version whenever a file's version goes up) and each
organisation's own, which its organisation administrators (and administrators) create and
change. Every change of a template's name, recipient or text is a new version; letters
keep the version they were written from.

Letters: `draft_letter` fills a template from the person's record and social history for
the clinician to check and change; `issue_letter` lays out the text they settled on as an
A4 PDF, keeps the PDF and its SHA-256 on the record, and audits it. Only a user who may see
the person (`people.service.can_see_person`) may draft, issue or read their letters, and
sensitive needs (domestic abuse, safeguarding, immigration) go into a letter only when the
clinician ticks them, which only clinical users of the care team are offered
(`social_history.service.may_see_sensitive`). A letter that speaks of a sensitive need (it
names a sensitive need of the vocabulary, or the finding of one of the person's sensitive
needs, in its text or recipient) is for them alone too: anyone else who may see the record
is not shown it, and every view of it is audited.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
import uuid
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib.resources import files
from typing import Any

from sqlalchemy import ColumnElement, or_, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from healthequity.audit.schemas import AuditContext
from healthequity.audit.service import record_event
from healthequity.auth.models import Role, User
from healthequity.auth.schemas import Principal
from healthequity.dates import LONDON, long_date, long_moment
from healthequity.letters.exceptions import (
    InvalidBuiltinTemplate,
    InvalidLetter,
    InvalidTemplate,
    LetterAltered,
    LetterNotFound,
    StaleTemplate,
    TemplateNotEditable,
    TemplateNotFound,
)
from healthequity.letters.filling import (
    TEXT_LIMIT,
    ClinicianValues,
    LetterValues,
    NeedValues,
    PersonValues,
    RecipientValues,
    check_body,
    fill,
    tidy,
)
from healthequity.letters.layout import LetterPage, blocks_of, letter_pdf
from healthequity.letters.models import (
    Letter,
    LetterTemplate,
    LetterTemplateVersion,
    RecipientKind,
)
from healthequity.needs import NEEDS, NEEDS_BY_CODE
from healthequity.people.models import Person
from healthequity.people.service import DEFAULT_PURPOSE, get_person
from healthequity.social_history.models import IdentifiedNeed, NeedLevel, NeedStatus
from healthequity.social_history.service import (
    audit_sensitive_view,
    may_see_sensitive,
    needs_of_person,
    visible_needs_of_person,
)
from healthequity.store.database import utc_now

BUILTIN_FOLDER = "builtin_templates"
# Built-in templates have the same id in every database: uuid5 of their file's name.
_BUILTIN_NAMESPACE = uuid.UUID("0f7d3c52-6a1e-4b8e-9d2f-3c4b5a6e7f80")
EDITORS = frozenset({Role.ORG_ADMIN, Role.ADMIN})
NAME_LIMIT = 200
RECIPIENT_NAME_LIMIT = 200
ADDRESS_LIMIT = 500
ADDRESS_LINES = 8
JOB_TITLE_LIMIT = 100
EXTRA_TEXT_LIMIT = 5000
RECIPIENT_KIND_LABELS = {
    RecipientKind.HOUSING_OFFICE: "A housing office",
    RecipientKind.BENEFITS_ASSESSOR: "A benefits assessor",
    RecipientKind.EMPLOYER: "An employer",
    RecipientKind.OTHER: "Someone else",
}
LEVEL_WORDS = {NeedLevel.AT_RISK: "at risk", NeedLevel.NEED: "need", NeedLevel.URGENT: "urgent"}
_LEVEL_RANK = {level: rank for rank, level in enumerate(NeedLevel)}
_VOCABULARY = {need.code: rank for rank, need in enumerate(NEEDS)}
# SNOMED CT's semantic tag, which a letter does not need: "Lives in damp conditions (finding)".
_SEMANTIC_TAG = re.compile(r"\s*\((finding|disorder|situation|observable entity|event)\)$")


def _audit(
    session: Session,
    context: AuditContext,
    action: str,
    subject_type: str,
    subject_id: str,
    detail: dict[str, Any],
) -> None:
    record_event(
        session,
        context if context.purpose else context.for_purpose(DEFAULT_PURPOSE),
        f"letters.{action}",
        subject_type=subject_type,
        subject_id=subject_id,
        detail=detail,
    )


def _date_words(moment: datetime) -> str:
    return long_date(moment.astimezone(LONDON).date())


# Built-in templates.


@dataclass(frozen=True, slots=True)
class BuiltinTemplate:
    key: str
    name: str
    recipient_kind: RecipientKind
    version: int
    body: str

    @property
    def template_id(self) -> str:
        return str(uuid.uuid5(_BUILTIN_NAMESPACE, self.key))


def _builtin_from(name: str, text: str) -> BuiltinTemplate:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InvalidBuiltinTemplate(name, f"not valid TOML: {error}") from None
    expected = {"name": str, "recipient_kind": str, "version": int, "body": str}
    for key, kind in expected.items():
        if not isinstance(data.get(key), kind) or isinstance(data.get(key), bool):
            raise InvalidBuiltinTemplate(name, f"{key} must be a {kind.__name__}")
    kinds = [kind.value for kind in RecipientKind]
    if data["recipient_kind"] not in kinds:
        raise InvalidBuiltinTemplate(name, f"recipient_kind must be one of {', '.join(kinds)}")
    if data["version"] < 1:
        raise InvalidBuiltinTemplate(name, "version must be 1 or more")
    problems = check_body(data["body"])
    if problems:
        raise InvalidBuiltinTemplate(name, "; ".join(problems))
    return BuiltinTemplate(
        name.removesuffix(".toml"),
        data["name"],
        RecipientKind(data["recipient_kind"]),
        data["version"],
        data["body"],
    )


@cache
def builtin_templates() -> tuple[BuiltinTemplate, ...]:
    """The built-in templates shipped with healthequity, each checked as a template is
    checked before it is saved (InvalidBuiltinTemplate naming the file otherwise)."""
    folder = files("healthequity.letters").joinpath(BUILTIN_FOLDER)
    found = sorted(
        (item for item in folder.iterdir() if item.name.endswith(".toml")),
        key=lambda item: item.name,
    )
    return tuple(_builtin_from(item.name, item.read_text(encoding="utf-8")) for item in found)


def _add_version(
    session: Session, template: LetterTemplate, user_id: int | None, moment: datetime
) -> None:
    session.add(
        LetterTemplateVersion(
            template_id=template.id,
            version=template.version,
            name=template.name,
            recipient_kind=template.recipient_kind,
            body=template.body,
            created_at=moment,
            created_by_user_id=user_id,
        )
    )


def sync_builtin_templates(session: Session) -> None:
    """Bring the database's built-in templates up to the shipped files: add new ones, add a
    version when a file's version is higher, and stop offering those no longer shipped.

    Called before templates are listed or used, so that an upgrade needs no step of its own.
    Two requests doing it at once are harmless: the second finds the rows there.
    """
    shipped = {builtin.key: builtin for builtin in builtin_templates()}
    stored = {
        template.builtin_key or "": template
        for template in session.scalars(
            select(LetterTemplate).where(LetterTemplate.builtin_key.is_not(None))
        )
    }
    for key, builtin in shipped.items():
        template = stored.get(key)
        if template is not None and template.version >= builtin.version:
            continue
        moment = utc_now()
        try:
            with session.begin_nested():
                if template is None:
                    template = LetterTemplate(
                        id=builtin.template_id,
                        builtin_key=key,
                        organisation_id=None,
                        created_at=moment,
                    )
                    session.add(template)
                template.name = builtin.name
                template.recipient_kind = builtin.recipient_kind
                template.body = builtin.body
                template.version = builtin.version
                template.active = True
                template.updated_at = moment
                session.flush()
                _add_version(session, template, None, moment)
                session.flush()
        except IntegrityError:
            pass  # added at the same moment by another request
    for key, template in stored.items():
        if key not in shipped and template.active:
            template.active = False
    session.flush()


# Templates.


def _offered_to(principal: Principal) -> ColumnElement[bool]:
    """Templates a user may write letters from: the built-in ones and their organisation's."""
    return or_(
        LetterTemplate.organisation_id.is_(None),
        LetterTemplate.organisation_id == principal.organisation_id,
    )


_KIND_ORDER = {kind: rank for rank, kind in enumerate(RecipientKind)}


def _in_order(templates: Iterable[LetterTemplate]) -> list[LetterTemplate]:
    """Built-in templates first; then by recipient (housing, benefits, employer, other)."""
    return sorted(
        templates,
        key=lambda t: (not t.builtin, _KIND_ORDER[t.recipient_kind], t.name.casefold(), t.id),
    )


def templates_to_write(session: Session, principal: Principal) -> list[LetterTemplate]:
    """The templates offered to the user for a letter: active, built in or their
    organisation's; built-in first, then by recipient and name."""
    sync_builtin_templates(session)
    query = select(LetterTemplate).where(LetterTemplate.active.is_(True), _offered_to(principal))
    return _in_order(session.scalars(query))


def templates_to_edit(session: Session, principal: Principal) -> list[LetterTemplate]:
    """The templates an editor sees, inactive ones too: an administrator sees every
    organisation's; an organisation administrator the built-in ones and their own."""
    sync_builtin_templates(session)
    condition = true() if Role.ADMIN in principal.roles else _offered_to(principal)
    return _in_order(session.scalars(select(LetterTemplate).where(condition)))


def get_template(session: Session, principal: Principal, template_id: str) -> LetterTemplate:
    """A template the user may see (TemplateNotFound otherwise)."""
    sync_builtin_templates(session)
    template = session.get(LetterTemplate, template_id)
    if template is None or not (
        template.builtin
        or template.organisation_id == principal.organisation_id
        or Role.ADMIN in principal.roles
    ):
        raise TemplateNotFound(template_id)
    return template


def may_edit(principal: Principal, template: LetterTemplate) -> bool:
    """Built-in templates change only with healthequity (copy one to change it); an
    organisation's, by its organisation administrators and by administrators."""
    if template.builtin:
        return False
    if Role.ADMIN in principal.roles:
        return True
    return Role.ORG_ADMIN in principal.roles and (
        template.organisation_id == principal.organisation_id
    )


def template_versions(session: Session, template_id: str) -> list[LetterTemplateVersion]:
    """Every version of a template, the newest first."""
    return list(
        session.scalars(
            select(LetterTemplateVersion)
            .where(LetterTemplateVersion.template_id == template_id)
            .order_by(LetterTemplateVersion.version.desc())
        )
    )


@dataclass(frozen=True, slots=True)
class TemplateEdit:
    """A template's fields as typed."""

    name: str
    recipient_kind: str
    body: str
    active: bool = True


def _checked(edit: TemplateEdit) -> tuple[str, RecipientKind, str]:
    """The edit's name, recipient and text as stored; InvalidTemplate naming each wrong
    field (each problem of the text with its line) otherwise."""
    errors: list[tuple[str, str]] = []
    name = " ".join(edit.name.split())
    if not name:
        errors.append(("name", "Enter a name for the template"))
    elif len(name) > NAME_LIMIT:
        errors.append(("name", f"The name must be {NAME_LIMIT} characters or fewer"))
    kind = next((k for k in RecipientKind if k.value == edit.recipient_kind), None)
    if kind is None:
        errors.append(("recipient_kind", "Choose who letters from this template are for"))
    # As typed, but with the line ends of every browser made the same (problems name lines).
    body = edit.body.replace("\r\n", "\n").replace("\r", "\n")
    errors.extend(("body", problem) for problem in check_body(body))
    if errors:
        raise InvalidTemplate(errors)
    assert kind is not None
    return name, kind, body


def _user_id(principal: Principal) -> int:
    if principal.user_id is None:
        raise TemplateNotEditable("templates are changed by people: sign in as a user")
    return principal.user_id


def create_template(
    session: Session, context: AuditContext, principal: Principal, edit: TemplateEdit
) -> LetterTemplate:
    """A new template of the user's organisation, at version 1."""
    if not principal.has_any_role(EDITORS):
        raise TemplateNotEditable("only organisation administrators may add letter templates")
    user_id = _user_id(principal)
    name, kind, body = _checked(edit)
    moment = utc_now()
    template = LetterTemplate(
        id=str(uuid.uuid4()),
        organisation_id=principal.organisation_id,
        name=name,
        recipient_kind=kind,
        body=body,
        version=1,
        active=edit.active,
        created_at=moment,
        created_by_user_id=user_id,
        updated_at=moment,
        updated_by_user_id=user_id,
    )
    session.add(template)
    session.flush()
    _add_version(session, template, user_id, moment)
    session.flush()
    _audit(
        session,
        context,
        "template.create",
        "letter_template",
        template.id,
        {"name": name, "version": 1, "active": edit.active},
    )
    return template


def update_template(
    session: Session,
    context: AuditContext,
    principal: Principal,
    template_id: str,
    edit: TemplateEdit,
    *,
    expected_version: int,
) -> list[str]:
    """Save a change to a template; the names of the fields changed ([] if none).

    A change to the name, recipient or text is a new version; whether the template is
    offered is not. `expected_version` is the version the change was made from: if someone
    saved another since, StaleTemplate and nothing is saved.
    """
    template = get_template(session, principal, template_id)
    if not may_edit(principal, template):
        raise TemplateNotEditable(
            "built-in templates cannot be changed here: make a copy and change that"
            if template.builtin
            else "only the organisation administrators of its organisation may change it"
        )
    user_id = _user_id(principal)
    name, kind, body = _checked(edit)
    if template.version != expected_version:
        raise StaleTemplate(template.name, expected_version, template.version)
    changed = [
        field
        for field, value in (("name", name), ("recipient_kind", kind), ("body", body))
        if getattr(template, field) != value
    ]
    if template.active != edit.active:
        changed.append("active")
    if not changed:
        return []
    moment = utc_now()
    template.active = edit.active
    template.updated_at = moment
    template.updated_by_user_id = user_id
    if set(changed) - {"active"}:
        template.name, template.recipient_kind, template.body = name, kind, body
        template.version = expected_version + 1
        try:
            with session.begin_nested():
                session.flush()
                _add_version(session, template, user_id, moment)
                session.flush()
        except IntegrityError:
            # Another editor saved this version number first.
            session.refresh(template)
            raise StaleTemplate(template.name, expected_version, template.version) from None
    session.flush()
    _audit(
        session,
        context,
        "template.update",
        "letter_template",
        template.id,
        {"fields": changed, "version": template.version, "active": template.active},
    )
    return changed


# Letters.


@dataclass(frozen=True, slots=True)
class Recipient:
    name: str
    address: str

    @property
    def address_lines(self) -> tuple[str, ...]:
        return tuple(line.strip() for line in self.address.splitlines() if line.strip())


@dataclass(frozen=True, slots=True)
class LetterNeed:
    """One need from the person's social history, as a letter may mention it."""

    code: str
    name: str
    findings: tuple[str, ...]
    level: NeedLevel
    sensitive: bool
    identified_need_ids: tuple[str, ...] = ()  # the findings' records, for the audit

    @property
    def values(self) -> NeedValues:
        return NeedValues(self.name, "; ".join(self.findings), LEVEL_WORDS[self.level])


def _letter_needs(session: Session, principal: Principal, person: Person) -> list[LetterNeed]:
    """The person's current needs, one for each need however many answers showed it: those
    that matter most to them first, then in the order of the needs vocabulary (housing
    first); sensitive ones only for those who may see them (the care team's clinical
    users)."""
    rows = visible_needs_of_person(session, principal, person)
    grouped: dict[str, list[IdentifiedNeed]] = {}
    for row in rows:
        if row.status is NeedStatus.ACTIVE and row.level is not NeedLevel.NO_NEED:
            grouped.setdefault(row.need_code, []).append(row)

    def order(code: str) -> tuple[bool, int, int]:
        priorities = [row.priority for row in grouped[code] if row.priority is not None]
        return (not priorities, min(priorities, default=0), _VOCABULARY.get(code, len(_VOCABULARY)))

    needs: list[LetterNeed] = []
    for code in sorted(grouped, key=order):
        found = grouped[code]
        known = NEEDS_BY_CODE.get(code)
        findings = dict.fromkeys(_SEMANTIC_TAG.sub("", row.snomed_display) for row in found)
        needs.append(
            LetterNeed(
                code,
                known.label if known else code,
                tuple(findings),
                max((row.level for row in found), key=_LEVEL_RANK.__getitem__),
                any(row.sensitive for row in found),
                tuple(row.id for row in found),
            )
        )
    return needs


def _sensitive_ids(needs: Iterable[LetterNeed]) -> list[str]:
    return [need_id for need in needs if need.sensitive for need_id in need.identified_need_ids]


def needs_for_letter(
    session: Session, context: AuditContext, principal: Principal, person: Person
) -> list[LetterNeed]:
    """The needs a letter about the person may mention, to offer the clinician; showing
    sensitive ones is audited by id (what they are is not)."""
    needs = _letter_needs(session, principal, person)
    audit_sensitive_view(session, context, person.id, "letter_form", _sensitive_ids(needs))
    return needs


def last_job_title(session: Session, user_id: int | None) -> str:
    """The job title the user signed their last letter with, to offer again."""
    if user_id is None:
        return ""
    found = session.scalar(
        select(Letter.signer_role)
        .where(Letter.created_by_user_id == user_id)
        .order_by(Letter.created_at.desc())
        .limit(1)
    )
    return found or ""


def _required(
    errors: list[tuple[str, str]], field: str, value: str, limit: int, missing: str, what: str
) -> str:
    text = value.strip()
    if not text:
        errors.append((field, missing))
    elif len(text) > limit:
        errors.append((field, f"{what} must be {limit} characters or fewer"))
    return text


def _check_letter(
    recipient: Recipient, job_title: str, errors: list[tuple[str, str]]
) -> tuple[Recipient, str]:
    name = _required(
        errors,
        "recipient_name",
        recipient.name,
        RECIPIENT_NAME_LIMIT,
        "Enter who the letter is to, like Housing Options, Leeds City Council",
        "Who the letter is to",
    )
    address = _required(
        errors,
        "recipient_address",
        recipient.address,
        ADDRESS_LIMIT,
        "Enter the address the letter goes to",
        "The address",
    )
    if len(Recipient(name, address).address_lines) > ADDRESS_LINES:
        errors.append(("recipient_address", f"The address must be {ADDRESS_LINES} lines or fewer"))
    title = _required(
        errors,
        "job_title",
        job_title,
        JOB_TITLE_LIMIT,
        "Enter your job title, like GP or Practice nurse",
        "Your job title",
    )
    return Recipient(name, "\n".join(Recipient(name, address).address_lines)), title


def _person_values(person: Person) -> PersonValues:
    born = person.date_of_birth
    return PersonValues(
        name=person.full_name,
        first_name=person.given_name,
        last_name=person.family_name,
        date_of_birth=long_date(born) if born else "",
        age="" if person.age is None else str(person.age),
        nhs_number=person.nhs_number_formatted or "",
        postcode=person.postcode or "",
    )


@dataclass(frozen=True, slots=True)
class Draft:
    """A letter filled in from a template, for the clinician to check and change."""

    text: str
    template_id: str
    template_version: int
    template_name: str
    needs_included: tuple[str, ...]  # need codes


def draft_letter(
    session: Session,
    context: AuditContext,
    principal: Principal,
    person_id: str,
    template_id: str,
    extra_text: str,
    recipient: Recipient,
    *,
    job_title: str,
    need_codes: Collection[str] | None = None,
) -> Draft:
    """Fill a template in for a letter about the person.

    The needs mentioned are those in `need_codes`, or, when it is None, all the person's
    current needs but the sensitive ones: a sensitive need goes in only when named.
    PersonNotFound, PersonAccessDenied (a user outside the care team: audited), or
    TemplateNotFound (no such template offered to the user); InvalidLetter naming each
    wrong field.
    """
    person = get_person(session, context, person_id, principal=principal)
    template = get_template(session, principal, template_id)
    if not template.active:
        raise TemplateNotFound(template_id)
    errors: list[tuple[str, str]] = []
    recipient, job_title = _check_letter(recipient, job_title, errors)
    extra = tidy(extra_text)
    if len(extra) > EXTRA_TEXT_LIMIT:
        errors.append(
            ("extra_text", f"What you add must be {EXTRA_TEXT_LIMIT:,} characters or fewer")
        )
    offered = _letter_needs(session, principal, person)
    if need_codes is None:
        chosen = [need for need in offered if not need.sensitive]
    else:
        unknown = sorted(set(need_codes) - {need.code for need in offered})
        if unknown:
            errors.append(
                ("needs", f"{', '.join(unknown)}: not among {person.full_name}'s current needs")
            )
        chosen = [need for need in offered if need.code in need_codes]
    if errors:
        raise InvalidLetter(errors)
    values = LetterValues(
        person=_person_values(person),
        needs=tuple(need.values for need in chosen),
        clinician=ClinicianValues(
            principal.display_name, job_title, principal.organisation_name, principal.email or ""
        ),
        recipient=RecipientValues(recipient.name, recipient.address),
        extra_text=extra,
        today=_date_words(utc_now()),
    )
    try:
        text = fill(template.body, values)
    except Exception as error:  # a template that passed its checks can still fail on data
        problem = ("template", f"The template could not be filled in: {error}")
        raise InvalidLetter([problem]) from None
    _audit(
        session,
        context,
        "draft",
        "person",
        person.id,
        {
            "template_id": template.id,
            "template_version": template.version,
            "needs_included": len(chosen),
            "sensitive_needs_included": sum(need.sensitive for need in chosen),
        },
    )
    audit_sensitive_view(session, context, person.id, "letter_draft", _sensitive_ids(chosen))
    return Draft(text, template.id, template.version, template.name, tuple(n.code for n in chosen))


def letter_page(
    person: Person,
    *,
    organisation: str,
    sender_name: str,
    sender_role: str,
    sender_email: str | None,
    recipient: Recipient,
    text: str,
    created_at: datetime,
    reference: str | None = None,
) -> LetterPage:
    """The letter as it is printed (also shown as a preview before it is issued)."""
    about = [person.full_name]
    if person.date_of_birth:
        about.append(f"born {long_date(person.date_of_birth)}")
    if person.nhs_number_formatted:
        about.append(f"NHS number {person.nhs_number_formatted}")
    return LetterPage(
        title=f"Letter about {person.full_name} to {recipient.name}",
        organisation=organisation,
        sender_name=sender_name,
        sender_role=sender_role,
        sender_email=sender_email,
        recipient_name=recipient.name,
        recipient_address=recipient.address_lines,
        date=_date_words(created_at),
        blocks=blocks_of(text),
        about=", ".join(about),
        reference=reference,
        created_at=created_at,
    )


def issue_letter(
    session: Session,
    context: AuditContext,
    principal: Principal,
    person_id: str,
    template_id: str,
    template_version: int,
    text: str,
    recipient: Recipient,
    *,
    job_title: str,
) -> Letter:
    """Issue the letter with the text the clinician settled on: lay it out as a PDF, keep
    it on the person's record with its SHA-256, and audit it.

    The same errors as `draft_letter`, and TemplateNotFound when the version is not one of
    the template's.
    """
    person = get_person(session, context, person_id, principal=principal)
    if principal.user_id is None:
        raise InvalidLetter([("template", "Letters are signed by people: sign in as a user")])
    get_template(session, principal, template_id)
    if session.get(LetterTemplateVersion, (template_id, template_version)) is None:
        raise TemplateNotFound(template_id, template_version)
    errors: list[tuple[str, str]] = []
    recipient, job_title = _check_letter(recipient, job_title, errors)
    text = tidy(text)
    if not text:
        errors.append(("text", "Enter the text of the letter"))
    elif len(text) > TEXT_LIMIT:
        errors.append(("text", f"The letter must be {TEXT_LIMIT:,} characters or fewer"))
    if errors:
        raise InvalidLetter(errors)
    letter_id = str(uuid.uuid4())
    moment = utc_now()
    pdf = letter_pdf(
        letter_page(
            person,
            organisation=principal.organisation_name,
            sender_name=principal.display_name,
            sender_role=job_title,
            sender_email=principal.email,
            recipient=recipient,
            text=text,
            created_at=moment,
            reference=letter_id,
        )
    )
    letter = Letter(
        id=letter_id,
        person_id=person.id,
        template_id=template_id,
        template_version=template_version,
        recipient_name=recipient.name,
        recipient_address=recipient.address,
        text=text,
        signer_role=job_title,
        created_by_user_id=principal.user_id,
        created_at=moment,
        pdf_sha256=hashlib.sha256(pdf).hexdigest(),
        pdf=pdf,
    )
    session.add(letter)
    session.flush()
    _audit(
        session,
        context,
        "issue",
        "letter",
        letter.id,
        {
            "person_id": person.id,
            "template_id": template_id,
            "template_version": template_version,
            "pdf_sha256": letter.pdf_sha256,
        },
    )
    return letter


@dataclass(frozen=True, slots=True)
class IssuedLetter:
    letter: Letter
    author: str
    template_name: str
    sensitive: bool = False  # it speaks of a sensitive need

    @property
    def when(self) -> str:
        """When it was issued, in England: "22 November 2026 at 15:27"."""
        return long_moment(self.letter.created_at)

    @property
    def fingerprint(self) -> str:
        """The PDF's SHA-256 in groups of eight, to read (and wrap on a phone)."""
        digest = self.letter.pdf_sha256
        return " ".join(digest[i : i + 8] for i in range(0, len(digest), 8))


def _sensitive_terms(session: Session, person_id: str) -> tuple[str, ...]:
    """What a letter says when it speaks of a sensitive need, case-folded: the names of the
    vocabulary's sensitive needs, and the findings of the person's sensitive needs (as
    letters are filled in with them)."""
    terms = {need.label for need in NEEDS if need.sensitive}
    terms.update(
        _SEMANTIC_TAG.sub("", row.snomed_display)
        for row in needs_of_person(session, person_id, include_sensitive=True)
        if row.sensitive
    )
    return tuple(sorted(term.casefold() for term in terms if term.strip()))


def _speaks_of(letter: Letter, terms: tuple[str, ...]) -> bool:
    written = f"{letter.recipient_name}\n{letter.text}".casefold()
    return any(term in written for term in terms)


def issued_letters(
    session: Session, person: Person, letter_id: str | None = None, *, viewer: Principal
) -> list[IssuedLetter]:
    """The letters issued about the person that `viewer` may see, the newest first (or the
    one with `letter_id`): those that speak of a sensitive need only for those who may see
    it (social_history.service.may_see_sensitive). Not audited: `person` comes from
    `people.service.get_person`, which audited the read and checked the user may see it; a
    view of a sensitive letter's text is audited by its caller (`audit_letters_shown`)."""
    query = (
        select(Letter, User.display_name, LetterTemplateVersion.name)
        .join(User, User.id == Letter.created_by_user_id)
        .join(
            LetterTemplateVersion,
            (LetterTemplateVersion.template_id == Letter.template_id)
            & (LetterTemplateVersion.version == Letter.template_version),
        )
        .where(Letter.person_id == person.id)
        .order_by(Letter.created_at.desc(), Letter.id)
    )
    if letter_id is not None:
        query = query.where(Letter.id == letter_id)
    terms = _sensitive_terms(session, person.id)
    found = [
        IssuedLetter(letter, author, name, _speaks_of(letter, terms))
        for letter, author, name in session.execute(query)
    ]
    if may_see_sensitive(viewer, person):
        return found
    return [issued for issued in found if not issued.sensitive]


def audit_letters_shown(
    session: Session, context: AuditContext, person: Person, page: str, shown: list[IssuedLetter]
) -> None:
    """Audit a view that showed the text of letters speaking of a sensitive need, by id."""
    ids = [issued.letter.id for issued in shown if issued.sensitive]
    audit_sensitive_view(session, context, person.id, page, ids)


def get_letter(
    session: Session,
    context: AuditContext,
    principal: Principal,
    person_id: str,
    letter_id: str,
) -> IssuedLetter:
    """One letter about the person, audited as read; LetterNotFound if the person has no
    letter with that id."""
    person = get_person(session, context, person_id, principal=principal)
    found = issued_letters(session, person, letter_id, viewer=principal)
    if not found:
        raise LetterNotFound(letter_id)
    _audit(session, context, "read", "letter", letter_id, {"person_id": person.id})
    audit_letters_shown(session, context, person, "letter", found)
    return found[0]


def letter_document(
    session: Session,
    context: AuditContext,
    principal: Principal,
    person_id: str,
    letter_id: str,
) -> tuple[IssuedLetter, bytes]:
    """The PDF of a letter as it was issued, audited as downloaded; LetterAltered if it no
    longer matches the SHA-256 taken when it was issued."""
    person = get_person(session, context, person_id, principal=principal)
    found = issued_letters(session, person, letter_id, viewer=principal)
    if not found:
        raise LetterNotFound(letter_id)
    issued = found[0]
    pdf = issued.letter.pdf
    if hashlib.sha256(pdf).hexdigest() != issued.letter.pdf_sha256:
        raise LetterAltered(
            f"the PDF of letter {letter_id} does not match the SHA-256 recorded when it "
            "was issued: it has been changed since"
        )
    _audit(session, context, "download", "letter", letter_id, {"person_id": person.id})
    audit_letters_shown(session, context, person, "letter_pdf", found)
    return issued, pdf
