"""Errors of consents, referrals and their follow-up. Each message says what is wrong and,
where there is one, what to do instead."""

from __future__ import annotations

from healthequity.store.exceptions import StaleRecord


class ReferralError(Exception):
    """Base of the referrals capability's expected errors."""


class ReferralInputError(ReferralError, ValueError):
    """Input with wrong fields: `errors` maps each field's name to what is wrong with it."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{name}: {message}" for name, message in errors.items()))
        self.errors = errors


class ReferralNotFound(ReferralError, LookupError):
    """No referral with that id, or none that the actor may see."""


class PersonNotFound(ReferralError, LookupError):
    """No person with that id."""


class ServiceNotFound(ReferralError, LookupError):
    """No directory service with that id."""


class ServiceNotAcceptingReferrals(ReferralError):
    """The directory service is closed or not taking referrals now."""

    def __init__(self, service_id: str, service_name: str, why: str) -> None:
        super().__init__(
            f"{service_name} is not accepting referrals ({why}): "
            "choose another service for this need"
        )
        self.service_id = service_id
        self.service_name = service_name
        self.why = why


class ConsentNotValid(ReferralError):
    """The consent given for a referral does not allow sharing with that provider now, or
    there is no such consent among those the actor may withdraw."""


class ProviderLinkNotAllowed(ReferralError, PermissionError):
    """Someone other than an administrator asked to link or unlink a provider organisation."""


class IllegalTransition(ReferralError):
    """A status change the referral lifecycle does not allow from the current status."""

    def __init__(self, current: str, asked: str, explanation: str) -> None:
        super().__init__(f"cannot go from {current} to {asked}: {explanation}")
        self.current = current
        self.asked = asked


class StaleReferral(StaleRecord, ReferralError):
    """Someone else changed the referral after the caller read it (optimistic locking)."""

    def __init__(self, referral_id: str, expected_version: int, current_version: int) -> None:
        super().__init__(
            f"referral {referral_id} was changed by someone else: you saw version "
            f"{expected_version}, it is now at version {current_version}; "
            "read it again and make your change again if it still applies"
        )
        self.referral_id = referral_id
        self.expected_version = expected_version
        self.current_version = current_version
