"""Errors raised by the panel client.

Every error says whether repeating the call may help (``transient``) so that tasks retry only what
can succeed later and fail everything else at once, visibly. ``maybe_applied`` says that a call that
is not safe to repeat (POST) failed after the panel may have acted on it, so the caller must look
the result up (a client by its name) before trying again. Messages are sentences an admin can act
on; they never contain the API token.
"""

from __future__ import annotations

from typing import Any


class PanelError(Exception):
    """Base of every panel failure."""

    def __init__(
        self,
        message: str,
        *,
        transient: bool,
        status: int | None = None,
        method: str = "",
        path: str = "",
        api_message: str = "",
        retry_after: float | None = None,
        maybe_applied: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.transient = transient
        self.status = status
        self.method = method
        self.path = path
        self.api_message = api_message
        self.retry_after = retry_after
        self.maybe_applied = maybe_applied

    @property
    def permanent(self) -> bool:
        return not self.transient

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle without calling ``__init__`` (its keyword-only arguments defeat the default)."""
        return _restore, (type(self), self.args, dict(self.__dict__))


def _restore(cls: type[PanelError], args: tuple[Any, ...], state: dict[str, Any]) -> PanelError:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class PanelUnreachable(PanelError):
    """No usable HTTP answer: connect error, timeout, dropped connection, TLS failure.

    Transient, except a TLS certificate or protocol failure, which needs an admin to fix a
    certificate or the Secure flag, and a request that cannot be sent at all.
    """


class PanelAuthError(PanelError):
    """The panel refused the token (HTTP 401/403 or ``Not authorized``). Never transient."""

    def __init__(self, message: str, **kwargs: Any) -> None:
        kwargs["transient"] = False
        super().__init__(message, **kwargs)


class PanelNotFound(PanelError):
    """The object does not exist (``Account not found``, ``Network not found``). Never transient.

    A delete that raises this has nothing left to delete, which callers usually treat as done.
    """

    def __init__(self, message: str, **kwargs: Any) -> None:
        kwargs["transient"] = False
        super().__init__(message, **kwargs)


class PanelRejected(PanelError):
    """The panel answered with its API error envelope.

    Permanent for validation and business rejections (2xx/4xx); transient when the HTTP status is
    5xx or 429. ``field_errors`` maps request fields to the panel's complaint about them.
    """

    def __init__(
        self, message: str, *, field_errors: dict[str, str] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(message, **kwargs)
        self.field_errors = dict(field_errors or {})


class PanelBadResponse(PanelError):
    """An answer that is not a usable panel answer: non-JSON, HTML, a redirect, a wrong shape.

    Transient when the HTTP status is 5xx or 429 (a proxy in front of a struggling panel), else
    permanent.
    """
