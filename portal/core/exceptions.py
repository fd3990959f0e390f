"""The one base of the errors a use case raises to refuse a request (nothing was changed).

Each app's own errors derive from :class:`DomainError` and say how an API answers them:
``status_code`` and a stable machine-readable ``code``; ``message`` is a sentence safe to show.
The API's exception handler (``portal.core.api.errors``) maps them all in one place, so no API
view needs a try/except of its own.
"""

from __future__ import annotations


class DomainError(Exception):
    """A request a use case refused; ``message`` says why and is safe to show."""

    status_code: int = 409
    code: str = "refused"
    default_message = "The request could not be carried out."

    def __init__(self, message: str = "") -> None:
        self.message = message or self.default_message
        super().__init__(self.message)
