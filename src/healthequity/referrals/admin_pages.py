"""Settings of the referrals capability, as pages.

- `/admin/provider-links`: which organisations in the service directory each provider
  organisation works referrals for. Administrators only (a link opens referrals, sensitive
  needs included, to the organisation's users) see every provider organisation and link or
  unlink any. The directory organisation is chosen by typing its name, part of it, or its
  id (offered as the browser's list of suggestions when the directory is small); when the
  words match several, the page lists them to choose from.
- `/referrals/inbox/services`: after how many days referrals to each service are followed
  up. A provider sets it for the services of the organisations theirs is linked to; an
  administrator for any service, found by name.

Every change goes through `referrals.service`, which checks who may make it and audits it.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from healthequity.audit.schemas import AuditContext
from healthequity.auth.dependencies import allow, audit_context
from healthequity.auth.models import Organisation, Role
from healthequity.auth.schemas import Principal
from healthequity.directory.curation import find_organizations
from healthequity.directory.models import Organization, Service, ServiceStatus
from healthequity.referrals import service
from healthequity.referrals.exceptions import (
    ProviderLinkNotAllowed,
    ReferralInputError,
    ServiceNotFound,
)
from healthequity.referrals.models import ServiceReferralSettings
from healthequity.referrals.schemas import ServiceFollowUp
from healthequity.web.dependencies import get_session
from healthequity.web.errors import error_response
from healthequity.web.forms import Form
from healthequity.web.navigation import HomeSection, NavItem
from healthequity.web.templating import render

router = APIRouter(include_in_schema=False)

LINK_ADMINS = frozenset({Role.ADMIN})
FOLLOW_UP_SETTERS = frozenset({Role.PROVIDER, Role.ADMIN})
PROVIDER_LINKS = "/admin/provider-links"
FOLLOW_UP_DAYS = "/referrals/inbox/services"
# Directory organisations offered as suggestions while typing, when there are no more.
SUGGESTIONS_LIMIT = 500
# Organisations listed to choose from when the words typed match several.
MATCHES_SHOWN = 20
SERVICES_SHOWN = 100

NAVIGATION = [NavItem("Provider links", PROVIDER_LINKS, LINK_ADMINS)]
HOME_SECTIONS = [
    HomeSection(
        "Provider links",
        "Which organisations in the service directory each provider organisation works "
        "referrals for: link them, so that their referrals reach the inbox, or unlink them.",
        PROVIDER_LINKS,
        LINK_ADMINS,
    )
]


def _text(data: FormData, name: str, limit: int) -> str:
    value = data.get(name, "")
    return value[:limit] if isinstance(value, str) else ""


def _sentence(message: str) -> str:
    return message[:1].upper() + message[1:]


# Provider links


def _done_message(session: Session, params: dict[str, str]) -> str | None:
    """The banner after a link or unlink, from the address it redirected to."""
    done = params.get("done")
    organisation_id = params.get("organisation", "")
    organisation = (
        session.get(Organisation, int(organisation_id)) if organisation_id.isdigit() else None
    )
    directory_id = params.get("directory", "")
    organization = session.get(Organization, directory_id) if directory_id else None
    if organisation is None or done not in ("linked", "already", "unlinked"):
        return None
    named = organization.name if organization else f"directory organisation {directory_id}"
    if done == "linked":
        return (
            f"{organisation.name} is now linked to {named}: its users with the provider role "
            f"see the referrals to the services of {named} in their inbox."
        )
    if done == "already":
        return f"{organisation.name} was linked to {named} already: nothing changed."
    return (
        f"{organisation.name} is no longer linked to {named}: its users no longer see the "
        "referrals to its services. The referrals stay as they are."
    )


def _links_page(
    request: Request,
    session: Session,
    principal: Principal,
    form: Form,
    *,
    matches: list[Organization] | None = None,
    status_code: int = 200,
) -> Response:
    organisations = service.provider_organisations(session, actor=principal)
    suggestions, total = find_organizations(session, limit=SUGGESTIONS_LIMIT)
    admin = Role.ADMIN in principal.roles
    return render(
        request,
        "referrals/admin_provider_links.html",
        {
            "title": "Provider links",
            "errors": form.errors,
            "form": form,
            "organisations": organisations,
            "admin": admin,
            "own": None if admin else next(iter(organisations), None),
            "organisation_options": [("", "Choose an organisation")]
            + [(str(item.organisation.id), item.organisation.name) for item in organisations],
            "suggestions": [item.organization.name for item in suggestions]
            if total <= SUGGESTIONS_LIMIT
            else [],
            "matches": [
                (
                    organization.id,
                    organization.name,
                    f"Directory id {organization.id}"
                    + (
                        f"; also known as {organization.alternate_name}"
                        if organization.alternate_name
                        else ""
                    ),
                )
                for organization in matches or []
            ],
            "done": _done_message(session, dict(request.query_params)),
            "sets_follow_up": principal.has_any_role(FOLLOW_UP_SETTERS),
        },
        status_code=status_code,
    )


@router.get(PROVIDER_LINKS, response_class=HTMLResponse)
def provider_links_page(
    request: Request,
    principal: Principal = allow(*LINK_ADMINS),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    chosen = request.query_params.get("organisation", "")
    return _links_page(request, session, principal, Form(values={"organisation_id": chosen}))


def _linked_url(done: str, organisation_id: int, directory_id: str) -> str:
    query = urlencode({"done": done, "organisation": organisation_id, "directory": directory_id})
    return f"{PROVIDER_LINKS}?{query}"


def _directory_choice(session: Session, form: Form) -> tuple[str | None, list[Organization]]:
    """The directory organisation the form means: the one chosen from the matches listed
    (if the words typed still match it), else the one the words mean. With none, the error
    is added, and the matches to choose from if the words mean several."""
    typed = form.value("directory_organisation").strip()
    if not typed:
        form.errors.append(
            (
                "directory_organisation",
                "Enter the name of the organisation in the service directory, part of the "
                "name, or its id",
            )
        )
        return None, []
    found, total = service.find_directory_organizations(session, typed, limit=MATCHES_SHOWN)
    chosen = form.value("directory_organization_id")
    if chosen and chosen in {organization.id for organization in found}:
        return chosen, []
    if total == 1:
        return found[0].id, []
    if not found:
        form.errors.append(
            (
                "directory_organisation",
                f"No organisation in the service directory has a name containing \u201c{typed}"
                "\u201d, or that id: check the spelling, or type less of the name",
            )
        )
        return None, []
    listed = f"the first {len(found)} are listed; " if total > len(found) else ""
    form.errors.append(
        (
            "directory_organization_id-1",
            f"{total} organisations in the service directory match \u201c{typed}\u201d: choose "
            f"one ({listed}type more of the name to narrow them)",
        )
    )
    return None, found


@router.post(PROVIDER_LINKS, response_class=HTMLResponse)
async def link_provider(
    request: Request,
    principal: Principal = allow(*LINK_ADMINS),
    context: AuditContext = Depends(audit_context),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    data = await request.form()
    form = Form(
        values={
            "organisation_id": _text(data, "organisation_id", 20),
            "directory_organisation": _text(data, "directory_organisation", 300),
            "directory_organization_id": _text(data, "directory_organization_id", 64),
        }
    )
    organisation_text = form.value("organisation_id")
    if not organisation_text.isdigit():
        form.errors.append(("organisation_id", "Choose the provider organisation to link"))
    directory_id, matches = _directory_choice(session, form)
    if form.errors or directory_id is None:
        return _links_page(request, session, principal, form, matches=matches, status_code=422)
    organisation_id = int(organisation_text)
    already = service.is_linked(session, organisation_id, directory_id)
    try:
        service.link_provider(session, context, organisation_id, directory_id, actor=principal)
    except ProviderLinkNotAllowed as refused:
        return error_response(request, 403, _sentence(str(refused)))
    except ReferralInputError as error:
        anchors = {"organisation_id": "organisation_id"}
        form.errors.extend(
            (anchors.get(name, "directory_organisation"), _sentence(message))
            for name, message in error.errors.items()
        )
        return _links_page(request, session, principal, form, status_code=422)
    done = "already" if already else "linked"
    return RedirectResponse(_linked_url(done, organisation_id, directory_id), status_code=303)


@router.post(PROVIDER_LINKS + "/unlink", response_class=HTMLResponse)
async def unlink_provider(
    request: Request,
    principal: Principal = allow(*LINK_ADMINS),
    context: AuditContext = Depends(audit_context),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    data = await request.form()
    organisation_text = _text(data, "organisation_id", 20)
    directory_id = _text(data, "directory_organization_id", 64)
    form = Form(values={"organisation_id": organisation_text})
    if not organisation_text.isdigit() or not directory_id:
        form.errors.append(("links", "Choose a link to remove from the list"))
        return _links_page(request, session, principal, form, status_code=422)
    organisation_id = int(organisation_text)
    try:
        service.unlink_provider(session, context, organisation_id, directory_id, actor=principal)
    except ProviderLinkNotAllowed as refused:
        return error_response(request, 403, _sentence(str(refused)))
    except ReferralInputError as error:
        form.errors.extend(("links", _sentence(message)) for message in error.errors.values())
        return _links_page(request, session, principal, form, status_code=422)
    return RedirectResponse(_linked_url("unlinked", organisation_id, directory_id), status_code=303)


# Follow-up days


@dataclass(frozen=True, slots=True)
class FollowUpRow:
    """A service on the follow-up days page, with its box's id and what was typed in it."""

    item: ServiceFollowUp
    field_id: str
    typed: str
    error: str | None

    @property
    def inactive(self) -> bool:
        return self.item.status != ServiceStatus.ACTIVE


