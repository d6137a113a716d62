"""Each service's follow-up days, on each database: who may set them (an administrator, or a
provider linked to the organisation that runs the service), going back to the default, what
is typed checked with the field and the range named; the page `/referrals/inbox/services`
(a provider's services, an administrator's search, errors that keep what was typed,
refusals); and the days shown where a referrer chooses services."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

import httpx
import pytest
from fastapi.testclient import TestClient

from conftest import sign_in
from healthequity.audit.schemas import AuditContext
from healthequity.audit.service import list_events
from healthequity.auth.models import Role
from healthequity.auth.schemas import Principal
from healthequity.referrals import service
from healthequity.referrals.exceptions import ReferralInputError, ServiceNotFound
from healthequity.referrals.models import ServiceReferralSettings
from healthequity.store import Database

from .conftest import (
    BENEFITS_SERVICE,
    CLOSED_SERVICE,
    DEBT_SERVICE,
    FULL_SERVICE,
    TODAY,
    WALKING_SERVICE,
    World,
    context_of,
    refer,
)
from .test_make_pages import Surgery, surgery  # noqa: F401 (a fixture)
from .test_manage_pages import post, signed_in, summary, text_of

if TYPE_CHECKING:
    from conftest import TestUser

MakeUser = Callable[..., "TestUser"]
PAGE = "/referrals/inbox/services"
ADVICE_SERVICES = [BENEFITS_SERVICE, DEBT_SERVICE, CLOSED_SERVICE, FULL_SERVICE]  # by name


def admin_of(make_user: MakeUser) -> Principal:
    user = make_user(Role.ADMIN, organisation="Integrated Care Board")
    return Principal(
        display_name=user.email,
        organisation_id=user.organisation_id,
        organisation_name="Integrated Care Board",
        roles=user.roles,
        user_id=user.user_id,
        email=user.email,
    )


def rows(response: httpx.Response) -> dict[str, str]:
    """Each service listed, by id: the days shown for it."""
    found = re.findall(
        r'<tr class="nhsuk-table__row" data-service="([^"]+)">.*?data-days="[^"]*">([^<]+)</td>',
        response.text,
        re.S,
    )
    return dict(found)


def own_days(database: Database, service_id: str) -> int | None:
    with database.session() as session:
        settings = session.get(ServiceReferralSettings, service_id)
        return None if settings is None else settings.follow_up_days


# The service


def test_a_linked_provider_sets_days_and_goes_back_to_the_default(world: World) -> None:
    provider, context = world.provider, context_of(world.provider)
    with world.database.session() as session:
        service.set_follow_up_days(session, context, DEBT_SERVICE, 7, actor=provider)
        assert service.follow_up_days_of(session, [DEBT_SERVICE, BENEFITS_SERVICE]) == {
            DEBT_SERVICE: 7,
            BENEFITS_SERVICE: 14,
        }
        assert refer(session, world).follow_up_on == TODAY + timedelta(days=7)
        # The same again writes nothing; None goes back to the default.
        service.set_follow_up_days(session, context, DEBT_SERVICE, 7, actor=provider)
        assert (
            service.set_follow_up_days(session, context, DEBT_SERVICE, None, actor=provider) is None
        )
        assert service.follow_up_days_for(session, DEBT_SERVICE) == 14
        assert refer(session, world).follow_up_on == TODAY + timedelta(days=14)
        events = list_events(session, action="referral.service_settings.update")
    assert [(event.subject_id, json.loads(event.detail or "")) for event in events] == [
        (DEBT_SERVICE, {"follow_up_days": [None, 7]}),
        (DEBT_SERVICE, {"follow_up_days": [7, None]}),
    ]
    assert [event.user_id for event in events] == [provider.user_id] * 2


def test_only_administrators_and_linked_providers_set_days(
    world: World, make_user: MakeUser
) -> None:
    admin = admin_of(make_user)
    with world.database.session() as session:
        # The walking group's organisation is not linked to the provider's.
        for actor in (world.provider, world.stranger, world.clinician):
            with pytest.raises(ServiceNotFound) as refused:
                service.set_follow_up_days(
                    session, context_of(actor), WALKING_SERVICE, 10, actor=actor
                )
            assert str(refused.value) == (
                "no service with id 'svc-walking-group' among those whose follow-up you may set"
            )
        with pytest.raises(ServiceNotFound):
            service.set_follow_up_days(
                session, context_of(world.clinician), DEBT_SERVICE, 10, actor=world.clinician
            )
        with pytest.raises(ServiceNotFound, match="'svc-nowhere'"):
            service.set_follow_up_days(session, context_of(admin), "svc-nowhere", 10, actor=admin)
        settings = service.set_follow_up_days(
            session, context_of(admin), WALKING_SERVICE, 10, actor=admin
        )
        assert settings is not None
        assert settings.updated_by_user_id == admin.user_id


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("", None),
        (" 21 ", 21),
        ("365", 365),
        ("0", "expected a whole number of days from 1 to 365, got 0"),
        ("-3", "expected a whole number of days from 1 to 365, got -3"),
        ("366", "expected a whole number of days from 1 to 365, got 366"),
        ("two weeks", "expected a whole number of days from 1 to 365, got 'two weeks'"),
        ("1.5", "expected a whole number of days from 1 to 365, got '1.5'"),
        ("\u0661\u0664", "expected a whole number of days from 1 to 365, got '\u0661\u0664'"),
    ],
)
def test_typed_days_are_checked_naming_the_field_and_range(
    typed: str, expected: int | str | None
) -> None:
    if expected is None or isinstance(expected, int):
        assert service.parse_follow_up_days(typed) == expected
        return
    with pytest.raises(ReferralInputError) as refused:
        service.parse_follow_up_days(typed)
    assert refused.value.errors == {"follow_up_days": expected}


def test_the_services_whose_days_each_may_set(world: World, make_user: MakeUser) -> None:
    admin = admin_of(make_user)
    with world.database.session() as session:
        service.set_follow_up_days(session, context_of(admin), WALKING_SERVICE, 30, actor=admin)
        found, total = service.follow_up_services(session, world.provider)
        assert [(item.service_id, item.days, item.own_days) for item in found] == [
            (service_id, 14, None) for service_id in ADVICE_SERVICES
        ]
        assert total == 4
        found, total = service.follow_up_services(session, world.provider, "debt")
        assert ([item.service_id for item in found], total) == ([DEBT_SERVICE], 1)
        assert service.follow_up_services(session, world.stranger) == ([], 0)
        # An administrator: those with days of their own, or any found by name or id.
        found, total = service.follow_up_services(session, admin)
        assert [(item.service_id, item.days, item.own_days) for item in found] == [
            (WALKING_SERVICE, 30, 30)
        ]
        found, total = service.follow_up_services(session, admin, "advice", limit=2)
        assert ([item.service_id for item in found], total) == (
            [DEBT_SERVICE, CLOSED_SERVICE],
            3,
        )


# The page


def test_a_provider_sets_the_days_of_their_services(client: TestClient, world: World) -> None:
    signed_in(client, world.provider)
    inbox = client.get("/referrals/inbox")
    assert f'href="{PAGE}"' in inbox.text
    response = client.get(PAGE)
    assert response.status_code == 200
    assert rows(response) == {service_id: "14 days (the default)" for service_id in ADVICE_SERVICES}
    assert "Energy advice Leeds Advice Network; inactive" in text_of(response)

    response = post(client, PAGE, {"service_id": DEBT_SERVICE, "days": "7"})
    assert response.status_code == 303
    page = client.get(response.headers["location"])
    assert text_of(page).startswith(
        "Information: Saved: referrals to Debt advice made from now on are followed up after "
        "7 days. Referrals made already keep their dates."
    )
    assert rows(page)[DEBT_SERVICE] == "7 days"
    assert 'id="days-2" name="days" type="text" inputmode="numeric" value="7"' in page.text
    assert own_days(world.database, DEBT_SERVICE) == 7

    # Out of range: refused, naming the service and the range, keeping what was typed.
    response = post(client, PAGE, {"service_id": BENEFITS_SERVICE, "days": "400"})
    assert response.status_code == 422
    assert summary(response) == [
        (
            "days-1",
            "Follow-up days for Benefits check: expected a whole number of days from 1 to 365, "
            "got 400",
        )
    ]
    assert 'id="days-1" name="days" type="text" inputmode="numeric" value="400"' in response.text
    assert 'nhsuk-input--error" id="days-1"' in response.text
    response = post(client, PAGE, {"service_id": BENEFITS_SERVICE, "days": "a fortnight"})
    assert summary(response) == [
        (
            "days-1",
            "Follow-up days for Benefits check: expected a whole number of days from 1 to 365, "
            "got 'a fortnight'",
        )
    ]
    assert own_days(world.database, BENEFITS_SERVICE) is None

    # Blank goes back to the default.
    response = post(client, PAGE, {"service_id": DEBT_SERVICE, "days": ""})
    assert response.status_code == 303
    page = client.get(response.headers["location"])
    assert "followed up after 14 days (the default)" in text_of(page)
    assert own_days(world.database, DEBT_SERVICE) is None

    # Another organisation's service is not theirs to set.
    response = post(client, PAGE, {"service_id": WALKING_SERVICE, "days": "3"})
    assert response.status_code == 404
    assert own_days(world.database, WALKING_SERVICE) is None


def test_an_unlinked_provider_is_told_why_there_is_nothing(
    client: TestClient, world: World
) -> None:
    signed_in(client, world.stranger)
    response = client.get(PAGE)
    assert response.status_code == 200
    assert "Another Charity is not yet linked to any organisation" in text_of(response)
    assert rows(response) == {}


def test_an_administrator_finds_any_service_and_sets_its_days(
    client: TestClient, world: World, make_user: MakeUser
) -> None:
    signed_in(client, admin_of(make_user))
    response = client.get(PAGE)
    assert response.status_code == 200
    assert "0 services with days of their own" in text_of(response)
    response = client.get(PAGE, params={"q": "walk"})
    assert rows(response) == {WALKING_SERVICE: "14 days (the default)"}
    response = post(client, PAGE, {"service_id": WALKING_SERVICE, "days": "0", "q": "walk"})
    assert response.status_code == 422
    assert summary(response) == [
        (
            "days-1",
            "Follow-up days for Walking group: expected a whole number of days from 1 to 365, "
            "got 0",
        )
    ]
    assert 'name="q" value="walk"' in response.text
    response = post(client, PAGE, {"service_id": WALKING_SERVICE, "days": "28", "q": "walk"})
    assert response.status_code == 303
    assert response.headers["location"] == f"{PAGE}?q=walk&done={WALKING_SERVICE}"
    assert rows(client.get(PAGE)) == {WALKING_SERVICE: "28 days"}


@pytest.mark.parametrize("role", [Role.CLINICIAN, Role.LINK_WORKER, Role.ORG_ADMIN])
def test_other_roles_may_not_set_days(
    client: TestClient, world: World, make_user: MakeUser, role: Role
) -> None:
    user = make_user(role)
    signed_in(
        client,
        Principal(
            display_name=user.email,
            organisation_id=user.organisation_id,
            organisation_name="Test Practice",
            roles=user.roles,
            user_id=user.user_id,
            email=user.email,
        ),
    )
    assert client.get(PAGE).status_code == 403
    assert post(client, PAGE, {"service_id": DEBT_SERVICE, "days": "3"}).status_code == 403
    assert own_days(world.database, DEBT_SERVICE) is None


# Where a referrer chooses services


def test_the_needs_page_shows_each_services_follow_up_days(
    client: TestClient,
    surgery: Surgery,  # noqa: F811 (the fixture imported)
    make_user: MakeUser,
) -> None:
    admin = admin_of(make_user)
    with surgery.database.session() as session:
        service.set_follow_up_days(
            session, AuditContext(purpose="test set-up"), "svc-clinic", 21, actor=admin
        )
    sign_in(client, surgery.clinician)
    page = client.get(surgery.path("/needs")).text
    hints = dict(
        re.findall(
            r'value="(svc-[a-z-]+)"[^>]*>.*?'
            r'<div class="nhsuk-hint nhsuk-checkboxes__hint"[^>]*>([^<]+)</div>',
            page,
            re.S,
        )
    )
    assert hints["svc-clinic"].endswith("Referrals followed up after 21 days.")
    assert hints["svc-debt-near"].endswith("Referrals followed up after 14 days.")
