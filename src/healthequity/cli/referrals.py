"""`healthequity referrals`: which directory organisations each provider organisation works
referrals for (provider links)."""

from __future__ import annotations

from typing import NoReturn

import click
from sqlalchemy.orm import Session

from healthequity.auth import service as auth_service
from healthequity.auth.exceptions import AuthError
from healthequity.auth.models import Organisation
from healthequity.cli.common import clear_errors, command_line_context, fail, open_database
from healthequity.directory.models import Organization
from healthequity.referrals import service
from healthequity.referrals.exceptions import ReferralError, ReferralInputError

# The options a service error's field was given as.
OPTIONS = {
    "organisation_id": "--organisation",
    "directory_organization_id": "--directory-organisation",
}


def _refuse(error: ReferralInputError) -> NoReturn:
    fail(
        "; ".join(f"{OPTIONS.get(name, name)}: {message}" for name, message in error.errors.items())
    )


def _organisation(session: Session, name_or_code: str) -> Organisation:
    try:
        return auth_service.get_organisation(session, name_or_code)
    except AuthError as error:
        fail(f"--organisation: {error}")


def _directory_organization(session: Session, id_or_name: str) -> Organization:
    try:
        return service.resolve_directory_organization(session, id_or_name)
    except ReferralInputError as error:
        _refuse(error)


@click.group()
def referrals() -> None:
    """Referrals: which directory organisations each provider organisation works for."""


@referrals.command("link-provider")
@click.option(
    "--organisation", required=True, help="The provider organisation: its name or ODS code."
)
@click.option(
    "--directory-organisation",
    "directory_organisation",
    required=True,
    help="The organisation in the service directory: its id, its name, or part of its name.",
)
@clear_errors(ReferralError)
def link_provider(organisation: str, directory_organisation: str) -> None:
    """Let the users of a provider organisation see and work the referrals to the services
    of an organisation in the service directory."""
    database = open_database()
    with database.session() as session:
        provider = _organisation(session, organisation)
        organization = _directory_organization(session, directory_organisation)
        if service.is_linked(session, provider.id, organization.id):
            click.echo(
                f"{provider.name} is linked to {organization.name} ({organization.id}) already"
            )
            return
        try:
            service.link_provider(
                session, command_line_context("provider links"), provider.id, organization.id
            )
        except ReferralInputError as error:
            _refuse(error)
        click.echo(f"linked {provider.name} to {organization.name} ({organization.id})")


@referrals.command("unlink-provider")
@click.option(
    "--organisation", required=True, help="The provider organisation: its name or ODS code."
)
@click.option(
    "--directory-organisation",
    "directory_organisation",
    required=True,
    help="The organisation in the service directory: its id, its name, or part of its name.",
)
@clear_errors(ReferralError)
def unlink_provider(organisation: str, directory_organisation: str) -> None:
    """Stop the users of a provider organisation seeing the referrals to the services of an
    organisation in the service directory. The referrals stay as they are."""
    database = open_database()
    with database.session() as session:
        provider = _organisation(session, organisation)
        # A link's own id first: the directory may no longer hold that organisation.
        if service.is_linked(session, provider.id, directory_organisation.strip()):
            directory_id = directory_organisation.strip()
        else:
            directory_id = _directory_organization(session, directory_organisation).id
        try:
            service.unlink_provider(
                session, command_line_context("provider links"), provider.id, directory_id
            )
        except ReferralInputError as error:
            _refuse(error)
        found = session.get(Organization, directory_id)
        named = found.name if found else "directory organisation"
        click.echo(f"unlinked {provider.name} from {named} ({directory_id})")


@referrals.command("providers")
@clear_errors(ReferralError)
def providers() -> None:
    """List the provider organisations, one line for each link: organisation, users with the
    provider role, directory organisation id and name (- and "not linked" when none)."""
    database = open_database()
    with database.session() as session:
        for item in service.provider_organisations(session):
            name = item.organisation.name
            if not item.links:
                click.echo(f"{name}\t{item.provider_users}\t-\tnot linked")
            for link in item.links:
                named = link.name or "(no longer in the directory)"
                click.echo(
                    f"{name}\t{item.provider_users}\t{link.directory_organization_id}\t{named}"
                )
