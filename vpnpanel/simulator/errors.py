"""The one error type the simulator raises; the server turns it into the v2 ERROR envelope."""

from __future__ import annotations


class PanelError(Exception):
    """A rejection the panel reports to its caller, with the HTTP status it answers with."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 422,
        field: str | None = None,
        errors: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.errors = dict(errors or {})
        if field is not None:
            self.errors.setdefault(field, message)


def not_found(what: str = "Account") -> PanelError:
    """The 404 the panel answers for an unknown client or network."""
    return PanelError(f"{what} not found", status=404)