def _follow_up_page(
    request: Request,
    session: Session,
    principal: Principal,
    text: str,
    *,
    typed: tuple[str, str, str] | None = None,  # service id, what was typed, the error
    status_code: int = 200,
) -> Response:
    found, total = service.follow_up_services(session, principal, text, limit=SERVICES_SHOWN)
    rows = []
    errors: list[tuple[str, str]] = []
    for index, item in enumerate(found, start=1):
        field_id = f"days-{index}"
        value = "" if item.own_days is None else str(item.own_days)
        error = None
        if typed is not None and typed[0] == item.service_id:
            value, error = typed[1], typed[2]
            errors.append((field_id, error))
        rows.append(FollowUpRow(item, field_id, value, error))
    if typed is not None and not errors:  # not listed now: say so at the list
        errors.append(("services", typed[2]))
    admin = Role.ADMIN in principal.roles
    done_id = request.query_params.get("done", "")
    done_service = session.get(Service, done_id) if done_id else None
    done = None
    if done_service is not None:
        days = service.follow_up_days_for(session, done_id)
        own = session.get(ServiceReferralSettings, done_id) is not None
        default = "" if own else " (the default)"
        done = (
            f"Saved: referrals to {done_service.name} made from now on are followed up after "
            f"{days} days{default}. Referrals made already keep their dates."
        )
    return render(
        request,
        "referrals/follow_up_days.html",
        {
            "title": "Follow-up days",
            "errors": errors,
            "form": Form(values={"q": text}),
            "rows": rows,
            "total": total,
            "text": text,
            "admin": admin,
            "linked": admin
            or any(item.links for item in service.provider_organisations(session, actor=principal)),
            "default_days": service.DEFAULT_FOLLOW_UP_DAYS,
            "max_days": service.MAX_FOLLOW_UP_DAYS,
            "done": done,
        },
        status_code=status_code,
    )


