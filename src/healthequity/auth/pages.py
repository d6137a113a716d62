"""Sign-in and sign-out pages."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from healthequity.audit.schemas import AuditContext
from healthequity.auth import service
from healthequity.auth.dependencies import (
    SESSION_COOKIE,
    allow,
    allow_public,
    audit_context,
)
from healthequity.auth.exceptions import AuthenticationFailed
from healthequity.auth.models import Role
from healthequity.auth.schemas import Principal
from healthequity.web.dependencies import get_session
from healthequity.web.navigation import HomeSection, NavItem
from healthequity.web.security import new_csrf_token, set_csrf_cookie
from healthequity.web.templating import render

router = APIRouter(include_in_schema=False)

SIGN_IN_FAILED = (
    "The email address or password is not right, or the account is locked for a few "
    "minutes after too many attempts. Check them and try again."
)


def _safe_next(target: str | None) -> str:
    # Only local paths: an open redirect would let a phishing link pass through sign-in.
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/"


@router.get("/login", response_class=HTMLResponse)
def login_page(
    request: Request, next: str | None = None, principal: Principal | None = allow_public()
) -> Response:
    if principal is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return render(request, "auth/login.html", {"next": _safe_next(next), "email": ""})


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    email: str = Form(""),
    password: str = Form(""),
    next: str = Form("/"),
    principal: Principal | None = allow_public(),
    context: AuditContext = Depends(audit_context),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    errors: dict[str, str] = {}
    if not email.strip():
        errors["email"] = "Enter your email address"
    if not password:
        errors["password"] = "Enter your password"  # noqa: S105 (a message)
    if not errors:
        try:
            user = service.authenticate(session, context, email, password)
        except AuthenticationFailed:
            errors["form"] = SIGN_IN_FAILED
        else:
            # A new session and CSRF token at each sign-in, so none set before it survives.
            previous = request.cookies.get(SESSION_COOKIE)
            if previous:
                service.end_session(session, context, previous)
            issued = service.start_session(session, context, user)
            response = RedirectResponse(_safe_next(next), status_code=303)
            set_csrf_cookie(response, new_csrf_token(), secure=request.url.scheme == "https")
            response.set_cookie(
                SESSION_COOKIE,
                issued.secret,
                max_age=int(service.SESSION_LIFETIME.total_seconds()),
                httponly=True,
                samesite="lax",
                secure=request.url.scheme == "https",
            )
            return response
    # A failed sign-in is committed too (failed-login count, audit) but answers 400 or 401.
    status = 401 if "form" in errors else 400
    return render(
        request,
        "auth/login.html",
        {"next": _safe_next(next), "email": email, "errors": errors},
        status_code=status,
    )


@router.post("/logout")
def logout(
    request: Request,
    principal: Principal | None = allow_public(),
    context: AuditContext = Depends(audit_context),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    """Open to all, so that anyone (even someone left with no role) can end their session."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        service.end_session(session, context, cookie)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="lax")
    return response


USER_ADMINS = frozenset({Role.ADMIN, Role.ORG_ADMIN})
NAVIGATION = [NavItem("Users", "/admin/users", USER_ADMINS)]
HOME_SECTIONS = [
    HomeSection(
        "Users",
        "Who can sign in, in which organisation, with which roles, and when they last did.",
        "/admin/users",
        USER_ADMINS,
    )
]


@router.get("/admin/users", response_class=HTMLResponse)
def users_page(
    request: Request,
    principal: Principal = allow(*USER_ADMINS),
    session: Session = Depends(get_session, scope="function"),
) -> Response:
    """Every user for an administrator; an organisation lead sees their own organisation's."""
    users = service.users_visible_to(session, principal)
    return render(request, "auth/users.html", {"title": "Users", "users": users})
