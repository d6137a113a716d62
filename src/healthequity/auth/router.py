"""JSON API of the auth capability."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from healthequity.auth import service
from healthequity.auth.dependencies import allow, allow_signed_in
from healthequity.auth.models import Role, User
from healthequity.auth.schemas import OrganisationOut, Principal, PrincipalOut, UserOut
from healthequity.web.dependencies import get_session

router = APIRouter(prefix="/api", tags=["auth"])


@router.get("/me")
def me(principal: Principal = allow_signed_in()) -> PrincipalOut:
    """Who the caller is: a signed-in user or an API token, with its roles."""
    return PrincipalOut(
        display_name=principal.display_name,
        email=principal.email,
        organisation_id=principal.organisation_id,
        organisation_name=principal.organisation_name,
        roles=sorted(principal.roles),
        kind="api_token" if principal.api_token_id is not None else "user",
    )


def user_out(user: User) -> UserOut:
    organisation = user.organisation
    return UserOut(
        id=user.id,
        email=user.email,
        display_name=user.display_name,
        organisation=OrganisationOut(
            id=organisation.id,
            name=organisation.name,
            kind=organisation.kind,
            ods_code=organisation.ods_code,
        ),
        roles=sorted(user.roles),
        is_active=user.is_active,
    )


@router.get("/users")
def list_users(
    principal: Principal = allow(Role.ADMIN, Role.ORG_ADMIN),
    session: Session = Depends(get_session, scope="function"),
) -> list[UserOut]:
    """Users: all of them for an admin, those of the caller's organisation for an org admin."""
    return [user_out(user) for user in service.users_visible_to(session, principal)]
