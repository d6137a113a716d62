"""`healthequity users` and `healthequity tokens`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import click

from healthequity.auth import service
from healthequity.auth.exceptions import AuthError
from healthequity.auth.models import OrganisationKind, Role
from healthequity.cli.common import clear_errors, command_line_context, open_database

ROLE_NAMES = [role.value for role in Role]


@click.group()
def users() -> None:
    """Create, list and disable user accounts."""


@users.command("create")
@click.option("--email", required=True, help="Sign-in email address.")
@click.option("--name", "display_name", required=True, help="The person's name.")
@click.option("--organisation", required=True, help="Organisation name (created if new).")
@click.option(
    "--organisation-kind",
    type=click.Choice([kind.value for kind in OrganisationKind]),
    default=None,
    help="Kind of a new organisation (required when it is new).",
)
@click.option("--ods-code", default=None, help="ODS code of a new organisation.")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    type=click.Choice(ROLE_NAMES),
    help="A role; repeat for several.",
)
@click.password_option(
    "--password",
    envvar="HEALTHEQUITY_NEW_USER_PASSWORD",
    help="Password (asked for if not given; or set HEALTHEQUITY_NEW_USER_PASSWORD).",
)
@clear_errors(AuthError)
def users_create(
    email: str,
    display_name: str,
    organisation: str,
    organisation_kind: str | None,
    ods_code: str | None,
    roles: tuple[str, ...],
    password: str,
) -> None:
    """Create a user in an organisation with one or more roles."""
    database = open_database()
    context = command_line_context("user administration")
    with database.session() as session:
        try:
            org = service.get_organisation(session, organisation)
        except AuthError:
            if organisation_kind is None:
                raise
            org = service.ensure_organisation(
                session, organisation, OrganisationKind(organisation_kind), ods_code
            )
        user = service.create_user(
            session,
            context,
            email=email,
            display_name=display_name,
            password=password,
            organisation=org,
            roles=service.parse_roles(roles),
        )
        click.echo(f"created user {user.email} ({', '.join(sorted(user.roles))}) in {org.name}")


@users.command("list")
@clear_errors(AuthError)
def users_list() -> None:
    """List every user with organisation, roles and status."""
    database = open_database()
    with database.session() as session:
        for user in service.list_users(session):
            status = "active" if user.is_active else "disabled"
            roles = ",".join(sorted(user.roles))
            click.echo(
                f"{user.email}\t{user.display_name}\t{user.organisation.name}\t{roles}\t{status}"
            )


@users.command("disable")
@click.argument("email")
@clear_errors(AuthError)
def users_disable(email: str) -> None:
    """Disable a user and end their sessions (the account stays for the audit trail)."""
    database = open_database()
    with database.session() as session:
        user = service.disable_user(session, command_line_context("user administration"), email)
        click.echo(f"disabled {user.email}")


@click.group()
def tokens() -> None:
    """API tokens for machine clients: shown once, stored hashed, revocable."""


@tokens.command("create")
@click.option("--name", required=True, help="What the token is for, e.g. 'advice centre CRM'.")
@click.option("--organisation", required=True, help="Organisation name or ODS code.")
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice(ROLE_NAMES))
@click.option("--expires-in-days", type=click.IntRange(min=1), default=None)
@clear_errors(AuthError)
def tokens_create(
    name: str, organisation: str, roles: tuple[str, ...], expires_in_days: int | None
) -> None:
    """Create a token scoped to roles and print it once."""
    database = open_database()
    expires_at = datetime.now(UTC) + timedelta(days=expires_in_days) if expires_in_days else None
    with database.session() as session:
        issued = service.create_api_token(
            session,
            command_line_context("token administration"),
            name=name,
            organisation=service.get_organisation(session, organisation),
            roles=service.parse_roles(roles),
            expires_at=expires_at,
        )
    click.echo(f"token id {issued.record_id}; copy it now, it is not shown again:", err=True)
    click.echo(issued.secret)


@tokens.command("list")
@clear_errors(AuthError)
def tokens_list() -> None:
    """List tokens (never their secrets)."""
    database = open_database()
    with database.session() as session:
        for token in service.list_api_tokens(session):
            status = "revoked" if token.revoked_at else "active"
            click.echo(
                f"{token.id}\t{token.token_prefix}…\t{token.name}\t{token.organisation.name}\t"
                f"{','.join(sorted(token.roles))}\t{status}"
            )


@tokens.command("revoke")
@click.argument("token_id_or_prefix")
@clear_errors(AuthError)
def tokens_revoke(token_id_or_prefix: str) -> None:
    """Revoke a token by its id or its prefix."""
    database = open_database()
    with database.session() as session:
        token = service.revoke_api_token(
            session, command_line_context("token administration"), token_id_or_prefix
        )
        click.echo(f"revoked token {token.id} ({token.name})")
