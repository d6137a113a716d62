"""The web shell: FastAPI app factory, NHS.UK pages, security headers, errors, logging."""

from healthequity.web.app import create_app

__all__ = ["create_app"]
