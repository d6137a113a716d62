"""Operations on organisations, users, sign-in sessions and API tokens."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from healthequity.audit import service as audit_service
from healthequity.audit.schemas import AuditContext
from healthequity.auth.exceptions import (
    AuthenticationFailed,
    InvalidRole,
    InvalidUserDetails,
    UnknownApiToken,
    UnknownOrganisation,
    UnknownUser,
    UserExists,
)
from healthequity.auth.models import (
    ApiToken,
    ApiTokenRole,
    Organisation,
    OrganisationKind,
    Role,
    User,
    UserRole,
    UserSession,
)
from healthequity.auth.passwords import (
    MINIMUM_PASSWORD_LENGTH,
    hash_password,
    needs_rehash,
    verify_password,
)
from healthequity.auth.schemas import IssuedSecret, Principal
from healthequity.store.database import utc_now

SESSION_LIFETIME = timedelta(hours=8)
# After this many failures in a row the account is locked, for a time that doubles
# with each further failure up to the cap: slows guessing without locking people out for long.
FAILURES_BEFORE_LOCK = 5
FIRST_LOCK = timedelta(minutes=1)
LONGEST_LOCK = timedelta(hours=1)
TOKEN_USE_RESOLUTION = timedelta(minutes=1)
API_TOKEN_PREFIX = "he_"  # noqa: S105 (a public prefix, not a secret)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def secret_hash(secret: str) -> str:
    """Session cookies and API tokens are long random strings, so SHA-256 is enough."""
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_roles(names: Iterable[str]) -> frozenset[Role]:
    roles = set()
    for name in names:
        try:
            roles.add(Role(name.strip()))
        except ValueError:
            raise InvalidRole(
                f"role {name!r} is not known: expected one of {', '.join(r.value for r in Role)}"
            ) from None
    return frozenset(roles)


# Organisations


def ensure_organisation(
    session: Session, name: str, kind: OrganisationKind, ods_code: str | None = None
) -> Organisation:
    """The organisation with this name, created if absent (kind and ODS code updated)."""
    organisation = session.scalar(select(Organisation).where(Organisation.name == name))
    if organisation is None:
        organisation = Organisation(name=name, kind=kind, ods_code=ods_code)
        session.add(organisation)
    else:
        organisation.kind = kind
        organisation.ods_code = ods_code
    session.flush()
    return organisation


def get_organisation(session: Session, name_or_ods_code: str) -> Organisation:
    organisation = session.scalar(
        select(Organisation).where(
            (Organisation.name == name_or_ods_code)
            | (Organisation.ods_code == name_or_ods_code.upper())
        )
    )
    if organisation is None:
        raise UnknownOrganisation(f"no organisation is named or has ODS code {name_or_ods_code!r}")
    return organisation


def list_organisations(session: Session) -> list[Organisation]:
    return list(session.scalars(select(Organisation).order_by(Organisation.name)))


# Users


def normalise_email(email: str) -> str:
    return email.strip().lower()


def _check_user_details(email: str, display_name: str, password: str) -> None:
    if not _EMAIL.match(email):
        raise InvalidUserDetails(f"email {email!r} is not an email address")
    if not display_name.strip():
        raise InvalidUserDetails("display name is empty: expected the person's name")
    if len(password) < MINIMUM_PASSWORD_LENGTH:
        raise InvalidUserDetails(
            f"password is {len(password)} characters: expected at least {MINIMUM_PASSWORD_LENGTH}"
        )


def create_user(
    session: Session,
    context: AuditContext,
    *,
    email: str,
    display_name: str,
    password: str,
    organisation: Organisation,
    roles: Iterable[Role],
) -> User:
    email = normalise_email(email)
    _check_user_details(email, display_name, password)
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise UserExists(f"a user with email {email!r} exists already")
    user = User(
        email=email,
        display_name=display_name.strip(),
        password_hash=hash_password(password),
        organisation=organisation,
        role_grants=[UserRole(role=role) for role in sorted(set(roles))],
    )
    session.add(user)
    session.flush()
    audit_service.record_event(
        session,
        context,
        "user.create",
        subject_type="user",
        subject_id=user.id,
        detail={"roles": sorted(user.roles), "organisation_id": organisation.id},
    )
    return user


def ensure_user(
    session: Session,
    context: AuditContext,
    *,
    email: str,
    display_name: str,
    password: str,
    organisation: Organisation,
    roles: Iterable[Role],
) -> User:
    """Create the user, or bring an existing one to these details (used by the demo)."""
    try:
        user = get_user(session, email)
    except UnknownUser:
        user = None
    if user is None:
        return create_user(
            session,
            context,
            email=email,
            display_name=display_name,
            password=password,
            organisation=organisation,
            roles=roles,
        )
    _check_user_details(user.email, display_name, password)
    user.display_name = display_name.strip()
    user.organisation = organisation
    user.is_active = True
    user.failed_logins = 0
    user.locked_until = None
    if not verify_password(user.password_hash, password):
        user.password_hash = hash_password(password)
    wanted = set(roles)
    user.role_grants = [g for g in user.role_grants if g.role in wanted] + [
        UserRole(role=role) for role in sorted(wanted - user.roles)
    ]
    session.flush()
    audit_service.record_event(
        session,
        context,
        "user.update",
        subject_type="user",
        subject_id=user.id,
        detail={"roles": sorted(wanted), "organisation_id": organisation.id},
    )
    return user


def get_user(session: Session, email: str) -> User:
    user = session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        raise UnknownUser(f"no user has email {normalise_email(email)!r}")
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.email)))


def users_visible_to(session: Session, principal: Principal) -> list[User]:
    """Every user for an administrator; an organisation lead's own organisation's otherwise."""
    users = list_users(session)
    if Role.ADMIN in principal.roles:
        return users
    return [user for user in users if user.organisation_id == principal.organisation_id]


def disable_user(session: Session, context: AuditContext, email: str) -> User:
    """Disable the account and end its sessions; the row stays for the audit trail."""
    user = get_user(session, email)
    user.is_active = False
    session.execute(delete(UserSession).where(UserSession.user_id == user.id))
    audit_service.record_event(
        session, context, "user.disable", subject_type="user", subject_id=user.id
    )
    return user


def _lock_duration(failed_logins: int) -> timedelta | None:
    if failed_logins < FAILURES_BEFORE_LOCK:
        return None
    # Bound the exponent: an unbounded power overflows timedelta after ~45 failures.
    doublings = min(failed_logins - FAILURES_BEFORE_LOCK, 20)
    lock: timedelta = FIRST_LOCK * 2**doublings
    return min(lock, LONGEST_LOCK)


def authenticate(
    session: Session,
    context: AuditContext,
    email: str,
    password: str,
    *,
    now: datetime | None = None,
) -> User:
    """The user if the password is right and the account active and not locked.

    Every failure raises the same `AuthenticationFailed`, so that the caller cannot tell a
    wrong email from a wrong password or a locked account.
    """
    now = now or utc_now()
    user = session.scalar(
        select(User)
        .where(User.email == normalise_email(email))
        # On PostgreSQL one sign-in at a time per account, so that guesses sent in parallel
        # see each other's failures and the lock (SQLite ignores this).
        .with_for_update(of=User)
    )
    password_ok = verify_password(user.password_hash if user else None, password)
    failure = AuthenticationFailed("the email address or password is not right")
    if user is None:
        audit_service.record_event(session, context, "login.failed", detail={"reason": "unknown"})
        raise failure
    if not user.is_active or (user.locked_until is not None and user.locked_until > now):
        reason = "disabled" if not user.is_active else "locked"
        audit_service.record_event(
            session,
            context,
            "login.failed",
            subject_type="user",
            subject_id=user.id,
            detail={"reason": reason},
        )
        raise failure
    if not password_ok:
        # Counted by the database, not from the value read above: on SQLite parallel
        # guesses all read the same count, and each must still add one.
        user.failed_logins = session.execute(
            update(User)
            .where(User.id == user.id)
            .values(failed_logins=User.failed_logins + 1)
            .returning(User.failed_logins)
            .execution_options(synchronize_session=False)
        ).scalar_one()
        lock = _lock_duration(user.failed_logins)
        user.locked_until = now + lock if lock else None
        audit_service.record_event(
            session,
            context,
            "login.failed",
            subject_type="user",
            subject_id=user.id,
            detail={"reason": "password", "failed_logins": user.failed_logins},
        )
        raise failure
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


# Sign-in sessions


def start_session(
    session: Session, context: AuditContext, user: User, *, now: datetime | None = None
) -> IssuedSecret:
    now = now or utc_now()
    secret = secrets.token_urlsafe(32)
    record = UserSession(
        token_hash=secret_hash(secret),
        user_id=user.id,
        created_at=now,
        expires_at=now + SESSION_LIFETIME,
        client_address=context.client_address,
    )
    session.add(record)
    session.flush()
    audit_service.record_event(
        session,
        AuditContext(
            user.id, None, user.organisation_id, context.request_id, context.client_address
        ),
        "login",
        subject_type="user",
        subject_id=user.id,
    )
    return IssuedSecret(secret, record.id, record.expires_at)


def end_session(session: Session, context: AuditContext, secret: str) -> None:
    record = session.scalar(
        select(UserSession).where(UserSession.token_hash == secret_hash(secret))
    )
    if record is not None:
        session.delete(record)
        audit_service.record_event(
            session, context, "logout", subject_type="user", subject_id=record.user_id
        )


def _principal_for_user(user: User) -> Principal:
    return Principal(
        display_name=user.display_name,
        organisation_id=user.organisation_id,
        organisation_name=user.organisation.name,
        roles=user.roles,
        user_id=user.id,
        email=user.email,
    )


def principal_for_session(
    session: Session, secret: str, *, now: datetime | None = None
) -> Principal | None:
    """Who holds this session cookie, or None if it is unknown, expired or disabled."""
    now = now or utc_now()
    record = session.scalar(
        select(UserSession).where(UserSession.token_hash == secret_hash(secret))
    )
    if record is None or record.expires_at <= now or not record.user.is_active:
        return None
    return _principal_for_user(record.user)


# API tokens


def create_api_token(
    session: Session,
    context: AuditContext,
    *,
    name: str,
    organisation: Organisation,
    roles: Iterable[Role],
    created_by: User | None = None,
    expires_at: datetime | None = None,
) -> IssuedSecret:
    """A new token; its secret is returned here once and never stored."""
    roles = frozenset(roles)
    if not roles:
        raise InvalidRole("an API token needs at least one role")
    if not name.strip():
        raise InvalidUserDetails("token name is empty: expected what the token is for")
    secret = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        name=name.strip(),
        token_prefix=secret[: len(API_TOKEN_PREFIX) + 8],
        token_hash=secret_hash(secret),
        organisation=organisation,
        created_by_user_id=created_by.id if created_by else None,
        expires_at=expires_at,
        role_grants=[ApiTokenRole(role=role) for role in sorted(roles)],
    )
    session.add(token)
    session.flush()
    audit_service.record_event(
        session,
        context,
        "api_token.create",
        subject_type="api_token",
        subject_id=token.id,
        detail={"roles": sorted(roles), "name": token.name},
    )
    return IssuedSecret(secret, token.id, expires_at)


def list_api_tokens(session: Session) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).order_by(ApiToken.created_at, ApiToken.id)))


def revoke_api_token(session: Session, context: AuditContext, token_id_or_prefix: str) -> ApiToken:
    query = select(ApiToken).where(ApiToken.token_prefix == token_id_or_prefix)
    if token_id_or_prefix.isdigit():
        query = select(ApiToken).where(ApiToken.id == int(token_id_or_prefix))
    token = session.scalar(query)
    if token is None:
        raise UnknownApiToken(f"no API token has id or prefix {token_id_or_prefix!r}")
    if token.revoked_at is None:
        token.revoked_at = utc_now()
        audit_service.record_event(
            session, context, "api_token.revoke", subject_type="api_token", subject_id=token.id
        )
    return token


def principal_for_api_token(
    session: Session, secret: str, *, now: datetime | None = None
) -> Principal | None:
    """The machine client holding this token, or None if unknown, revoked or expired.

    One query (the token, its organisation and its roles) rather than loading objects:
    machine clients call often, and this runs on each call.
    """
    now = now or utc_now()
    rows = session.execute(
        select(
            ApiToken.id,
            ApiToken.name,
            ApiToken.organisation_id,
            Organisation.name,
            ApiToken.revoked_at,
            ApiToken.expires_at,
            ApiToken.last_used_at,
            ApiTokenRole.role,
        )
        .join(Organisation, Organisation.id == ApiToken.organisation_id)
        .outerjoin(ApiTokenRole, ApiTokenRole.api_token_id == ApiToken.id)
        .where(ApiToken.token_hash == secret_hash(secret))
    ).all()
    if not rows:
        return None
    token_id, name, organisation_id, organisation_name, revoked_at, expires_at, last_used = rows[0][
        :7
    ]
    if revoked_at is not None or (expires_at is not None and expires_at <= now):
        return None
    # A write on every request would queue machine clients behind the database's write
    # lock; the time of last use only needs to be right to the minute.
    if last_used is None or now - last_used >= TOKEN_USE_RESOLUTION:
        session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))
    return Principal(
        display_name=f"API token {name}",
        organisation_id=organisation_id,
        organisation_name=organisation_name,
        roles=frozenset(row[7] for row in rows if row[7] is not None),
        api_token_id=token_id,
    )