@router.get(FOLLOW_UP_DAYS, response_class=HTMLResponse)
def follow_up_days_page(
    request: Request,
    principal: Principal = allow(*FOLLOW_UP_SETTERS),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    text = request.query_params.get("q", "")[:200]
    return _follow_up_page(request, session, principal, text)


@router.post(FOLLOW_UP_DAYS, response_class=HTMLResponse)
async def set_follow_up_days(
    request: Request,
    principal: Principal = allow(*FOLLOW_UP_SETTERS),
    context: AuditContext = Depends(audit_context),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    data = await request.form()
    service_id = _text(data, "service_id", 64)
    typed = _text(data, "days", 20)
    text = _text(data, "q", 200)
    found = session.get(Service, service_id) if service_id else None
    name = found.name if found is not None else service_id
    try:
        days = service.parse_follow_up_days(typed)
        service.set_follow_up_days(session, context, service_id, days, actor=principal)
    except ServiceNotFound:
        return error_response(
            request,
            404,
            "There is no service with that id among those whose follow-up days you may set.",
        )
    except ReferralInputError as error:
        message = f"Follow-up days for {name}: {error.errors['follow_up_days']}"
        return _follow_up_page(
            request, session, principal, text, typed=(service_id, typed, message), status_code=422
        )
    query = urlencode({"q": text, "done": service_id} if text else {"done": service_id})
    return RedirectResponse(f"{FOLLOW_UP_DAYS}?{query}", status_code=303)
