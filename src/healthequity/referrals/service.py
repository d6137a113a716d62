"""Closed-loop referral: consent, referral, status changes, follow-up, provider inbox and
outcome measures. Plain functions taking a Session, an AuditContext and typed arguments;
every read and change of a person's referrals appends an audit event.

Who may act on a referral: users of the organisation that made it, whoever may see the
person's record (people.service.can_see_person), and (once it is sent) users of a provider
organisation linked to the directory organisation that runs the service (a ProviderLink).
Anyone else is told there is no such referral. Only those who may see the person's record
may record their consent or refer them.

Optimistic locking. A referral carries a `version`, SQLAlchemy's version_id_col: every
UPDATE of the row is `... SET version = v + 1 WHERE id = :id AND version = v`. Changes to a
referral take the version the caller saw (`expected_version`, from the page or API response
they acted on) and
1. compare it with the stored version first, refusing a mismatch with StaleReferral; and
2. let the versioned UPDATE guard the moment between that read and the write: if another
   writer committed in between, the UPDATE matches no row, SQLAlchemy raises StaleDataError
   and we raise StaleReferral (naming the version now stored).
Either way nothing is overwritten: the caller reads the referral again and decides anew.
The row UPDATE is the first write of the change, so on SQLite (WAL) a second writer waits on
the store's busy timeout for the first to commit and then finds the version moved on; on
PostgreSQL the second UPDATE waits on the row lock and then matches no row.

Sensitive needs (domestic abuse, safeguarding, immigration; see social_history.service) on a
referral: the clinical users of the person's care team see them, and so does the provider the
referral was sent to, as it is for those needs; anyone else who may see the referral (an
administrator, a colleague of the referrer outside the care team) sees it without them, and
without its free text, which speaks of them (`shown_needs`, and the lists' summaries). Every
view that shows them is audited by id (social_history.service.audit_sensitive_view).

Follow-up dates default to 14 days after the referral; a service may have its own number of
days in ServiceReferralSettings (keyed by the directory's service id), set by an
administrator or by the providers linked to the organisation that runs it, and a referrer
may give another when referring or move it later. A social prescription also gets a "still
attending?" check, due four weeks after the provider accepts it and late after six.

Provider links (ProviderLink) say which directory organisations' referrals a provider
organisation's users see and work. Only an administrator links and unlinks, on the page
or at the command line (no actor): a link opens referrals, sensitive needs included, so an
organisation may not grant it to itself. Each link and unlink is audited.

Withdrawing a consent: the consent shows as withdrawn and allows no new referral; each open
referral made on it is cancelled through the lifecycle with the reason "Consent withdrawn"
(so the provider sees it in their inbox and on the referral), and each that had already
ended gets a note saying so. The referrals and what they shared stay, for the record.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, case, false, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from healthequity.audit.schemas import AuditContext
from healthequity.audit.service import record_event
from healthequity.auth.models import Organisation, OrganisationKind, Role, User, UserRole
from healthequity.auth.schemas import Principal
from healthequity.directory.curation import RecordNotFound, organization_records
from healthequity.directory.models import Organization, Service, ServiceStatus
from healthequity.directory.search import get_service, today_in_london
from healthequity.needs import NEEDS_BY_CODE, UnknownNeed, need
from healthequity.people.models import Person
from healthequity.people.service import can_see_person
from healthequity.referrals import lifecycle, outcomes
from healthequity.referrals.exceptions import (
    ConsentNotValid,
    PersonNotFound,
    ProviderLinkNotAllowed,
    ReferralInputError,
    ReferralNotFound,
    ServiceNotAcceptingReferrals,
    ServiceNotFound,
    StaleReferral,
)
from healthequity.referrals.models import (
    Consent,
    ConsentStatus,
    FailureReason,
    OutcomeMeasure,
    ProviderLink,
    Referral,
    ReferralEvent,
    ReferralEventKind,
    ReferralNeed,
    ReferralStatus,
    ServiceReferralSettings,
)
from healthequity.referrals.outcomes import Instrument, OutcomeChange, Scored, Timing
from healthequity.referrals.schemas import (
    CaseloadFilters,
    CaseloadSort,
    ContactMethod,
    DueCheck,
    DueCheckKind,
    LinkedOrganization,
    ProviderOrganisation,
    ReferralPage,
    ReferralSummary,
    ServiceFollowUp,
    ShownNeed,
    ShownNeeds,
)
from healthequity.social_history.models import IdentifiedNeed
from healthequity.social_history.service import (
    audit_sensitive_view,
    may_see_sensitive,
    sensitive_visible_to,
)
from healthequity.store.database import utc_now

DEFAULT_FOLLOW_UP_DAYS = 14
MAX_FOLLOW_UP_DAYS = 365
# "Still attending?" at four to six weeks after the provider accepts a social prescription.
ATTENDANCE_CHECK_AFTER = timedelta(weeks=4)
ATTENDANCE_CHECK_LATE_AFTER = timedelta(weeks=6) - ATTENDANCE_CHECK_AFTER
TEXT_LIMIT = 4000
DEFAULT_PAGE_SIZE = 25
# The reason a referral is cancelled with when the person withdraws the consent it used.
CONSENT_WITHDRAWN = "Consent withdrawn"

_E = TypeVar("_E", Instrument, Timing, ContactMethod)


# Input


def _text(value: str | None, field: str, errors: dict[str, str], *, required: str = "") -> str:
    """`value` trimmed; `required` is the message when it must be given and is blank."""
    cleaned = (value or "").strip()
    if not cleaned and required:
        errors[field] = required
    elif len(cleaned) > TEXT_LIMIT:
        errors[field] = f"at most {TEXT_LIMIT} characters, {len(cleaned)} given"
    return cleaned


def _choice(kind: type[_E], value: _E | str, field: str) -> _E:
    try:
        return kind(value)
    except ValueError:
        raise ReferralInputError(
            {field: f"expected one of {', '.join(member.value for member in kind)}, got {value!r}"}
        ) from None


def _check_follow_up_days(days: int, field: str) -> None:
    if not 1 <= days <= MAX_FOLLOW_UP_DAYS:
        raise ReferralInputError(
            {field: f"expected a whole number of days from 1 to {MAX_FOLLOW_UP_DAYS}, got {days}"}
        )


def parse_follow_up_days(text: str, field: str = "follow_up_days") -> int | None:
    """Follow-up days as typed: None when blank (the default), else a whole number in range,
    refused with the same message as `_check_follow_up_days` when it is not."""
    cleaned = text.strip()
    if not cleaned:
        return None
    if not (cleaned.isascii() and cleaned.lstrip("-").isdigit()) or len(cleaned) > 9:
        raise ReferralInputError(
            {
                field: f"expected a whole number of days from 1 to {MAX_FOLLOW_UP_DAYS}, "
                f"got {cleaned!r}"
            }
        )
    days = int(cleaned)
    _check_follow_up_days(days, field)
    return days


def _user_id(principal: Principal, field: str) -> int:
    if principal.user_id is None:
        raise ReferralInputError({field: "this must be done by a signed-in user, not an API token"})
    return principal.user_id


# Lookups and access


def _person(session: Session, person_id: str, principal: Principal) -> Person:
    """The person, if the principal may see their record (see people.service)."""
    person = session.get(Person, person_id)
    if person is None or not can_see_person(principal, person):
        raise PersonNotFound(f"no person with id {person_id!r} among those you can see")
    return person


def _may_act_on(session: Session, actor: Principal, referral: Referral) -> bool:
    if actor.organisation_id == referral.requester_organisation_id:
        return True
    person = session.get(Person, referral.person_id)
    if person is not None and can_see_person(actor, person):
        return True
    if referral.status == ReferralStatus.DRAFT:
        return False  # not sent: the provider has not been given it
    link = session.get(ProviderLink, (actor.organisation_id, referral.provider_organization_id))
    return link is not None


def _referral_for(session: Session, referral_id: str, actor: Principal) -> Referral:
    referral = session.get(Referral, referral_id)
    if referral is None or not _may_act_on(session, actor, referral):
        raise ReferralNotFound(f"no referral {referral_id!r} among those you can see")
    return referral


def _check_version(referral: Referral, expected_version: int) -> None:
    if referral.version != expected_version:
        raise StaleReferral(referral.id, expected_version, referral.version)


def _committed_version(session: Session, referral_id: str) -> int:
    """The version stored now, read on a connection of its own: the session's transaction
    is unusable after the failed flush."""
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    with engine.connect() as connection:
        version = connection.scalar(select(Referral.version).where(Referral.id == referral_id))
    assert version is not None  # referrals are never deleted
    return version


def _save_versioned(session: Session, referral: Referral, expected_version: int) -> None:
    """Flush a change to the referral row; StaleReferral if another writer got there first."""
    referral_id = referral.id
    referral.updated_at = utc_now()
    try:
        session.flush()
    except StaleDataError:
        raise StaleReferral(
            referral_id, expected_version, _committed_version(session, referral_id)
        ) from None


def _with_note(detail: str, note: str) -> str:
    return f"{detail}. {note}" if note else detail


def _add_event(
    session: Session,
    referral: Referral,
    kind: ReferralEventKind,
    actor: Principal,
    detail: str | None,
    *,
    from_status: ReferralStatus | None = None,
    to_status: ReferralStatus | None = None,
) -> ReferralEvent:
    event = ReferralEvent(
        referral_id=referral.id,
        kind=kind,
        from_status=from_status,
        to_status=to_status,
        detail=detail or None,
        user_id=actor.user_id,
        api_token_id=actor.api_token_id,
    )
    session.add(event)
    session.flush()
    return event


def _audit(
    session: Session,
    context: AuditContext,
    action: str,
    referral: Referral,
    **detail: Any,
) -> None:
    record_event(
        session,
        context,
        action,
        subject_type="referral",
        subject_id=referral.id,
        detail={"person_id": referral.person_id, "version": referral.version, **detail},
    )


# Consent


def record_consent(
    session: Session,
    context: AuditContext,
    *,
    person_id: str,
    service_id: str,
    shared_information: str,
    purpose: str,
    expires_on: date,
    recorded_by: Principal,
    today: date | None = None,
) -> Consent:
    """Record the person's consent to share `shared_information` for `purpose`, up to and
    including `expires_on`, with the organisation that runs the directory service
    `service_id`."""
    today = today or today_in_london()
    errors: dict[str, str] = {}
    shared = _text(
        shared_information,
        "shared_information",
        errors,
        required="say what information the person agrees to share",
    )
    why = _text(purpose, "purpose", errors, required="say what the information is shared for")
    if expires_on < today:
        errors["expires_on"] = f"expected today ({today.isoformat()}) or a later date"
    if errors:
        raise ReferralInputError(errors)
    recorder = _user_id(recorded_by, "recorded_by")
    _person(session, person_id, recorded_by)
    service = get_service(session, service_id, include_inactive=True)
    if service is None:
        raise ServiceNotFound(f"no service with id {service_id!r} in the directory")
    consent = Consent(
        id=str(uuid.uuid4()),
        person_id=person_id,
        status=ConsentStatus.ACTIVE,
        shared_information=shared,
        recipient_organization_id=service.organization_id,
        recipient_name=service.organization.name,
        purpose=why,
        expires_on=expires_on,
        recorded_by_user_id=recorder,
    )
    session.add(consent)
    session.flush()
    record_event(
        session,
        context,
        "referral.consent.record",
        subject_type="consent",
        subject_id=consent.id,
        detail={
            "person_id": person_id,
            "recipient_organization_id": consent.recipient_organization_id,
            "expires_on": expires_on,
        },
    )
    return consent


def referrals_made_on(session: Session, consent_id: str) -> list[Referral]:
    """The referrals made on the consent, the oldest first."""
    return list(
        session.scalars(
            select(Referral)
            .where(Referral.consent_id == consent_id)
            .order_by(Referral.created_at, Referral.id)
        )
    )


def may_withdraw_consent(session: Session, actor: Principal, consent: Consent) -> bool:
    """Whether the actor may record that the person withdrew the consent: who recorded it,
    who made a referral on it, or a clinical user of the person's care team (the clinicians
    and link workers who may see the record; not an administrator, nor a provider)."""
    if actor.user_id is not None and actor.user_id == consent.recorded_by_user_id:
        return True
    person = session.get(Person, consent.person_id)
    if person is not None and may_see_sensitive(actor, person):
        return True
    return actor.user_id is not None and any(
        referral.requester_user_id == actor.user_id
        for referral in referrals_made_on(session, consent.id)
    )


def withdraw_consent(
    session: Session,
    context: AuditContext,
    consent_id: str,
    *,
    actor: Principal,
    note: str | None = None,
) -> Consent:
    """The person withdraws a consent: no new referral may rely on it, each open referral
    made on it is cancelled (reason "Consent withdrawn", and `note` if given), and each that
    had ended already gets a note on its history. All of it, or nothing: a referral changed
    by someone else meanwhile raises StaleReferral and the caller's transaction is to be
    rolled back."""
    text = (note or "").strip()
    # The note joins the reason the referrals are cancelled with, which has the text limit.
    room = TEXT_LIMIT - len(_with_note(CONSENT_WITHDRAWN, "-")) + 1
    if len(text) > room:
        raise ReferralInputError({"note": f"at most {room} characters, {len(text)} given"})
    consent = session.get(Consent, consent_id)
    if consent is None or not may_withdraw_consent(session, actor, consent):
        raise ConsentNotValid(f"no consent {consent_id!r} among those you can withdraw")
    if consent.status == ConsentStatus.WITHDRAWN:
        raise ConsentNotValid(f"consent {consent_id} is withdrawn already: nothing changes")
    consent.status = ConsentStatus.WITHDRAWN
    session.flush()
    reason = _with_note(CONSENT_WITHDRAWN, text)
    cancelled: list[str] = []
    for referral in referrals_made_on(session, consent.id):
        if lifecycle.is_terminal(referral.status):
            detail = (
                f"{CONSENT_WITHDRAWN}: the person no longer agrees to share their information "
                f"with {consent.recipient_name}. The referral had ended already "
                f"({referral.status.value})"
            )
            _add_event(session, referral, ReferralEventKind.NOTE, actor, _with_note(detail, text))
            _audit(session, context, "referral.note", referral, consent_withdrawn=True)
        else:
            _move(
                session,
                context,
                referral,
                ReferralStatus.CANCELLED,
                referral.version,
                reason=reason,
                actor=actor,
            )
            cancelled.append(referral.id)
    record_event(
        session,
        context,
        "referral.consent.withdraw",
        subject_type="consent",
        subject_id=consent.id,
        detail={"person_id": consent.person_id, "cancelled_referral_ids": cancelled},
    )
    return consent


def _valid_consent(
    session: Session, consent_id: str, person_id: str, organization_id: str, today: date
) -> Consent:
    consent = session.get(Consent, consent_id)
    if consent is None or consent.person_id != person_id:
        raise ConsentNotValid(
            f"no consent {consent_id!r} from this person: record their consent first"
        )
    if consent.status != ConsentStatus.ACTIVE:
        raise ConsentNotValid(
            f"the person withdrew consent {consent_id}: record a new consent before referring"
        )
    if consent.expires_on < today:
        raise ConsentNotValid(
            f"consent {consent_id} was valid until {consent.expires_on.isoformat()}: "
            "record a new consent before referring"
        )
    if consent.recipient_organization_id != organization_id:
        raise ConsentNotValid(
            f"consent {consent_id} is to share with {consent.recipient_name}, not with the "
            "organisation that runs this service: record consent to share with them"
        )
    return consent


# Follow-up settings


def follow_up_days_for(session: Session, service_id: str) -> int:
    """Days from referral to follow-up for this service: its own setting or the default."""
    settings = session.get(ServiceReferralSettings, service_id)
    return DEFAULT_FOLLOW_UP_DAYS if settings is None else settings.follow_up_days


def follow_up_days_of(session: Session, service_ids: Iterable[str]) -> dict[str, int]:
    """`follow_up_days_for` of several services at once, by service id."""
    wanted = list(dict.fromkeys(service_ids))
    days = dict.fromkeys(wanted, DEFAULT_FOLLOW_UP_DAYS)
    if wanted:
        rows = session.execute(
            select(
                ServiceReferralSettings.service_id, ServiceReferralSettings.follow_up_days
            ).where(ServiceReferralSettings.service_id.in_(wanted))
        )
        days.update({service_id: value for service_id, value in rows})
    return days


def _linked_organizations(organisation_id: int) -> Select[str]:
    return select(ProviderLink.directory_organization_id).where(
        ProviderLink.organisation_id == organisation_id
    )


def may_set_follow_up_days(session: Session, actor: Principal, organization_id: str) -> bool:
    """Whether the actor may set the follow-up days of the services of this directory
    organisation: an administrator, or a provider of an organisation linked to it."""
    if Role.ADMIN in actor.roles:
        return True
    return Role.PROVIDER in actor.roles and (
        session.get(ProviderLink, (actor.organisation_id, organization_id)) is not None
    )


def set_follow_up_days(
    session: Session,
    context: AuditContext,
    service_id: str,
    days: int | None,
    *,
    actor: Principal,
) -> ServiceReferralSettings | None:
    """Follow referrals to this service up after `days` days instead of the default; None
    goes back to the default. For an administrator, or a provider linked to the organisation
    that runs the service (see may_set_follow_up_days); anyone else is told there is no such
    service. Referrals made already keep their dates."""
    if days is not None:
        _check_follow_up_days(days, "follow_up_days")
    found = session.get(Service, service_id)
    if found is None or not may_set_follow_up_days(session, actor, found.organization_id):
        raise ServiceNotFound(
            f"no service with id {service_id!r} among those whose follow-up you may set"
        )
    settings = session.get(ServiceReferralSettings, service_id)
    before = None if settings is None else settings.follow_up_days
    if before == days:
        return settings
    if days is None:
        assert settings is not None  # before differs from None
        session.delete(settings)
        settings = None
    else:
        if settings is None:
            settings = ServiceReferralSettings(service_id=service_id)
            session.add(settings)
        settings.follow_up_days = days
        settings.updated_at = utc_now()
        settings.updated_by_user_id = actor.user_id
    session.flush()
    record_event(
        session,
        context,
        "referral.service_settings.update",
        subject_type="directory_service",
        subject_id=service_id,
        detail={"follow_up_days": [before, days]},
    )
    return settings


def follow_up_services(
    session: Session, actor: Principal, text: str = "", *, limit: int = 100
) -> tuple[list[ServiceFollowUp], int]:
    """The services whose follow-up days the actor may set, by organisation and name, with
    their days; and how many there are in all. A provider gets the services of the
    organisations theirs is linked to; an administrator those whose name or id contains
    `text` or, with no text, those with days of their own. `text` narrows either."""
    wanted = text.strip()
    query = select(Service, Organization.name).join(
        Organization, Organization.id == Service.organization_id
    )
    if Role.ADMIN not in actor.roles:
        query = query.where(
            Service.organization_id.in_(_linked_organizations(actor.organisation_id))
        )
    elif not wanted:
        query = query.where(Service.id.in_(select(ServiceReferralSettings.service_id)))
    if wanted:
        query = query.where(
            Service.name.icontains(wanted, autoescape=True)
            | Service.id.icontains(wanted, autoescape=True)
        )
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(
        query.order_by(Organization.name, Service.name, Service.id).limit(limit)
    ).all()
    own = {
        service_id: days
        for service_id, days in session.execute(
            select(
                ServiceReferralSettings.service_id, ServiceReferralSettings.follow_up_days
            ).where(ServiceReferralSettings.service_id.in_([row[0].id for row in rows]))
        )
    }
    return [
        ServiceFollowUp(
            service_id=found.id,
            service_name=found.name,
            organization_id=found.organization_id,
            organization_name=organization_name,
            status=found.status,
            days=own.get(found.id, DEFAULT_FOLLOW_UP_DAYS),
            own_days=own.get(found.id),
        )
        for found, organization_name in rows
    ], total


# Referring


def refer_person(
    session: Session,
    context: AuditContext,
    person_id: str,
    service_id: str,
    identified_need_ids: Sequence[str],
    consent_id: str,
    requester: Principal,
    shared_note: str | None,
    follow_up_days: int | None = None,
    *,
    is_social_prescription: bool = False,
    draft: bool = False,
    today: date | None = None,
) -> Referral:
    """Refer the person to a directory service for some of their identified needs, sharing
    `shared_note` as their consent allows. The referral is sent (requested) unless `draft`.

    The service must be active and accepting referrals; the consent must be the person's,
    active, unexpired, and to share with the organisation that runs the service. A person may
    have several referrals, and a need several referrals."""
    today = today or today_in_london()
    errors: dict[str, str] = {}
    note = _text(shared_note, "shared_note", errors)
    need_ids = list(dict.fromkeys(identified_need_ids))
    if not need_ids:
        errors["identified_need_ids"] = "choose at least one of the person's needs to refer for"
    if errors:
        raise ReferralInputError(errors)
    user_id = _user_id(requester, "requester")
    _person(session, person_id, requester)
    service = get_service(session, service_id, include_inactive=True)
    if service is None:
        raise ServiceNotFound(f"no service with id {service_id!r} in the directory")
    if service.status != ServiceStatus.ACTIVE:
        raise ServiceNotAcceptingReferrals(service.id, service.name, f"it is {service.status}")
    if not service.accepting_referrals:
        raise ServiceNotAcceptingReferrals(
            service.id, service.name, service.accepting_referrals_note or "it says so"
        )
    _valid_consent(session, consent_id, person_id, service.organization_id, today)
    needs = {
        found.id: found
        for found in session.scalars(select(IdentifiedNeed).where(IdentifiedNeed.id.in_(need_ids)))
    }
    strangers = [need_id for need_id in need_ids if need_id not in needs]
    strangers += [found.id for found in needs.values() if found.person_id != person_id]
    if strangers:
        raise ReferralInputError(
            {"identified_need_ids": "not needs of this person: " + ", ".join(sorted(strangers))}
        )
    days = follow_up_days if follow_up_days is not None else follow_up_days_for(session, service_id)
    _check_follow_up_days(days, "follow_up_days")
    status = ReferralStatus.DRAFT if draft else ReferralStatus.REQUESTED
    referral = Referral(
        id=str(uuid.uuid4()),
        person_id=person_id,
        service_id=service.id,
        service_name=service.name,
        provider_organization_id=service.organization_id,
        consent_id=consent_id,
        status=status,
        shared_note=note or None,
        is_social_prescription=is_social_prescription,
        requester_user_id=user_id,
        requester_organisation_id=requester.organisation_id,
        follow_up_on=today + timedelta(days=days),
        needs=[
            ReferralNeed(identified_need_id=need_id, need_code=needs[need_id].need_code)
            for need_id in need_ids
        ],
    )
    session.add(referral)
    session.flush()
    _add_event(session, referral, ReferralEventKind.STATUS, requester, None, to_status=status)
    _audit(
        session,
        context,
        "referral.create",
        referral,
        service_id=service.id,
        status=status,
        identified_need_ids=need_ids,
    )
    return referral


# The lifecycle


def _status_reason(reason: str, failure_reason: FailureReason | None) -> str | None:
    if failure_reason is not None:
        label = lifecycle.FAILURE_REASON_LABELS[failure_reason]
        return f"{label}: {reason}" if reason else label
    return reason or None


def change_status(
    session: Session,
    context: AuditContext,
    referral_id: str,
    to_status: ReferralStatus,
    expected_version: int,
    reason: str | None = None,
    outcome: str | None = None,
    failure_reason: FailureReason | None = None,
    *,
    actor: Principal,
    today: date | None = None,
) -> Referral:
    """Move the referral to `to_status` if the lifecycle allows it from where it is, with
    what that move needs (see lifecycle.py). `expected_version` is the version the actor saw;
    if the referral changed since, StaleReferral, and nothing changes."""
    referral = _referral_for(session, referral_id, actor)
    _check_version(referral, expected_version)
    return _move(
        session,
        context,
        referral,
        to_status,
        expected_version,
        reason=reason,
        outcome=outcome,
        failure_reason=failure_reason,
        actor=actor,
        today=today,
    )


def _move(
    session: Session,
    context: AuditContext,
    referral: Referral,
    to_status: ReferralStatus,
    expected_version: int,
    *,
    reason: str | None = None,
    outcome: str | None = None,
    failure_reason: FailureReason | None = None,
    actor: Principal,
    today: date | None = None,
) -> Referral:
    """A status change of a referral the caller may change, checked by the lifecycle."""
    current = referral.status
    lifecycle.check_transition(
        current, to_status, reason=reason, outcome=outcome, failure_reason=failure_reason
    )
    errors: dict[str, str] = {}
    reason_text = _text(reason, "reason", errors)
    outcome_text = _text(outcome, "outcome", errors)
    if errors:
        raise ReferralInputError(errors)
    referral.status = to_status
    referral.status_reason = _status_reason(reason_text, failure_reason)
    if to_status == ReferralStatus.COMPLETED:
        referral.outcome = outcome_text
    if to_status == ReferralStatus.FAILED:
        referral.failure_reason = failure_reason
    if to_status == ReferralStatus.ACCEPTED and referral.is_social_prescription:
        referral.attendance_check_on = (today or today_in_london()) + ATTENDANCE_CHECK_AFTER
    elif lifecycle.is_terminal(to_status):
        referral.attendance_check_on = None
    _save_versioned(session, referral, expected_version)
    _add_event(
        session,
        referral,
        ReferralEventKind.STATUS,
        actor,
        outcome_text or referral.status_reason,
        from_status=current,
        to_status=to_status,
    )
    _audit(session, context, "referral.status", referral, status=[current, to_status])
    return referral


# Follow-up


def record_contact_attempt(
    session: Session,
    context: AuditContext,
    referral_id: str,
    *,
    method: ContactMethod | str,
    reached: bool,
    note: str | None = None,
    actor: Principal,
) -> ReferralEvent:
    """Someone tried to contact the person about this referral, and did or did not reach
    them. Changes nothing on the referral itself, so it needs no version."""
    contact = _choice(ContactMethod, method, "method")
    errors: dict[str, str] = {}
    text = _text(note, "note", errors)
    if errors:
        raise ReferralInputError(errors)
    referral = _referral_for(session, referral_id, actor)
    detail = f"{contact.label}: {'reached' if reached else 'not reached'}"
    event = _add_event(
        session,
        referral,
        ReferralEventKind.CONTACT_ATTEMPT,
        actor,
        _with_note(detail, text),
    )
    _audit(session, context, "referral.contact_attempt", referral, method=contact, reached=reached)
    return event


def add_note(
    session: Session, context: AuditContext, referral_id: str, text: str, *, actor: Principal
) -> ReferralEvent:
    """A note on the referral's history, seen by both sides."""
    errors: dict[str, str] = {}
    note = _text(text, "text", errors, required="write the note")
    if errors:
        raise ReferralInputError(errors)
    referral = _referral_for(session, referral_id, actor)
    event = _add_event(session, referral, ReferralEventKind.NOTE, actor, note)
    _audit(session, context, "referral.note", referral)
    return event


