"""Logging for every process: one line per record, tagged with the service and the request id,
secrets redacted.

Redaction runs in a filter on the handler, so nothing reaches a log line unredacted whatever
logger emitted it (ours, uvicorn's, psycopg's, rq's). The request id lives in a context variable
set by the HTTP edge (`orders.web`); lines logged outside a request carry `-`.
"""

from __future__ import annotations

import logging
import re
import sys
from contextvars import ContextVar
from typing import Any, TextIO

from orders.jsonlog import JsonFormatter

# The id of the HTTP request being served by the current task, or "-" outside one.
REQUEST_ID: ContextVar[str] = ContextVar("request_id", default="-")

_REDACTIONS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(
            # also `access_token=`, `client_secret=` and JSON/dict keys: `"password": "..."`
            r"(?i)(?<![a-z])(password|passwd|token|api[_-]?key|secret|authorization)"
            r"([\"']?\s*[=:]\s*)"
            # an auth scheme is not the secret: `Authorization: Bearer <token>` hides the token
            r"((?:bearer|basic|digest|token)\s+)?(\"[^\"]*\"|'[^']*'|\S+)"
        ),
        r"\1\2\3[REDACTED]",
    ),
    (re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]+"), r"\1 [REDACTED]"),
    (re.compile(r"(?<!\d)(?:\d{4}[ -]?){3}\d{4}(?!\d)"), "[CARD_REDACTED]"),
    (re.compile(r"(?<!\d)\d{3}-\d{2}-\d{4}(?!\d)"), "[SSN_REDACTED]"),
    # credentials inside connection URLs: scheme://user:password@host
    (re.compile(r"(://[^:/@\s]+:)[^@\s]+@"), r"\1[REDACTED]@"),
)


def redact(text: str) -> str:
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        request_id = getattr(record, "request_id", None)
        if isinstance(request_id, str):  # the client's X-Request-ID: a card number is "sane"
            record.request_id = redact(request_id)
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg = redact(message)
        record.args = None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


class RequestIdFilter(logging.Filter):
    """Give every record a `request_id` attribute for the format string."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        return True


def build_handler(
    service: str, stream: TextIO | None = None, log_format: str = "text"
) -> logging.Handler:
    """The platform's handler: one redacted line per record, with service and request id; a
    JSON object per line when `log_format` is "json" (`orders.jsonlog`)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(
        JsonFormatter(service)
        if log_format == "json"
        else logging.Formatter(
            f"%(asctime)s %(levelname)s [{service}] %(name)s [%(request_id)s]: %(message)s"
        )
    )
    handler.addFilter(RequestIdFilter())
    handler.addFilter(RedactingFilter())
    return handler


# Libraries that log every request at INFO (httpx: each health probe of `orders up`): heard
# from at WARNING unless the level is DEBUG.
CHATTY = ("httpx",)


def setup_logging(service: str, level: str = "INFO", log_format: str = "text") -> None:
    handler = build_handler(service, log_format=log_format)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in CHATTY:
        logging.getLogger(name).setLevel(
            logging.NOTSET if root.level <= logging.DEBUG else logging.WARNING
        )


# For granian's `log_dictconfig`: its loggers hand their records to the root logger (the
# platform's handler: the same format, JSON included, and redaction) instead of printing
# lines of their own format to stdout.
TO_ROOT: dict[str, Any] = {
    "loggers": {
        "_granian": {"handlers": [], "propagate": True},
        "granian.access": {"handlers": [], "propagate": True},
    }
}
