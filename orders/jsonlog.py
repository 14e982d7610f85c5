"""`LOG_FORMAT=json`: one JSON object per line, for log shippers (Loki, Elasticsearch, Cloud
Logging...) that parse a line rather than guess at it. The fields are the text format's:

    {"time": "2026-11-26T12:00:00.123Z", "level": "INFO", "service": "command-api",
     "logger": "orders.web", "request_id": "...", "message": "...", "exception": "..."}

`exception` only when the record carries one. Redaction and the request id come from the
handler's filters (`orders.logs`), before this formatter sees the record.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import orjson


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }  # fmt: skip
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        # a message is str, but a library may log bytes or objects: never fail a log line
        return orjson.dumps(entry, default=str).decode()