def _open_referral_for(
    session: Session, referral_id: str, expected_version: int, actor: Principal, field: str
) -> Referral:
    referral = _referral_for(session, referral_id, actor)
    _check_version(referral, expected_version)
    if lifecycle.is_terminal(referral.status):
        raise ReferralInputError(
            {field: f"the referral is {referral.status}: there is nothing left to follow up"}
        )
    return referral


def reschedule_follow_up(
    session: Session,
    context: AuditContext,
    referral_id: str,
    expected_version: int,
    follow_up_on: date,
    *,
    note: str | None = None,
    actor: Principal,
    today: date | None = None,
) -> Referral:
    """Follow the referral up on another date (today or later)."""
    today = today or today_in_london()
    errors: dict[str, str] = {}
    text = _text(note, "note", errors)
    if follow_up_on < today:
        errors["follow_up_on"] = f"expected today ({today.isoformat()}) or later"
    if errors:
        raise ReferralInputError(errors)
    referral = _open_referral_for(session, referral_id, expected_version, actor, "follow_up_on")
    before = referral.follow_up_on
    referral.follow_up_on = follow_up_on
    _save_versioned(session, referral, expected_version)
    detail = f"Follow-up moved from {before.isoformat()} to {follow_up_on.isoformat()}"
    _add_event(
        session,
        referral,
        ReferralEventKind.FOLLOW_UP,
        actor,
        _with_note(detail, text),
    )
    _audit(session, context, "referral.follow_up", referral, follow_up_on=[before, follow_up_on])
    return referral


