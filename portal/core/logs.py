"""Production log lines: one JSON object per line, for a log collector to parse.

Every line has ``time`` (ISO-8601, UTC), ``level``, ``logger``, ``message`` and ``request_id``
(null outside a request or task); in a Celery task also ``task_id`` and ``task_name``; with an
exception, ``exception`` (its traceback). The message and the traceback go through the same
masking as the module log (``vpnpanel.redaction.scrub_text``: bearer tokens, private keys,
one-time-link URLs) plus the keys allauth puts in URL paths (``mask``). Request headers are never
logged.
"""

import json
import logging
import re
from datetime import UTC, datetime

from portal.core.request_id import current_request_id, current_task
from vpnpanel.redaction import MASK, scrub_text

# The keys of password-reset and email-confirmation links are in the path itself, so a log line
# naming the path (gunicorn's access line, django.request's "Not Found: …") would hold them.
_PATH_KEYS = re.compile(r"(/password/reset/key/|/confirm-email/)[^/\s?#\"']+")


def mask(text: str) -> str:
    """``text`` as it may be logged: the module log's masking and the keys in account links."""
    return _PATH_KEYS.sub(rf"\g<1>{MASK}", scrub_text(text))


class TextFormatter(logging.Formatter):
    """The readable format (``LOG_FORMAT=text``), masked as the JSON lines are."""

    def format(self, record: logging.LogRecord) -> str:
        return mask(super().format(record))


class JsonFormatter(logging.Formatter):
    """A log record as one line of JSON.

    A record may carry ``request_id`` itself (gunicorn's access log, written after the request's
    context is gone) and ``http`` (a dict of the access log's fields), passed with ``extra=``.
    """

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": _utc_iso(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": mask(record.getMessage()),
            "request_id": _request_id_of(record),
        }
        if task := current_task():
            entry["task_id"], entry["task_name"] = task.id, task.name
        if record.exc_info:
            entry["exception"] = mask(self.formatException(record.exc_info))
        elif record.exc_text:
            entry["exception"] = mask(record.exc_text)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        http = getattr(record, "http", None)
        if isinstance(http, dict):
            entry["http"] = http
        return json.dumps(entry, ensure_ascii=False, default=str)


def use_json_format(logger: logging.Logger) -> None:
    """Give the handlers someone else set up (Celery's, gunicorn's) the JSON format."""
    for handler in logger.handlers:
        handler.setFormatter(JsonFormatter())


def _request_id_of(record: logging.LogRecord) -> str | None:
    """The id the record carries, its request's (Django logs a 4xx response after the middleware
    has returned, passing the request along), or the one current."""
    carried = getattr(record, "request_id", None)
    request = getattr(record, "request", None)
    return carried or getattr(request, "request_id", None) or current_request_id()


def _utc_iso(timestamp: float) -> str:
    moment = datetime.fromtimestamp(timestamp, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
