"""The request id: one id per web request, on its response and on every log line of its work.

The middleware takes a well-formed incoming ``X-Request-ID`` behind a trusted proxy
(``PORTAL_TRUSTED_PROXY_COUNT`` above 0: the proxy sets it) or makes one, keeps it in a context
variable for the request and returns it in the response header. A Celery task sent while an id
is current carries it in its message headers, and the worker makes it current while the task
runs, so the worker's log lines of that work show the same id; a task sent by beat (no id
current) gets one of its own. ``portal.core.logs.JsonFormatter`` puts it on each log line.
"""

import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar, Token
from typing import Any, NamedTuple

from django.conf import settings
from django.http import HttpRequest, HttpResponse

HEADER = "X-Request-ID"
TASK_HEADER = "portal_request_id"
# A proxy's id is kept when it looks like one (nginx's $request_id, a UUID); anything else is
# replaced rather than written into every log line.
_VALID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


class TaskContext(NamedTuple):
    id: str
    name: str


_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
_task: ContextVar[TaskContext | None] = ContextVar("task", default=None)
_task_tokens: dict[str, tuple[Token, Token]] = {}


def new_request_id() -> str:
    return uuid.uuid4().hex


def is_valid(value: object) -> bool:
    return isinstance(value, str) and _VALID.fullmatch(value) is not None


def current_request_id() -> str | None:
    return _request_id.get()


def current_task() -> TaskContext | None:
    return _task.get()


class RequestIdMiddleware:
    """First in MIDDLEWARE, so that every response (redirects and static files too) has the id."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Only a proxy in front sets the header; a client's own would be its pick in our logs.
        incoming = request.headers.get(HEADER) if settings.PORTAL_TRUSTED_PROXY_COUNT else None
        request_id = incoming if is_valid(incoming) else new_request_id()
        request.request_id = request_id
        token = _request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _request_id.reset(token)
        response[HEADER] = request_id
        return response


# Celery signal receivers, connected in portal/celery.py ------------------------------------------


def add_to_task_headers(headers: dict[str, Any] | None = None, **kwargs: object) -> None:
    """``before_task_publish``: a task sent during a request (or a task) carries its id."""
    request_id = current_request_id()
    if request_id and headers is not None:
        headers.setdefault(TASK_HEADER, request_id)


def enter_task(task_id: str | None = None, task: Any = None, **kwargs: object) -> None:
    """``task_prerun``: the id the message carries, or (a task beat sent) one of its own.

    A task run eagerly inside a request (unit tests) keeps the request's id.
    """
    carried = task.request.get(TASK_HEADER) if task is not None else None
    request_id = carried if is_valid(carried) else current_request_id() or new_request_id()
    name = getattr(task, "name", None) or "?"
    _task_tokens[task_id or ""] = (
        _request_id.set(request_id),
        _task.set(TaskContext(task_id or "?", name)),
    )


def leave_task(task_id: str | None = None, **kwargs: object) -> None:
    """``task_postrun``: back to what was current before the task (nothing, in a worker)."""
    tokens = _task_tokens.pop(task_id or "", None)
    if tokens is None:
        return
    request_token, task_token = tokens
    try:
        _task.reset(task_token)
        _request_id.reset(request_token)
    except ValueError:  # postrun in another context than prerun: nothing to go back to
        _task.set(None)
        _request_id.set(None)