def record_attendance_check(
    session: Session,
    context: AuditContext,
    referral_id: str,
    expected_version: int,
    still_attending: bool,
    *,
    note: str | None = None,
    actor: Principal,
) -> Referral:
    """The answer to a social prescription's "still attending?" check, which is then done."""
    errors: dict[str, str] = {}
    text = _text(note, "note", errors)
    if errors:
        raise ReferralInputError(errors)
    referral = _open_referral_for(session, referral_id, expected_version, actor, "still_attending")
    if referral.attendance_check_on is None:
        raise ReferralInputError(
            {"still_attending": "no 'still attending?' check is due on this referral"}
        )
    referral.attendance_check_on = None
    _save_versioned(session, referral, expected_version)
    detail = f"Still attending: {'yes' if still_attending else 'no'}"
    _add_event(
        session,
        referral,
        ReferralEventKind.FOLLOW_UP,
        actor,
        _with_note(detail, text),
    )
    _audit(session, context, "referral.attendance_check", referral, still_attending=still_attending)
    return referral


# Sensitive needs


def _needs_of(session: Session, referral_ids: Iterable[str]) -> dict[str, list[ShownNeed]]:
    """The needs each referral is for, by code, each sensitive when the finding it was made
    for is, or the need itself."""
    found: dict[str, list[ShownNeed]] = {referral_id: [] for referral_id in referral_ids}
    if not found:
        return found
    rows = session.execute(
        select(
            ReferralNeed.referral_id,
            ReferralNeed.identified_need_id,
            ReferralNeed.need_code,
            IdentifiedNeed.sensitive,
        )
        .join(IdentifiedNeed, IdentifiedNeed.id == ReferralNeed.identified_need_id)
        .where(ReferralNeed.referral_id.in_(list(found)))
        .order_by(ReferralNeed.need_code, ReferralNeed.identified_need_id)
    )
    for referral_id, need_id, code, sensitive in rows:
        known = NEEDS_BY_CODE.get(code)
        flagged = bool(sensitive) or (known is not None and known.sensitive)
        found[referral_id].append(ShownNeed(need_id, code, flagged))
    return found


