"""Structured JSON logs, each line carrying the id of the request it belongs to."""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from contextvars import ContextVar
from datetime import UTC, datetime

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

# Attributes every LogRecord has; anything else was passed in `extra=` and is logged too.
_STANDARD_ATTRIBUTES = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class PathRedactor:
    """The path of a request as the log shows it: the segment after each secret prefix (the
    secret of a one-time link) replaced by "…", so that whoever reads the log cannot use it."""

    def __init__(self, secret_prefixes: Iterable[str]) -> None:
        prefixes = sorted(set(secret_prefixes), key=len, reverse=True)
        self._secret = (
            re.compile("(" + "|".join(re.escape(prefix) for prefix in prefixes) + ")[^/]*")
            if prefixes
            else None
        )

    def __call__(self, path: str) -> str:
        return path if self._secret is None else self._secret.sub(r"\1…", path)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = request_id_var.get()
        if request_id is not None:
            entry["request_id"] = request_id
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRIBUTES and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(level: str = "INFO") -> None:
    """Send every log line, ours and the server's, to stderr as JSON."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # Our own request log replaces uvicorn's access log, with the request id in it.
    logging.getLogger("uvicorn.access").disabled = True
    # WeasyPrint logs each step of drawing every letter at INFO: only its warnings matter.
    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
