"""Shapes the referral services take and give: lists of referrals, their filters and sort
orders, the follow-up checks that are due, provider links and services' follow-up days."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from datetime import date, datetime

from healthequity.auth.models import Organisation
from healthequity.directory.models import ServiceStatus
from healthequity.referrals.lifecycle import OPEN_STATUSES
from healthequity.referrals.models import ReferralStatus


@dataclass(frozen=True, slots=True)
class ReferralSummary:
    """One referral as a list shows it: whom for, to what service, where it stands."""

    id: str
    version: int
    person_id: str
    person_name: str
    service_id: str
    service_name: str
    provider_organization_id: str
    status: ReferralStatus
    status_reason: str | None  # None also when withheld with the sensitive needs
    need_codes: tuple[str, ...]  # those the viewer may see
    is_social_prescription: bool
    follow_up_on: date
    attendance_check_on: date | None
    requester_user_id: int
    created_at: datetime
    updated_at: datetime
    # The sensitive needs listed (identified need ids), for the audit of the view.
    sensitive_need_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ShownNeed:
    """A need a referral is for, as a viewer may see it."""

    identified_need_id: str
    code: str
    sensitive: bool


@dataclass(frozen=True, slots=True)
class ShownNeeds:
    """What a viewer may see of the needs a referral is for. When `withheld`, the referral
    is for sensitive needs the viewer may not see: they are left out, and so is the
    referral's free text (the note, reasons, outcome, history and consent), which speaks of
    them."""

    needs: tuple[ShownNeed, ...]
    withheld: bool


class ContactMethod(enum.StrEnum):
    PHONE = "phone"
    TEXT_MESSAGE = "text_message"
    EMAIL = "email"
    LETTER = "letter"
    IN_PERSON = "in_person"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class CaseloadSort(enum.StrEnum):
    FOLLOW_UP = "follow_up"  # soonest follow-up date first
    NEWEST = "newest"
    OLDEST = "oldest"
    UPDATED = "updated"  # most recently changed first
    PERSON = "person"  # by family name, then given name
    SERVICE = "service"  # by service name
    STATUS = "status"  # in lifecycle order


@dataclass(frozen=True, slots=True)
class CaseloadFilters:
    """Which referrals of a caseload to list. By default, the open ones."""

    statuses: frozenset[ReferralStatus] = OPEN_STATUSES
    need_code: str | None = None
    service_id: str | None = None
    person_id: str | None = None
    overdue_only: bool = False
    social_prescriptions_only: bool = False


@dataclass(frozen=True, slots=True)
class ReferralPage:
    items: list[ReferralSummary]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.page_size))


class DueCheckKind(enum.StrEnum):
    FOLLOW_UP = "follow_up"  # the follow-up date has passed
    STILL_ATTENDING = "still_attending"  # social prescription: ask "still attending?"


@dataclass(frozen=True, slots=True)
class DueCheck:
    """A check the referrer owes: following up an open referral whose follow-up date has
    passed, or asking a person on a social prescription whether they are still attending."""

    kind: DueCheckKind
    due_on: date
    days_overdue: int
    # Follow-ups: always. "Still attending?": past the six-week window.
    late: bool
    referral: ReferralSummary


@dataclass(frozen=True, slots=True)
class LinkedOrganization:
    """A directory organisation a provider organisation is linked to. `name` is None when
    the directory no longer holds it (the link stays until someone removes it)."""

    directory_organization_id: str
    name: str | None


@dataclass(frozen=True, slots=True)
class ProviderOrganisation:
    """An organisation whose users work referrals (some hold the provider role, or it is
    linked already), how many users hold that role, and what it is linked to, by name."""

    organisation: Organisation
    provider_users: int
    links: tuple[LinkedOrganization, ...]


@dataclass(frozen=True, slots=True)
class ServiceFollowUp:
    """A directory service and after how many days its referrals are followed up: its own
    setting, or the default when `own_days` is None."""

    service_id: str
    service_name: str
    organization_id: str
    organization_name: str
    status: ServiceStatus
    days: int
    own_days: int | None