def _people_with_sensitive_shown_to(viewer: Principal | None) -> Select[str]:
    condition = false() if viewer is None else sensitive_visible_to(viewer)
    return select(Person.id).where(condition)


def _sees_sensitive(
    session: Session, viewer: Principal | None, referrals: Sequence[Referral]
) -> set[str]:
    """The ids of the referrals whose sensitive needs the viewer may see: as the clinical
    user of the person's care team (social_history.service.may_see_sensitive), or as the
    provider it was sent to."""
    if viewer is None or not referrals:
        return set()
    in_care_team = set(
        session.scalars(
            select(Person.id).where(
                Person.id.in_({referral.person_id for referral in referrals}),
                sensitive_visible_to(viewer),
            )
        )
    )
    linked = set(
        session.scalars(
            select(ProviderLink.directory_organization_id).where(
                ProviderLink.organisation_id == viewer.organisation_id
            )
        )
    )
    return {
        referral.id
        for referral in referrals
        if referral.person_id in in_care_team
        or (referral.status != ReferralStatus.DRAFT and referral.provider_organization_id in linked)
    }


def _sensitive_shown(referral_id: str, needs: Iterable[ShownNeed]) -> list[str]:
    """What a view of the referral showed that is sensitive, by id: the referral (its free
    text) and its sensitive needs; nothing when it showed no sensitive need."""
    sensitive = [item.identified_need_id for item in needs if item.sensitive]
    return [referral_id, *sensitive] if sensitive else []


