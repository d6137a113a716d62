"""Provider links, on each database: which directory organisations a provider organisation's
users work referrals for. The service (link, unlink, who may, the provider organisations and
their links, finding a directory organisation by id, name or part of it) and the
administrators' page `/admin/provider-links` (listing, linking by typing part of a name or
choosing among the matches, unlinking, errors that keep what was typed, an organisation
administrator limited to their own organisation, refusals)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from healthequity.audit.service import list_events
from healthequity.auth.models import Role
from healthequity.auth.schemas import Principal
from healthequity.directory.models import Organization
from healthequity.referrals import service
from healthequity.referrals.exceptions import ProviderLinkNotAllowed, ReferralInputError
from healthequity.referrals.models import ProviderLink, ReferralStatus

from .conftest import ADVICE_ORG, WALKING_ORG, World, context_of, refer
from .test_manage_pages import post, signed_in, summary, text_of

if TYPE_CHECKING:
    from conftest import TestUser

MakeUser = Callable[..., "TestUser"]
PROVIDER_ORG = "Leeds Advice Network (provider)"
STRANGER_ORG = "Another Charity"
LINKS = "/admin/provider-links"


def principal_of(user: TestUser, organisation: str) -> Principal:
    return Principal(
        display_name=user.email,
        organisation_id=user.organisation_id,
        organisation_name=organisation,
        roles=user.roles,
        user_id=user.user_id,
        email=user.email,
    )


def links_of(world: World, organisation_id: int) -> list[str]:
    with world.database.session() as session:
        return sorted(
            session.scalars(
                select(ProviderLink.directory_organization_id).where(
                    ProviderLink.organisation_id == organisation_id
                )
            )
        )


def audited(world: World, action: str) -> list[tuple[str | None, dict[str, object]]]:
    with world.database.session() as session:
        return [
            (event.subject_id, json.loads(event.detail or "{}"))
            for event in list_events(session, action=action)
        ]


def table_links(response: httpx.Response) -> dict[str, list[str]]:
    """Each organisation's row in the table of links: its name, and the directory
    organisations it is linked to (by id)."""
    table = re.search(
        r'<table class="nhsuk-table" id="provider-links">(.*?)</table>', response.text, re.S
    )
    assert table, "no table of provider links"
    rows = {}
    for row in re.findall(
        r"<tr class=\"nhsuk-table__row\" data-organisation[^>]*>(.*?)</tr>", table.group(1), re.S
    ):
        name = re.sub(r"<[^>]+>", "", re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)[0]).strip()
        rows[name] = re.findall(r'<li data-link="([^"]+)">', row)
    return rows


# The service


def test_linking_and_unlinking_are_audited_and_change_the_inbox(world: World) -> None:
    stranger = world.stranger.organisation_id
    with world.database.session() as session:
        referral = refer(session, world)
        context = context_of(world.provider)
        service.link_provider(session, context, stranger, ADVICE_ORG)
        assert service.is_linked(session, stranger, ADVICE_ORG)
        inbox = service.provider_inbox(session, context, stranger)
        assert [item.id for item in inbox.items] == [referral.id]
        service.unlink_provider(session, context, stranger, ADVICE_ORG)
        assert not service.is_linked(session, stranger, ADVICE_ORG)
        assert service.provider_inbox(session, context, stranger).items == []
        # The referral itself is untouched.
        assert referral.status == ReferralStatus.REQUESTED
        with pytest.raises(ReferralInputError) as refused:
            service.unlink_provider(session, context, stranger, ADVICE_ORG)
        assert refused.value.errors == {
            "directory_organization_id": "Another Charity is not linked to directory "
            "organisation 'dir-org-advice'"
        }
        with pytest.raises(ReferralInputError) as unknown:
            service.link_provider(session, context, 999_999, ADVICE_ORG)
        assert unknown.value.errors == {"organisation_id": "no organisation with id 999999"}
    assert audited(world, "referral.provider_link.delete") == [
        (str(stranger), {"directory_organization_id": ADVICE_ORG})
    ]
    created = audited(world, "referral.provider_link.create")
    assert created[-1] == (str(stranger), {"directory_organization_id": ADVICE_ORG})


def test_only_an_administrator_changes_links(world: World, make_user: MakeUser) -> None:
    # A link opens referrals, sensitive needs included: an organisation may not grant it to
    # itself, so its own administrator is refused as anyone else is.
    lead = principal_of(make_user(Role.ORG_ADMIN, organisation=STRANGER_ORG), STRANGER_ORG)
    with world.database.session() as session:
        context = context_of(lead)
        with pytest.raises(ProviderLinkNotAllowed) as refused:
            service.link_provider(session, context, lead.organisation_id, WALKING_ORG, actor=lead)
        assert str(refused.value) == (
            f"only an administrator may change the provider links of {STRANGER_ORG}"
        )
        with pytest.raises(ProviderLinkNotAllowed):
            service.unlink_provider(
                session, context, world.provider.organisation_id, ADVICE_ORG, actor=lead
            )
        with pytest.raises(ProviderLinkNotAllowed):
            service.link_provider(
                session,
                context,
                world.clinician.organisation_id,
                WALKING_ORG,
                actor=world.clinician,
            )
    assert links_of(world, world.provider.organisation_id) == [ADVICE_ORG]
    assert links_of(world, world.stranger.organisation_id) == []


def test_the_provider_organisations_are_those_with_providers_or_links(world: World) -> None:
    with world.database.session() as session:
        found = service.provider_organisations(session)
        # The practice has clinicians only: it is not listed.
        assert [(item.organisation.name, item.provider_users) for item in found] == [
            (STRANGER_ORG, 1),
            (PROVIDER_ORG, 1),
        ]
        assert [(link.directory_organization_id, link.name) for link in found[1].links] == [
            (ADVICE_ORG, "Leeds Advice Network")
        ]
        assert found[0].links == ()


def test_a_directory_organisation_is_found_by_id_name_or_part_of_it(world: World) -> None:
    with world.database.session() as session:
        session.add(Organization(id="dir-org-leeds", name="Leeds"))
        session.flush()

        def names(text: str) -> tuple[list[str], int]:
            found, total = service.find_directory_organizations(session, text)
            return [organization.id for organization in found], total

        assert names(WALKING_ORG) == ([WALKING_ORG], 1)
        assert names("  leeds  ") == (["dir-org-leeds"], 1)  # the whole name, in any case
        assert names("leeds ") == (["dir-org-leeds"], 1)
        assert names("Advice") == ([ADVICE_ORG], 1)
        assert names("eeds") == (["dir-org-leeds", ADVICE_ORG, WALKING_ORG], 3)
        assert names("100%") == ([], 0)  # LIKE wildcards are taken as they are
        assert names("") == ([], 0)
        assert service.resolve_directory_organization(session, "walking").id == WALKING_ORG
        with pytest.raises(ReferralInputError) as several:
            service.resolve_directory_organization(session, "eeds")
        assert several.value.errors == {
            "directory_organization_id": "3 organisations in the directory match 'eeds': "
            "Leeds (dir-org-leeds); Leeds Advice Network (dir-org-advice); "
            "Leeds Walking Friends (dir-org-walking); give its id"
        }
        with pytest.raises(ReferralInputError) as none:
            service.resolve_directory_organization(session, "Bradford")
        assert none.value.errors == {
            "directory_organization_id": "no organisation in the directory has the id "
            "'Bradford' or a name containing it"
        }


# The page


def test_an_administrator_sees_every_provider_organisation_and_its_links(
    client: TestClient, world: World, make_user: MakeUser
) -> None:
    admin = make_user(Role.ADMIN, organisation="Integrated Care Board")
    signed_in(client, principal_of(admin, "Integrated Care Board"))
    home = client.get("/")
    assert f'href="{LINKS}"' in home.text
    response = client.get(LINKS)
    assert response.status_code == 200
    assert table_links(response) == {STRANGER_ORG: [], PROVIDER_ORG: [ADVICE_ORG]}
    page = text_of(response)
    assert "Not linked: no referrals reach its inbox" in page
    assert "Leeds Advice Network Unlink Leeds Advice Network (provider) from Leeds" in page
    # The directory's organisations are offered as suggestions.
    assert re.findall(r'<option value="([^"]+)"></option>', response.text) == [
        "Leeds Advice Network",
        "Leeds Walking Friends",
    ]
    assert 'href="/referrals/inbox/services"' in response.text


def test_linking_by_part_of_a_name_and_choosing_among_several(
    client: TestClient, world: World, make_user: MakeUser
) -> None:
    admin = make_user(Role.ADMIN, organisation="Integrated Care Board")
    signed_in(client, principal_of(admin, "Integrated Care Board"))
    stranger = str(world.stranger.organisation_id)

    # Nothing chosen, nothing typed.
    response = post(client, LINKS, {"organisation_id": "", "directory_organisation": " "})
    assert response.status_code == 422
    assert summary(response) == [
        ("organisation_id", "Choose the provider organisation to link"),
        (
            "directory_organisation",
            "Enter the name of the organisation in the service directory, part of the name, "
            "or its id",
        ),
    ]

    # No such organisation: what was typed stays.
    response = post(
        client, LINKS, {"organisation_id": stranger, "directory_organisation": "Bradford Aid"}
    )
    assert response.status_code == 422
    assert summary(response) == [
        (
            "directory_organisation",
            "No organisation in the service directory has a name containing \u201cBradford "
            "Aid\u201d, or that id: check the spelling, or type less of the name",
        )
    ]
    assert 'value="Bradford Aid"' in response.text
    assert re.search(rf'<option value="{stranger}" selected>{STRANGER_ORG}</option>', response.text)

    # Several match: they are listed to choose from, with what was typed kept.
    response = post(client, LINKS, {"organisation_id": stranger, "directory_organisation": "leeds"})
    assert response.status_code == 422
    assert summary(response) == [
        (
            "directory_organization_id-1",
            "2 organisations in the service directory match \u201cleeds\u201d: choose one "
            "(type more of the name to narrow them)",
        )
    ]
    assert re.findall(
        r'name="directory_organization_id" type="radio" value="([^"]+)"', response.text
    ) == [ADVICE_ORG, WALKING_ORG]
    assert 'value="leeds"' in response.text
    assert links_of(world, world.stranger.organisation_id) == []

    # Choosing one links it.
    response = post(
        client,
        LINKS,
        {
            "organisation_id": stranger,
            "directory_organisation": "leeds",
            "directory_organization_id": WALKING_ORG,
        },
    )
    assert response.status_code == 303
    page = client.get(response.headers["location"])
    assert text_of(page).startswith(
        "Information: Another Charity is now linked to Leeds Walking Friends: its users with "
        "the provider role see the referrals to the services of Leeds Walking Friends in their "
        "inbox."
    )
    assert table_links(page)[STRANGER_ORG] == [WALKING_ORG]

    # Part of a name that means one organisation links it straight away; again, nothing new.
    response = post(
        client, LINKS, {"organisation_id": stranger, "directory_organisation": "advice"}
    )
    assert response.status_code == 303
    assert links_of(world, world.stranger.organisation_id) == [ADVICE_ORG, WALKING_ORG]
    response = post(
        client, LINKS, {"organisation_id": stranger, "directory_organisation": ADVICE_ORG}
    )
    assert "was linked to Leeds Advice Network already: nothing changed" in text_of(
        client.get(response.headers["location"])
    )
    assert len(audited(world, "referral.provider_link.create")) == 3  # the world's, and two

    # Unlinking.
    response = post(
        client,
        f"{LINKS}/unlink",
        {"organisation_id": stranger, "directory_organization_id": WALKING_ORG},
    )
    assert response.status_code == 303
    assert "Another Charity is no longer linked to Leeds Walking Friends" in text_of(
        client.get(response.headers["location"])
    )
    assert links_of(world, world.stranger.organisation_id) == [ADVICE_ORG]
    response = post(
        client,
        f"{LINKS}/unlink",
        {"organisation_id": stranger, "directory_organization_id": WALKING_ORG},
    )
    assert response.status_code == 422
    assert summary(response) == [
        ("links", "Another Charity is not linked to directory organisation 'dir-org-walking'")
    ]
    # An organisation that does not exist.
    response = post(
        client, LINKS, {"organisation_id": "999999", "directory_organisation": "advice"}
    )
    assert response.status_code == 422
    assert summary(response) == [("organisation_id", "No organisation with id 999999")]


def test_an_organisation_administrator_may_not_open_the_links_page(
    client: TestClient, world: World, make_user: MakeUser
) -> None:
    lead = make_user(Role.ORG_ADMIN, organisation=STRANGER_ORG)
    signed_in(client, principal_of(lead, STRANGER_ORG))
    assert client.get(LINKS).status_code == 403
    response = post(
        client,
        LINKS,
        {"organisation_id": str(lead.organisation_id), "directory_organisation": "walking"},
    )
    assert response.status_code == 403
    assert links_of(world, lead.organisation_id) == []


@pytest.mark.parametrize(
    "role", [Role.CLINICIAN, Role.LINK_WORKER, Role.PROVIDER, Role.CURATOR, Role.ORG_ADMIN]
)
def test_other_roles_may_not_see_or_change_the_links(
    client: TestClient, world: World, make_user: MakeUser, role: Role
) -> None:
    signed_in(client, principal_of(make_user(role), "Test Practice"))
    assert client.get(LINKS).status_code == 403
    response = post(
        client,
        LINKS,
        {"organisation_id": str(world.stranger.organisation_id), "directory_organisation": "leeds"},
    )
    assert response.status_code == 403
    assert f'href="{LINKS}"' not in client.get("/").text
    assert links_of(world, world.stranger.organisation_id) == []
