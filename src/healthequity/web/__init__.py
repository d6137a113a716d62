"""The web shell: FastAPI app factory (`healthequity.web.app.create_app`), NHS.UK pages,
security headers, errors, structured logging."""