def _audit_sensitive(
    session: Session, context: AuditContext, page: str, shown: Iterable[tuple[str, list[str]]]
) -> None:
    """One audit event for each person some of whose sensitive content was shown, naming
    the referrals and needs (person id, ids)."""
    by_person: dict[str, list[str]] = {}
    for person_id, ids in shown:
        if ids:
            by_person.setdefault(person_id, []).extend(ids)
    for person_id, ids in by_person.items():
        audit_sensitive_view(session, context, person_id, page, ids)


def shown_needs(
    session: Session,
    context: AuditContext,
    referrals: Sequence[Referral],
    *,
    viewer: Principal,
    page: str,
) -> dict[str, ShownNeeds]:
    """For each referral (by id), the needs it is for that the viewer may see, and whether
    sensitive ones (and with them the referral's free text) are withheld. A view that shows
    sensitive needs is audited as `page`, naming the referral and the needs."""
    needs = _needs_of(session, [referral.id for referral in referrals])
    entitled = _sees_sensitive(session, viewer, referrals)
    shown: dict[str, ShownNeeds] = {}
    for referral in referrals:
        every = needs[referral.id]
        if referral.id in entitled:
            shown[referral.id] = ShownNeeds(tuple(every), withheld=False)
        else:
            kept = tuple(item for item in every if not item.sensitive)
            shown[referral.id] = ShownNeeds(kept, withheld=len(kept) < len(every))
    _audit_sensitive(
        session,
        context,
        page,
        (
            (referral.person_id, _sensitive_shown(referral.id, shown[referral.id].needs))
            for referral in referrals
        ),
    )
    return shown


def consent_withheld(
    session: Session, context: AuditContext, consent: Consent, *, viewer: Principal, page: str
) -> bool:
    """Whether what the consent shares, and what for, is withheld from the viewer: it names
    the needs of the referrals made on it, one of them sensitive, which the viewer may not
    see. Showing it to one who may is audited as `page`."""
    made_on = list(session.scalars(select(Referral).where(Referral.consent_id == consent.id)))
    shown = shown_needs(session, context, made_on, viewer=viewer, page=page)
    return any(item.withheld for item in shown.values())


# Reading


def get_referral(
    session: Session, context: AuditContext, referral_id: str, *, actor: Principal
) -> Referral:
    """The referral with its needs and its history (oldest first)."""
    referral = _referral_for(session, referral_id, actor)
    session.refresh(referral, ["needs", "events"])
    _audit(session, context, "referral.read", referral)
    return referral


