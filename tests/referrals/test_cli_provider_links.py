"""`healthequity referrals link-provider`, `unlink-provider` and `providers`, on each
database: the provider organisation by name or ODS code, the directory organisation by id,
name or part of it; every change audited; bad input as one line naming the option, exit 2."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from healthequity.audit.service import list_events
from healthequity.auth.models import Organisation
from healthequity.cli.main import cli
from healthequity.directory.models import Organization
from healthequity.referrals.models import ProviderLink

from .conftest import ADVICE_ORG, WALKING_ORG, World

Run = Callable[..., Result]
STRANGER_ORG = "Another Charity"


@pytest.fixture
def run(database_url: str) -> Run:
    """Run `healthequity ARGS` in-process against the test database."""

    def _run(*arguments: str) -> Result:
        return CliRunner().invoke(
            cli, list(arguments), env={"HEALTHEQUITY_DATABASE_URL": database_url}
        )

    return _run


def error_line(result: Result) -> str:
    """The one line a failed command prints, after checking it is the only output."""
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("healthequity: error: ")
    return lines[0].removeprefix("healthequity: error: ")


def links_of(world: World, organisation_id: int) -> list[str]:
    with world.database.session() as session:
        return sorted(
            session.scalars(
                select(ProviderLink.directory_organization_id).where(
                    ProviderLink.organisation_id == organisation_id
                )
            )
        )


def test_link_list_and_unlink(run: Run, world: World) -> None:
    stranger = world.stranger.organisation_id
    listed = run("referrals", "providers")
    assert listed.exit_code == 0, listed.output
    assert listed.stdout.splitlines() == [
        f"{STRANGER_ORG}\t1\t-\tnot linked",
        f"Leeds Advice Network (provider)\t1\t{ADVICE_ORG}\tLeeds Advice Network",
    ]

    # By part of the name.
    result = run(
        "referrals",
        "link-provider",
        "--organisation",
        STRANGER_ORG,
        "--directory-organisation",
        "walking",
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == f"linked {STRANGER_ORG} to Leeds Walking Friends ({WALKING_ORG})\n"
    assert links_of(world, stranger) == [WALKING_ORG]
    # By ODS code and the directory's id; linking again changes nothing.
    with world.database.session() as session:
        organisation = session.get(Organisation, stranger)
        assert organisation is not None
        organisation.ods_code = "X12AB"
    result = run(
        "referrals",
        "link-provider",
        "--organisation",
        "x12ab",
        "--directory-organisation",
        WALKING_ORG,
    )
    assert result.stdout == (
        f"{STRANGER_ORG} is linked to Leeds Walking Friends ({WALKING_ORG}) already\n"
    )
    result = run(
        "referrals",
        "link-provider",
        "--organisation",
        STRANGER_ORG,
        "--directory-organisation",
        "Leeds Advice Network",
    )
    assert result.stdout == f"linked {STRANGER_ORG} to Leeds Advice Network ({ADVICE_ORG})\n"
    assert run("referrals", "providers").stdout.splitlines()[:2] == [
        f"{STRANGER_ORG}\t1\t{ADVICE_ORG}\tLeeds Advice Network",
        f"{STRANGER_ORG}\t1\t{WALKING_ORG}\tLeeds Walking Friends",
    ]

    result = run(
        "referrals",
        "unlink-provider",
        "--organisation",
        STRANGER_ORG,
        "--directory-organisation",
        "walking",
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == f"unlinked {STRANGER_ORG} from Leeds Walking Friends ({WALKING_ORG})\n"
    assert links_of(world, stranger) == [ADVICE_ORG]

    with world.database.session() as session:
        created = list_events(session, action="referral.provider_link.create")
        deleted = list_events(session, action="referral.provider_link.delete")
    # The world's own link, then the two made here, each from the command line.
    assert [json.loads(event.detail or "") for event in created[1:]] == [
        {"directory_organization_id": WALKING_ORG},
        {"directory_organization_id": ADVICE_ORG},
    ]
    assert [(event.subject_id, json.loads(event.detail or "")) for event in deleted] == [
        (str(stranger), {"directory_organization_id": WALKING_ORG})
    ]
    assert all(event.client_address == "command line" for event in [*created[1:], *deleted])
    assert all(event.purpose == "provider links" for event in [*created[1:], *deleted])


def test_a_link_to_an_organisation_no_longer_in_the_directory_is_listed_and_removed(
    run: Run, world: World
) -> None:
    with world.database.session() as session:
        session.add(Organization(id="dir-org-gone", name="Closed Charity"))
    result = run(
        "referrals",
        "link-provider",
        "--organisation",
        STRANGER_ORG,
        "--directory-organisation",
        "closed",
    )
    assert result.exit_code == 0, result.output
    with world.database.session() as session:
        gone = session.get(Organization, "dir-org-gone")
        session.delete(gone)
    assert (
        f"{STRANGER_ORG}\t1\tdir-org-gone\t(no longer in the directory)"
        in run("referrals", "providers").stdout.splitlines()
    )
    result = run(
        "referrals",
        "unlink-provider",
        "--organisation",
        STRANGER_ORG,
        "--directory-organisation",
        "dir-org-gone",
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == f"unlinked {STRANGER_ORG} from directory organisation (dir-org-gone)\n"
    assert links_of(world, world.stranger.organisation_id) == []


@pytest.mark.parametrize(
    ("command", "organisation", "directory", "message"),
    [
        (
            "link-provider",
            "Nobody",
            "walking",
            "--organisation: no organisation is named or has ODS code 'Nobody'",
        ),
        (
            "link-provider",
            STRANGER_ORG,
            "leeds",
            "--directory-organisation: 2 organisations in the directory match 'leeds': "
            "Leeds Advice Network (dir-org-advice); Leeds Walking Friends (dir-org-walking); "
            "give its id",
        ),
        (
            "link-provider",
            STRANGER_ORG,
            "Bradford",
            "--directory-organisation: no organisation in the directory has the id 'Bradford' "
            "or a name containing it",
        ),
        (
            "link-provider",
            STRANGER_ORG,
            " ",
            "--directory-organisation: give the directory organisation's id, its name or part "
            "of its name",
        ),
        (
            "unlink-provider",
            STRANGER_ORG,
            WALKING_ORG,
            "--directory-organisation: Another Charity is not linked to directory organisation "
            "'dir-org-walking'",
        ),
        (
            "unlink-provider",
            "Nobody",
            WALKING_ORG,
            "--organisation: no organisation is named or has ODS code 'Nobody'",
        ),
    ],
)
def test_bad_input_is_one_line_naming_the_option(
    run: Run, world: World, command: str, organisation: str, directory: str, message: str
) -> None:
    result = run(
        "referrals", command, "--organisation", organisation, "--directory-organisation", directory
    )
    assert error_line(result) == message
    assert links_of(world, world.stranger.organisation_id) == []
    assert links_of(world, world.provider.organisation_id) == [ADVICE_ORG]


def test_a_missing_option_is_a_usage_error(run: Run, world: World) -> None:
    result = run("referrals", "link-provider", "--organisation", STRANGER_ORG)
    assert result.exit_code == 2
    assert "Missing option '--directory-organisation'" in result.stderr


@pytest.mark.parametrize(
    "arguments",
    [
        ["referrals", "providers"],
        ["referrals", "link-provider", "--organisation", "A", "--directory-organisation", "B"],
        ["referrals", "unlink-provider", "--organisation", "A", "--directory-organisation", "B"],
    ],
)
def test_a_malformed_database_url_is_one_line(arguments: list[str]) -> None:
    result = CliRunner().invoke(
        cli, arguments, env={"HEALTHEQUITY_DATABASE_URL": "oracle://db.example/prod"}
    )
    assert error_line(result).startswith(
        "HEALTHEQUITY_DATABASE_URL 'oracle://db.example/prod' uses 'oracle'"
    )


def test_the_command_is_in_the_help() -> None:
    help_text = CliRunner().invoke(cli, ["-h"]).stdout
    assert "  referrals " in help_text
    commands = CliRunner().invoke(cli, ["referrals", "-h"]).stdout
    for command in ("link-provider", "unlink-provider", "providers"):
        assert f"  {command} " in commands
