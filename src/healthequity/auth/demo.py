"""Demonstration organisations and users, one per role (never for real use)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from healthequity.audit.schemas import AuditContext
from healthequity.auth import service
from healthequity.auth.models import OrganisationKind, Role

# One shared password for every demo account; printed by `healthequity demo`.
DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 (demonstration data, printed openly)


@dataclass(frozen=True, slots=True)
class DemoUser:
    email: str
    display_name: str
    organisation: str
    roles: tuple[Role, ...]


DEMO_ORGANISATIONS = {
    "Demo Health Centre (demonstration)": OrganisationKind.PRACTICE,
    "Demo Community Advice Centre (demonstration)": OrganisationKind.PROVIDER,
    "Demo City Council (demonstration)": OrganisationKind.COUNCIL,
    "Demo Integrated Care Board (demonstration)": OrganisationKind.ICB,
    "Demo Teaching Hospitals Trust (demonstration)": OrganisationKind.TRUST,
}

DEMO_USERS = (
    DemoUser(
        "clinician@demo.healthequity.test",
        "Dr Asha Patel (demo)",
        "Demo Health Centre (demonstration)",
        (Role.CLINICIAN,),
    ),
    DemoUser(
        "linkworker@demo.healthequity.test",
        "Sam Okafor (demo link worker)",
        "Demo Health Centre (demonstration)",
        (Role.LINK_WORKER,),
    ),
    DemoUser(
        "provider@demo.healthequity.test",
        "Jo Williams (demo adviser)",
        "Demo Community Advice Centre (demonstration)",
        (Role.PROVIDER,),
    ),
    DemoUser(
        "curator@demo.healthequity.test",
        "Chris Evans (demo curator)",
        "Demo City Council (demonstration)",
        (Role.CURATOR,),
    ),
    DemoUser(
        "analyst@demo.healthequity.test",
        "Priya Shah (demo analyst)",
        "Demo Integrated Care Board (demonstration)",
        (Role.ANALYST,),
    ),
    DemoUser(
        "orgadmin@demo.healthequity.test",
        "Morgan Lee (demo organisation lead)",
        "Demo Teaching Hospitals Trust (demonstration)",
        (Role.ORG_ADMIN,),
    ),
    DemoUser(
        "admin@demo.healthequity.test",
        "Alex Brown (demo administrator)",
        "Demo Integrated Care Board (demonstration)",
        (Role.ADMIN,),
    ),
)


def load_demo(session: Session, context: AuditContext) -> list[str]:
    """Create or refresh the demo organisations and users; return the lines to print."""
    organisations = {
        name: service.ensure_organisation(session, name, kind)
        for name, kind in DEMO_ORGANISATIONS.items()
    }
    lines = [f"Demo sign-ins (password for all: {DEMO_PASSWORD}):"]
    for demo_user in DEMO_USERS:
        service.ensure_user(
            session,
            context,
            email=demo_user.email,
            display_name=demo_user.display_name,
            password=DEMO_PASSWORD,
            organisation=organisations[demo_user.organisation],
            roles=demo_user.roles,
        )
        roles = ", ".join(role.value for role in demo_user.roles)
        lines.append(f"  {roles:<12} {demo_user.email}")
    return lines