_STATUS_ORDER = case(
    {status: position for position, status in enumerate(ReferralStatus)}, value=Referral.status
)
_SORTS: Mapping[CaseloadSort, tuple[ColumnElement[Any], ...]] = {
    CaseloadSort.FOLLOW_UP: (Referral.follow_up_on.asc(), Referral.created_at.asc()),
    CaseloadSort.NEWEST: (Referral.created_at.desc(),),
    CaseloadSort.OLDEST: (Referral.created_at.asc(),),
    CaseloadSort.UPDATED: (Referral.updated_at.desc(),),
    CaseloadSort.PERSON: (Person.family_name.asc(), Person.given_name.asc()),
    CaseloadSort.SERVICE: (Referral.service_name.asc(), Referral.follow_up_on.asc()),
    CaseloadSort.STATUS: (_STATUS_ORDER.asc(), Referral.follow_up_on.asc()),
}


def _summaries(
    session: Session,
    conditions: Iterable[ColumnElement[bool]],
    order: Iterable[ColumnElement[Any]],
    *,
    offset: int = 0,
    limit: int | None = None,
    viewer: Principal | None,
    provider: bool = False,
) -> list[ReferralSummary]:
    """The referrals as a list shows them to `viewer`: sensitive needs, and the status
    reason with them, only on the referrals whose sensitive needs the viewer may see (all
    of them for `provider`, a list of the referrals sent to the viewer's organisation)."""
    rows = session.execute(
        select(Referral, Person.given_name, Person.family_name)
        .join(Person, Person.id == Referral.person_id)
        .where(*conditions)
        .order_by(*order, Referral.id)
        .offset(offset)
        .limit(limit)
    ).all()
    referrals = [row[0] for row in rows]
    needs = _needs_of(session, [referral.id for referral in referrals])
    entitled = (
        {referral.id for referral in referrals}
        if provider
        else _sees_sensitive(session, viewer, referrals)
    )
    summaries: list[ReferralSummary] = []
    for referral, given, family in rows:
        every = needs[referral.id]
        shown = every if referral.id in entitled else [n for n in every if not n.sensitive]
        withheld = len(shown) < len(every)
        summaries.append(
            ReferralSummary(
                id=referral.id,
                version=referral.version,
                person_id=referral.person_id,
                person_name=f"{given} {family}",
                service_id=referral.service_id,
                service_name=referral.service_name,
                provider_organization_id=referral.provider_organization_id,
                status=referral.status,
                status_reason=None if withheld else referral.status_reason,
                need_codes=tuple(item.code for item in shown),
                is_social_prescription=referral.is_social_prescription,
                follow_up_on=referral.follow_up_on,
                attendance_check_on=referral.attendance_check_on,
                requester_user_id=referral.requester_user_id,
                created_at=referral.created_at,
                updated_at=referral.updated_at,
                sensitive_need_ids=tuple(
                    item.identified_need_id for item in shown if item.sensitive
                ),
            )
        )
    return summaries


def _audit_list_read(
    session: Session,
    context: AuditContext,
    listing: str,
    items: Sequence[ReferralSummary],
    subject_type: str,
    subject_id: int | str,
    **detail: object,
) -> None:
    """Audit a read of the list `listing`: the referrals it showed, then its sensitive needs
    by person."""
    record_event(
        session,
        context,
        f"{listing}.read",
        subject_type=subject_type,
        subject_id=subject_id,
        detail={**detail, "referral_ids": [item.id for item in items]},
    )
    _audit_listed(session, context, listing, items)


def _audit_listed(
    session: Session, context: AuditContext, page: str, items: Iterable[ReferralSummary]
) -> None:
    """Audit the sensitive needs a list showed, by person."""
    _audit_sensitive(
        session,
        context,
        page,
        ((item.person_id, _listed_sensitive(item)) for item in items),
    )


def _listed_sensitive(item: ReferralSummary) -> list[str]:
    return [item.id, *item.sensitive_need_ids] if item.sensitive_need_ids else []


def _page(
    session: Session,
    conditions: list[ColumnElement[bool]],
    order: Iterable[ColumnElement[Any]],
    page: int,
    page_size: int,
    *,
    viewer: Principal | None,
    provider: bool = False,
) -> ReferralPage:
    if page < 1:
        raise ReferralInputError({"page": f"expected a page number from 1, got {page}"})
    total = (
        session.scalar(
            select(func.count())
            .select_from(Referral)
            .join(Person, Person.id == Referral.person_id)
            .where(*conditions)
        )
        or 0
    )
    items = _summaries(
        session,
        conditions,
        order,
        offset=(page - 1) * page_size,
        limit=page_size,
        viewer=viewer,
        provider=provider,
    )
    return ReferralPage(items, total, page, page_size)


def caseload(
    session: Session,
    context: AuditContext,
    user_id: int,
    filters: CaseloadFilters = CaseloadFilters(),  # frozen, so safe to share
    sort: CaseloadSort = CaseloadSort.FOLLOW_UP,
    page: int = 1,
    *,
    page_size: int = DEFAULT_PAGE_SIZE,
    today: date | None = None,
    viewer: Principal | None = None,
) -> ReferralPage:
    """One page of the referrals `user_id` made, filtered and sorted, as `viewer` (the user,
    signed in) may see them: sensitive needs only where they may see them; none without a
    viewer."""
    today = today or today_in_london()
    conditions: list[ColumnElement[bool]] = [
        Referral.requester_user_id == user_id,
        Referral.status.in_(filters.statuses),
    ]
    if filters.need_code is not None:
        try:
            wanted = need(filters.need_code)
        except UnknownNeed as unknown:
            raise ReferralInputError({"need_code": str(unknown)}) from None
        conditions.append(
            Referral.id.in_(
                select(ReferralNeed.referral_id).where(ReferralNeed.need_code == wanted.code)
            )
        )
        if wanted.sensitive:  # finding referrals by a sensitive need shows who has it
            conditions.append(Referral.person_id.in_(_people_with_sensitive_shown_to(viewer)))
    if filters.service_id is not None:
        conditions.append(Referral.service_id == filters.service_id)
    if filters.person_id is not None:
        conditions.append(Referral.person_id == filters.person_id)
    if filters.overdue_only:
        conditions += [
            Referral.status.in_(lifecycle.OPEN_STATUSES),
            Referral.follow_up_on < today,
        ]
    if filters.social_prescriptions_only:
        conditions.append(Referral.is_social_prescription.is_(True))
    result = _page(session, conditions, _SORTS[sort], page, page_size, viewer=viewer)
    _audit_list_read(
        session, context, "referral.caseload", result.items, "user", user_id, page=page
    )
    return result


def referrals_of_person(
    session: Session, context: AuditContext, person_id: str, *, actor: Principal
) -> list[ReferralSummary]:
    """Every referral made for the person, the newest first, for those who may see them."""
    _person(session, person_id, actor)
    items = _summaries(
        session, [Referral.person_id == person_id], [Referral.created_at.desc()], viewer=actor
    )
    _audit_list_read(session, context, "referral.person", items, "person", person_id)
    return items


