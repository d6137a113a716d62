"""Authorisation in one place: every route declares exactly one access rule, and keeps to it.

The routes come from `CAPABILITY_MODULES` when the tests are collected, so a route added
later is checked without anyone editing this file.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from fastapi import APIRouter, Depends, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.convertors import FloatConvertor, IntegerConvertor, UUIDConvertor
from starlette.requests import Request
from starlette.routing import Mount, Route

from conftest import csrf_token, sign_in
from healthequity.auth.dependencies import (
    ALL_ROLES,
    PublicAccess,
    RoleRequirement,
    allow,
    allow_public,
    allow_signed_in,
)
from healthequity.auth.models import Role
from healthequity.auth.schemas import Principal
from healthequity.config import Settings
from healthequity.store import Database
from healthequity.web.app import CAPABILITY_MODULES, create_app
from healthequity.web.errors import wants_json
from healthequity.web.security import CSRF_FIELD, CSRF_HEADER, SAFE_METHODS

if TYPE_CHECKING:
    from conftest import TestUser

pytestmark = pytest.mark.usefixtures("fast_password_hashing")

MakeUser = Callable[..., "TestUser"]
AccessRule = RoleRequirement | PublicAccess
ROLE_DENIED = "this needs one of the roles"


def access_rules(route: Any) -> list[AccessRule]:
    """Every access rule among the route's dependencies, however deeply declared."""
    found: list[AccessRule] = []

    def walk(dependant: Dependant) -> None:
        for dependency in dependant.dependencies:
            if isinstance(dependency.call, RoleRequirement | PublicAccess):
                found.append(dependency.call)
            walk(dependency)

    walk(route.dependant)
    return found


def _capability_routes() -> list[tuple[str, Any]]:
    return [
        (module.__name__, route) for module in CAPABILITY_MODULES for route in module.router.routes
    ]


def _route_id(route: Any) -> str:
    methods = ",".join(sorted(getattr(route, "methods", None) or ["-"]))
    return f"{methods} {getattr(route, 'path', route)}"


CAPABILITY_ROUTES = _capability_routes()
API_ROUTES = [route for _module, route in CAPABILITY_ROUTES if isinstance(route, APIRoute)]
# Every route but those declared public (a route with no rule, or two, is included to fail).
ROUTE_CALLS = [
    pytest.param(route, method, id=f"{method} {route.path}")
    for route in API_ROUTES
    if [type(rule) for rule in access_rules(route)] != [PublicAccess]
    for method in sorted(route.methods)
]


def _single_rule(route: Any) -> AccessRule:
    rules = access_rules(route)
    assert len(rules) == 1, (
        f"{_route_id(route)} ({route.endpoint.__module__}.{route.name}) declares "
        f"{len(rules)} access rules: give it exactly one of allow(...), allow_signed_in() "
        "or allow_public()"
    )
    return rules[0]


def _dummy_path(route: APIRoute) -> str:
    values: dict[str, Any] = {}
    for name, convertor in route.param_convertors.items():
        if isinstance(convertor, IntegerConvertor):
            values[name] = 1
        elif isinstance(convertor, FloatConvertor):
            values[name] = 1.0
        elif isinstance(convertor, UUIDConvertor):
            values[name] = uuid.UUID(int=1)
        else:
            values[name] = "1"
    return route.url_path_for(route.name, **values)


def _call(client: TestClient, route: APIRoute, method: str) -> Any:
    headers = {}
    data = None
    if method not in SAFE_METHODS:
        token = csrf_token(client)
        headers[CSRF_HEADER] = token
        data = {CSRF_FIELD: token}
    return client.request(
        method, _dummy_path(route), headers=headers, data=data, follow_redirects=False
    )


# Declarations


def test_capability_modules_give_routes() -> None:
    assert len(API_ROUTES) >= 7
    assert {"/api/me", "/login", "/logout", "/healthz"} <= {route.path for route in API_ROUTES}


@pytest.mark.parametrize(
    ("module", "route"), CAPABILITY_ROUTES, ids=[_route_id(r) for _m, r in CAPABILITY_ROUTES]
)
def test_every_capability_route_declares_exactly_one_access_rule(module: str, route: Any) -> None:
    assert isinstance(route, APIRoute), (
        f"{module} has a route {route!r} that is not an APIRoute, so its access cannot be checked"
    )
    _single_rule(route)


def _app_routes(app: FastAPI) -> list[Any]:
    """The app's routes as served, with included routers flattened.

    Recent FastAPI keeps included routers whole in `app.routes` and gives their routes,
    with the dependencies the inclusion adds, through `iter_route_contexts`.
    """
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI copies every included route into app.routes
        return list(app.routes)
    return list(iter_route_contexts(app.routes))


def _original(route: Any) -> Any:
    return getattr(route, "original_route", route)


