"""Errors of authentication and authorisation."""


class AuthError(Exception):
    """Base class for auth errors."""


class AuthenticationFailed(AuthError):
    """Wrong email or password, disabled or locked account: deliberately one error."""


class NotAuthenticated(AuthError):
    """The request carries no valid session or token."""


class PermissionDenied(AuthError):
    """The signed-in user or token holds none of the roles the route allows."""


class InvalidUserDetails(AuthError):
    """A field of a new user (email, password, name, role) is not acceptable."""


class UserExists(AuthError):
    """A user with that email address exists already."""


class UnknownUser(AuthError):
    """No user has that email address."""


class UnknownOrganisation(AuthError):
    """No organisation has that name or ODS code."""


class UnknownApiToken(AuthError):
    """No API token has that id or prefix."""


class InvalidRole(AuthError):
    """A role name that is not one of the known roles."""