def caseload_services(session: Session, user_id: int) -> list[tuple[str, str]]:
    """The services `user_id` has referred to, as (service id, name) by name: the choices of
    the caseload's service filter."""
    rows = session.execute(
        select(Referral.service_id, Referral.service_name)
        .where(Referral.requester_user_id == user_id)
        .distinct()
        .order_by(Referral.service_name, Referral.service_id)
    )
    return [(service_id, name) for service_id, name in rows]


def _due_conditions(
    user_id: int | None, organisation_id: int | None, today: date
) -> tuple[list[ColumnElement[bool]], list[ColumnElement[bool]]]:
    """The conditions of the open referrals a user (or an organisation) made that are past
    their follow-up date, and of those whose "still attending?" check is due."""
    if (user_id is None) == (organisation_id is None):
        raise ReferralInputError({"user_id": "give either a user or an organisation, not both"})
    owner = (
        Referral.requester_user_id == user_id
        if user_id is not None
        else Referral.requester_organisation_id == organisation_id
    )
    still_open = Referral.status.in_(lifecycle.OPEN_STATUSES)
    return (
        [owner, still_open, Referral.follow_up_on < today],
        [owner, still_open, Referral.attendance_check_on <= today],
    )


def count_due(session: Session, user_id: int, *, today: date | None = None) -> int:
    """How many checks `overdue` would list for the user (for a count on the home page; it
    names no one, so it is not audited)."""
    today = today or today_in_london()
    return sum(
        session.scalar(select(func.count()).select_from(Referral).where(*conditions)) or 0
        for conditions in _due_conditions(user_id, None, today)
    )


def count_waiting_in_inbox(session: Session, organisation_id: int) -> int:
    """Referrals sent to the organisation's linked services that no one has opened yet."""
    linked = select(ProviderLink.directory_organization_id).where(
        ProviderLink.organisation_id == organisation_id
    )
    return (
        session.scalar(
            select(func.count())
            .select_from(Referral)
            .where(
                Referral.provider_organization_id.in_(linked),
                Referral.status == ReferralStatus.REQUESTED,
            )
        )
        or 0
    )


def overdue(
    session: Session,
    context: AuditContext,
    *,
    user_id: int | None = None,
    organisation_id: int | None = None,
    today: date | None = None,
    limit: int = 200,
    viewer: Principal | None = None,
) -> list[DueCheck]:
    """The checks due on the referrals a user (or an organisation) made, oldest first:
    open referrals past their follow-up date, and "still attending?" checks of social
    prescriptions (due from four weeks after acceptance, late after six). Sensitive needs
    are listed only where `viewer` may see them (a colleague outside the person's care team
    may not); none without a viewer."""
    today = today or today_in_london()
    follow_ups, attendance_checks = _due_conditions(user_id, organisation_id, today)
    checks = [
        DueCheck(
            DueCheckKind.FOLLOW_UP, item.follow_up_on, (today - item.follow_up_on).days, True, item
        )
        for item in _summaries(
            session, follow_ups, [Referral.follow_up_on.asc()], limit=limit, viewer=viewer
        )
    ]
    for item in _summaries(
        session,
        attendance_checks,
        [Referral.attendance_check_on.asc()],
        limit=limit,
        viewer=viewer,
    ):
        due_on = item.attendance_check_on
        assert due_on is not None  # the query asked for it
        checks.append(
            DueCheck(
                DueCheckKind.STILL_ATTENDING,
                due_on,
                (today - due_on).days,
                today > due_on + ATTENDANCE_CHECK_LATE_AFTER,
                item,
            )
        )
    checks.sort(key=lambda check: (check.due_on, check.referral.id, check.kind))
    checks = checks[:limit]
    record_event(
        session,
        context,
        "referral.overdue.read",
        subject_type="user" if user_id is not None else "organisation",
        subject_id=user_id if user_id is not None else organisation_id,
        detail={"referral_ids": sorted({check.referral.id for check in checks})},
    )
    listed = {check.referral.id: check.referral for check in checks}
    _audit_listed(session, context, "referral.overdue", listed.values())
    return checks


def provider_inbox(
    session: Session,
    context: AuditContext,
    organisation_id: int,
    statuses: Iterable[ReferralStatus] | None = None,
    page: int = 1,
    *,
    page_size: int = DEFAULT_PAGE_SIZE,
) -> ReferralPage:
    """Referrals sent to the services of the directory organisations this (provider)
    organisation is linked to, oldest first; by default the open ones. Drafts never show.
    Each with every need it is for, sensitive ones too: it was made to them for those."""
    wanted = (lifecycle.SENT_OPEN_STATUSES if statuses is None else frozenset(statuses)) - {
        ReferralStatus.DRAFT
    }
    linked = select(ProviderLink.directory_organization_id).where(
        ProviderLink.organisation_id == organisation_id
    )
    conditions: list[ColumnElement[bool]] = [
        Referral.provider_organization_id.in_(linked),
        Referral.status.in_(wanted),
    ]
    result = _page(
        session,
        conditions,
        [Referral.created_at.asc()],
        page,
        page_size,
        viewer=None,
        provider=True,
    )
    _audit_list_read(
        session, context, "referral.inbox", result.items, "organisation", organisation_id, page=page
    )
    return result


# Provider links


def find_directory_organizations(
    session: Session, text: str, *, limit: int = 20
) -> tuple[list[Organization], int]:
    """The directory organisations `text` may mean, by name, and how many there are: the one
    with that id; else those with that name (in any case); else those whose name or other
    name contains it."""
    wanted = text.strip()
    if not wanted:
        return [], 0
    by_id = session.get(Organization, wanted)
    if by_id is not None:
        return [by_id], 1
    order = (Organization.name, Organization.id)
    named = list(
        session.scalars(
            select(Organization)
            .where(func.lower(Organization.name) == wanted.lower())
            .order_by(*order)
        )
    )
    if named:
        return named[:limit], len(named)
    containing = select(Organization).where(
        Organization.name.icontains(wanted, autoescape=True)
        | Organization.alternate_name.icontains(wanted, autoescape=True)
    )
    total = session.scalar(select(func.count()).select_from(containing.subquery())) or 0
    return list(session.scalars(containing.order_by(*order).limit(limit))), total


def resolve_directory_organization(
    session: Session, text: str, field: str = "directory_organization_id"
) -> Organization:
    """The one directory organisation `text` means (see find_directory_organizations);
    ReferralInputError naming `field` when it means none, or several (naming a few)."""
    wanted = text.strip()
    if not wanted:
        raise ReferralInputError(
            {field: "give the directory organisation's id, its name or part of its name"}
        )
    found, total = find_directory_organizations(session, wanted, limit=5)
    if total == 1:
        return found[0]
    if not found:
        raise ReferralInputError(
            {
                field: f"no organisation in the directory has the id {wanted!r} "
                "or a name containing it"
            }
        )
    named = "; ".join(f"{organization.name} ({organization.id})" for organization in found)
    more = f" and {total - len(found)} more" if total > len(found) else ""
    raise ReferralInputError(
        {
            field: f"{total} organisations in the directory match {wanted!r}: {named}{more}; "
            "give its id"
        }
    )