def test_the_app_has_no_route_without_a_declaration(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'unused.db'}"
    settings = Settings(url, "k", tmp_path, "test", "WARNING")
    app = create_app(settings, Database(url))
    declared = {(route.path, frozenset(route.methods)) for route in API_ROUTES}
    served = _app_routes(app)
    api_routes = [route for route in served if isinstance(_original(route), APIRoute)]
    assert len(api_routes) == len(API_ROUTES)
    for route in served:
        original = _original(route)
        if isinstance(original, APIRoute):
            _single_rule(route)
            assert (route.path, frozenset(route.methods)) in declared, (
                f"{_route_id(route)} is not in a router of CAPABILITY_MODULES, so the role "
                "checks below do not call it: add its module there"
            )
        elif isinstance(original, Mount):
            assert original.path.startswith(("/static", "/assets/")), original.path
        else:
            # Only FastAPI's own OpenAPI document is served outside an APIRoute.
            assert isinstance(original, Route)
            assert original.path == app.openapi_url, f"undeclared route {original.path}"


def test_an_added_route_without_a_rule_is_caught(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'unused.db'}"
    app = create_app(Settings(url, "k", tmp_path, "test", "WARNING"), Database(url))

    @app.get("/api/forgotten")
    def forgotten() -> dict[str, str]:
        return {}

    unruled = [
        route.path
        for route in _app_routes(app)
        if isinstance(_original(route), APIRoute) and len(access_rules(route)) != 1
    ]
    assert unruled == ["/api/forgotten"]


def test_the_checker_sees_missing_and_doubled_rules() -> None:
    router = APIRouter()

    @router.get("/none")
    def none() -> None: ...

    @router.get("/two")
    def two(a: Principal = allow(Role.ADMIN), b: Principal | None = allow_public()) -> None: ...

    def nested_rule(principal: Principal = allow(Role.CLINICIAN)) -> Principal:
        return principal

    @router.get("/nested")
    def nested(principal: Principal = Depends(nested_rule)) -> None: ...

    @router.get("/one", dependencies=[allow_signed_in()])
    def one() -> None: ...

    counts = {
        route.path: len(access_rules(route))
        for route in router.routes
        if isinstance(route, APIRoute)
    }
    assert counts == {"/none": 0, "/two": 2, "/nested": 1, "/one": 1}
    with pytest.raises(AssertionError, match="declares 0 access rules"):
        _single_rule(next(r for r in router.routes if getattr(r, "path", "") == "/none"))


def test_dummy_paths_fill_every_kind_of_parameter() -> None:
    router = APIRouter()

    @router.post("/things/{thing_id:int}/{ref:uuid}/{name}/{rest:path}")
    def thing(thing_id: int, ref: uuid.UUID, name: str, rest: str) -> None: ...

    route = router.routes[0]
    assert isinstance(route, APIRoute)
    assert _dummy_path(route) == f"/things/1/{uuid.UUID(int=1)}/1/1"


def test_rules_cannot_be_empty() -> None:
    with pytest.raises(ValueError, match="at least one role"):
        RoleRequirement(frozenset())


# Behaviour


@pytest.mark.parametrize(("route", "method"), ROUTE_CALLS)
def test_route_refuses_anyone_without_a_permitted_role(
    app: FastAPI, make_user: MakeUser, route: APIRoute, method: str
) -> None:
    rule = _single_rule(route)
    assert isinstance(rule, RoleRequirement)
    path = _dummy_path(route)

    with TestClient(app) as anonymous:
        response = _call(anonymous, route, method)
        if wants_json_path(path):
            assert response.status_code == 401, response.text
            # JSON, or FHIR JSON (an OperationOutcome) from the FHIR API.
            assert response.headers["content-type"].startswith(
                ("application/json", "application/fhir+json")
            )
        else:
            assert response.status_code == 303, response.text
            assert response.headers["location"].startswith("/login?next=")

    forbidden = sorted(ALL_ROLES - rule.roles)
    with TestClient(app) as client:
        sign_in(client, make_user(*forbidden))
        response = _call(client, route, method)
        assert response.status_code == 403, (
            f"{method} {path} answered {response.status_code} to a user holding only "
            f"{forbidden or 'no roles'}"
        )
        assert ROLE_DENIED in response.text.lower()

    # And each permitted role gets past the rule (whatever the route then says).
    for role in sorted(rule.roles):
        with TestClient(app) as client:
            sign_in(client, make_user(role))
            response = _call(client, route, method)
            assert response.status_code != 401, (role, response.text)
            assert ROLE_DENIED not in response.text.lower(), role


def wants_json_path(path: str) -> bool:
    scope = {"type": "http", "path": path, "query_string": b"", "headers": []}
    return wants_json(Request(scope))


def test_zero_role_user_is_refused_even_where_every_role_is_allowed(
    client: TestClient, make_user: MakeUser
) -> None:
    sign_in(client, make_user())
    response = client.get("/api/me")
    assert response.status_code == 403
    assert response.json()["detail"].startswith(ROLE_DENIED)


def test_org_admin_sees_only_their_organisation(client: TestClient, make_user: MakeUser) -> None:
    make_user(Role.CLINICIAN, organisation="Elsewhere Trust")
    own = make_user(Role.CLINICIAN, organisation="Own Practice")
    lead = make_user(Role.ORG_ADMIN, organisation="Own Practice")
    sign_in(client, lead)
    response = client.get("/api/users")
    assert response.status_code == 200
    assert sorted(user["email"] for user in response.json()) == sorted([own.email, lead.email])
