"""Who may see what through the FHIR API, as conditions on the tables, so that a read and a
search apply the same rule; who records what a system token sends; and the audit of every
read of a person's data.

The rules are those of the pages and services:
- a person's record, answers, consents and needs: their care team
  (`people.service.can_see_person`); sensitive needs (domestic abuse, immigration,
  safeguarding) only for the clinical users (clinicians, link workers) among them
  (`social_history.service.may_see_sensitive`, as a condition `sensitive_visible_to`);
- a referral (ServiceRequest and Task): the organisation that made it, the person's care
  team, and, once sent, users and tokens of a provider organisation linked to the
  directory organisation that runs the service (`referrals.service`);
- such a provider also sees the needs a referral to it was made for, sensitive or not, and
  the minimum of the person's record needed to contact them while the consent lasts; others
  who may see a referral for a sensitive need see it without that need and without its free
  text (`referrals.service.shown_needs`).

Every view that shows sensitive content is also audited by
`social_history.service.audit_sensitive_view`, naming the records shown.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.orm import Session

from healthequity.audit.schemas import AuditContext
from healthequity.audit.service import record_event
from healthequity.auth.models import User
from healthequity.auth.schemas import Principal
from healthequity.fhir_api.exceptions import business_rule
from healthequity.people.models import Person
from healthequity.people.service import CLINICAL_ROLES, visible_to
from healthequity.referrals.models import (
    Consent,
    ConsentStatus,
    ProviderLink,
    Referral,
    ReferralNeed,
    ReferralStatus,
)
from healthequity.social_history.models import IdentifiedNeed
from healthequity.social_history.service import audit_sensitive_view, sensitive_visible_to

PURPOSE = "direct care"


def visible_people(principal: Principal) -> Select[str]:
    """The ids of the people whose records the principal may see."""
    return select(Person.id).where(visible_to(principal))


def sensitive_people(principal: Principal) -> Select[str]:
    """The ids of the people whose sensitive answers and needs the principal may see."""
    return select(Person.id).where(sensitive_visible_to(principal))


def _linked_organizations(principal: Principal) -> Select[str]:
    return select(ProviderLink.directory_organization_id).where(
        ProviderLink.organisation_id == principal.organisation_id
    )


def sent_to(principal: Principal) -> ColumnElement[bool]:
    """Referrals sent to a directory organisation the principal's organisation works for."""
    return and_(
        Referral.status != ReferralStatus.DRAFT,
        Referral.provider_organization_id.in_(_linked_organizations(principal)),
    )


def visible_referrals(principal: Principal) -> ColumnElement[bool]:
    return or_(
        Referral.requester_organisation_id == principal.organisation_id,
        Referral.person_id.in_(visible_people(principal)),
        sent_to(principal),
    )


def visible_needs(principal: Principal) -> ColumnElement[bool]:
    in_care_team = and_(
        IdentifiedNeed.person_id.in_(visible_people(principal)),
        or_(
            IdentifiedNeed.sensitive.is_(False),
            IdentifiedNeed.person_id.in_(sensitive_people(principal)),
        ),
    )
    referred_for = IdentifiedNeed.id.in_(
        select(ReferralNeed.identified_need_id)
        .join(Referral, Referral.id == ReferralNeed.referral_id)
        .where(sent_to(principal))
    )
    return or_(in_care_team, referred_for)


def shares_with_provider(principal: Principal, today: date) -> ColumnElement[bool]:
    """People with a referral sent to the principal's provider organisation whose consent
    is still active and in date: what the provider needs to contact them is shared."""
    return Person.id.in_(
        select(Referral.person_id)
        .join(Consent, Consent.id == Referral.consent_id)
        .where(
            sent_to(principal),
            Consent.status == ConsentStatus.ACTIVE,
            Consent.expires_on >= today,
        )
    )


# Who records


def acting_user(
    session: Session,
    principal: Principal,
    context: AuditContext,
    reference: str | None,
    expression: str,
) -> tuple[Principal, AuditContext]:
    """Who records a change that the service keeps against a user (a consent, a referral,
    answers): a signed-in user themselves; for a system token, the Practitioner the resource
    names (`expression`), who must be an active clinician or link worker of the token's
    organisation. The user acts with the roles they share with the token, and the audit
    names both."""
    if principal.user_id is not None:
        own = f"Practitioner/{principal.user_id}"
        if reference not in (None, own):
            raise business_rule(
                f"{expression} is {reference}: a signed-in user records as themselves, {own}",
                expression,
            )
        return principal, context
    if reference is None:
        raise business_rule(
            f"{expression} is missing: a system records on behalf of a clinician or link "
            f"worker of {principal.organisation_name}; name them, like Practitioner/<user id>",
            expression,
        )
    kind, _, user_id = reference.partition("/")
    known = kind == "Practitioner" and user_id.isdigit() and len(user_id) <= 9  # an integer id
    user = session.get(User, int(user_id)) if known else None
    roles = (user.roles & principal.roles) if user is not None else frozenset()
    if (
        user is None
        or not user.is_active
        or user.organisation_id != principal.organisation_id
        or not roles & CLINICAL_ROLES
    ):
        raise business_rule(
            f"{expression} {reference!r} is not an active clinician or link worker of "
            f"{principal.organisation_name} that this token may act for",
            expression,
        )
    acting = Principal(
        display_name=user.display_name,
        organisation_id=user.organisation_id,
        organisation_name=principal.organisation_name,
        roles=roles,
        user_id=user.id,
        email=user.email,
        api_token_id=principal.api_token_id,
    )
    return acting, dataclasses.replace(context, user_id=user.id)


# Audit


class PersonRecord(Protocol):
    """A record of a person's data (answers, a need, a consent, a referral)."""

    @property
    def id(self) -> str: ...

    @property
    def person_id(self) -> str: ...


def audit_view(
    session: Session,
    context: AuditContext,
    resource_type: str,
    interaction: str,
    shown: Sequence[PersonRecord],
    *,
    sensitive: int = 0,
    **detail: Any,
) -> None:
    """One audit event for a read or search of people's data: what was shown, whose, and
    how many of the records shown were sensitive (never their content). The sensitive ones
    are named, by person, with `audit_sensitive`."""
    ids = [record.id for record in shown]
    record_event(
        session,
        context if context.purpose else context.for_purpose(PURPOSE),
        f"fhir.{resource_type}.{interaction}",
        subject_type=resource_type,
        subject_id=ids[0] if interaction == "read" and ids else None,
        detail={
            "ids": ids,
            "person_ids": sorted({record.person_id for record in shown}),
            "sensitive_shown": sensitive,
            **detail,
        },
    )


def audit_sensitive(
    session: Session,
    context: AuditContext,
    resource_type: str,
    shown: Iterable[tuple[str, Iterable[str]]],
) -> None:
    """Name the sensitive records a read or search showed, for each person: (person id,
    ids of the records) pairs, where the ids may be empty."""
    by_person: dict[str, list[str]] = {}
    for person_id, ids in shown:
        by_person.setdefault(person_id, []).extend(ids)
    why = context if context.purpose else context.for_purpose(PURPOSE)
    for person_id, ids in by_person.items():
        audit_sensitive_view(session, why, person_id, f"fhir.{resource_type}", ids)