def may_manage_links(actor: Principal | None) -> bool:
    """Only an administrator (or the command line, with no actor) links and unlinks: a link
    opens referrals, sensitive needs included, to the organisation's users, so an
    organisation may not grant it to itself."""
    return actor is None or Role.ADMIN in actor.roles


def _organisation_for_links(
    session: Session, organisation_id: int, actor: Principal | None
) -> Organisation:
    """The organisation whose links are changed, if the actor may change them."""
    organisation = session.get(Organisation, organisation_id)
    if organisation is None:
        raise ReferralInputError({"organisation_id": f"no organisation with id {organisation_id}"})
    if not may_manage_links(actor):
        raise ProviderLinkNotAllowed(
            f"only an administrator may change the provider links of {organisation.name}"
        )
    return organisation


def link_provider(
    session: Session,
    context: AuditContext,
    organisation_id: int,
    directory_organization_id: str,
    *,
    actor: Principal | None = None,
) -> ProviderLink:
    """Let users of `organisation_id` see and work referrals to the services of the
    directory organisation `directory_organization_id`. Linking again changes nothing."""
    _organisation_for_links(session, organisation_id, actor)
    try:
        organization_records(session, directory_organization_id)
    except RecordNotFound:
        raise ReferralInputError(
            {
                "directory_organization_id": f"no organisation {directory_organization_id!r} "
                "in the directory"
            }
        ) from None
    link = session.get(ProviderLink, (organisation_id, directory_organization_id))
    if link is None:
        link = ProviderLink(
            organisation_id=organisation_id, directory_organization_id=directory_organization_id
        )
        session.add(link)
        session.flush()
        record_event(
            session,
            context,
            "referral.provider_link.create",
            subject_type="organisation",
            subject_id=organisation_id,
            detail={"directory_organization_id": directory_organization_id},
        )
    return link


def unlink_provider(
    session: Session,
    context: AuditContext,
    organisation_id: int,
    directory_organization_id: str,
    *,
    actor: Principal | None = None,
) -> None:
    """Users of `organisation_id` no longer see or work referrals to the services of the
    directory organisation. The referrals stay as they are, for the referrer to follow up."""
    organisation = _organisation_for_links(session, organisation_id, actor)
    link = session.get(ProviderLink, (organisation_id, directory_organization_id))
    if link is None:
        raise ReferralInputError(
            {
                "directory_organization_id": f"{organisation.name} is not linked to directory "
                f"organisation {directory_organization_id!r}"
            }
        )
    session.delete(link)
    session.flush()
    record_event(
        session,
        context,
        "referral.provider_link.delete",
        subject_type="organisation",
        subject_id=organisation_id,
        detail={"directory_organization_id": directory_organization_id},
    )


def is_linked(session: Session, organisation_id: int, directory_organization_id: str) -> bool:
    return session.get(ProviderLink, (organisation_id, directory_organization_id)) is not None


def provider_organisations(
    session: Session, *, actor: Principal | None = None
) -> list[ProviderOrganisation]:
    """The organisations whose users work referrals, by name, each with how many of its
    active users hold the provider role and the directory organisations it is linked to: for
    an administrator (or at the command line) every organisation of kind provider, with a
    provider user, or linked; for an organisation administrator their own organisation."""
    provider_users = (
        select(User.organisation_id, func.count().label("users"))
        .join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == Role.PROVIDER, User.is_active.is_(True))
        .group_by(User.organisation_id)
        .subquery()
    )
    query = select(Organisation, func.coalesce(provider_users.c.users, 0)).outerjoin(
        provider_users, provider_users.c.organisation_id == Organisation.id
    )
    if actor is not None and Role.ADMIN not in actor.roles:
        query = query.where(Organisation.id == actor.organisation_id)
    else:
        query = query.where(
            (Organisation.kind == OrganisationKind.PROVIDER)
            | (provider_users.c.users > 0)
            | Organisation.id.in_(select(ProviderLink.organisation_id))
        )
    rows = session.execute(query.order_by(Organisation.name)).all()
    links: dict[int, list[LinkedOrganization]] = {row[0].id: [] for row in rows}
    for organisation_id, organization_id, name in session.execute(
        select(
            ProviderLink.organisation_id, ProviderLink.directory_organization_id, Organization.name
        )
        .outerjoin(Organization, Organization.id == ProviderLink.directory_organization_id)
        .where(ProviderLink.organisation_id.in_(list(links)))
        .order_by(Organization.name, ProviderLink.directory_organization_id)
    ):
        links[organisation_id].append(LinkedOrganization(organization_id, name))
    return [
        ProviderOrganisation(organisation, users, tuple(links[organisation.id]))
        for organisation, users in rows
    ]


# Outcome measures


def record_outcome_measure(
    session: Session,
    context: AuditContext,
    referral_id: str,
    instrument: Instrument | str,
    timing: Timing | str,
    item_scores: Mapping[str, object],
    *,
    actor: Principal,
) -> OutcomeMeasure:
    """Record an ONS4 or SWEMWBS score before or after the referral. A later score for the
    same instrument and timing supersedes an earlier one (a correction)."""
    measured = _choice(Instrument, instrument, "instrument")
    when = _choice(Timing, timing, "timing")
    scored = outcomes.score(measured, item_scores)
    referral = _referral_for(session, referral_id, actor)
    measure = OutcomeMeasure(
        referral_id=referral.id,
        instrument=measured.value,
        timing=when.value,
        item_scores=scored.item_scores,
        total=scored.total,
        recorded_by_user_id=actor.user_id,
    )
    session.add(measure)
    session.flush()
    _audit(
        session,
        context,
        "referral.outcome_measure.record",
        referral,
        instrument=measured,
        timing=when,
    )
    return measure


def _scored(measure: OutcomeMeasure) -> Scored:
    total = None if measure.total is None else round(measure.total)
    return Scored({key: int(value) for key, value in measure.item_scores.items()}, total)


def outcome_changes(
    session: Session, context: AuditContext, referral_id: str, *, actor: Principal
) -> list[OutcomeChange]:
    """For each instrument recorded on the referral, the latest scores before and after and
    how they changed."""
    referral = _referral_for(session, referral_id, actor)
    latest: dict[tuple[str, str], OutcomeMeasure] = {}
    for measure in session.scalars(
        select(OutcomeMeasure)
        .where(OutcomeMeasure.referral_id == referral.id)
        .order_by(OutcomeMeasure.recorded_at, OutcomeMeasure.id)
    ):
        latest[(measure.instrument, measure.timing)] = measure
    changes = []
    for instrument in Instrument:
        before = latest.get((instrument.value, Timing.BEFORE.value))
        after = latest.get((instrument.value, Timing.AFTER.value))
        if before is None and after is None:
            continue
        changes.append(
            outcomes.change(
                instrument,
                None if before is None else _scored(before),
                None if after is None else _scored(after),
            )
        )
    _audit(session, context, "referral.outcome_measure.read", referral)
    return changes
