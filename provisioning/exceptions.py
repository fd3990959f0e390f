"""Every error provisioning raises derives from :class:`ProvisioningError`.

``message`` is written for the audience of the code that raises it: an admin for requests and
worker runs, a customer for the client area's reads (those never carry a panel's own text).
Panel failures themselves are :class:`vpnpanel.PanelError`; provisioning turns them into these
where a caller needs a sentence rather than a panel error.
"""

from __future__ import annotations

from enum import StrEnum

from portal.core.exceptions import DomainError
from vpnpanel import PanelError, PanelNotFound, PanelUnreachable


class ProvisioningError(DomainError):
    """Base of provisioning's errors; ``message`` is safe to show."""

    status_code = 503
    code = "provisioning_error"


class ActionRefused(ProvisioningError):
    """A lifecycle request the service's state does not allow (nothing was changed)."""

    status_code = 409
    code = "action_refused"


class ActionInProgress(ActionRefused):
    """Another action is queued or running on the service: ask again once it is done."""

    code = "action_in_progress"


class NotOnPanel(ProvisioningError):
    """The service has no client on a panel (yet, or any more): there is nothing to ask about.

    ``status`` is the service's, so each audience can say why (not set up yet, terminated, …).
    """

    status_code = 409
    code = "not_on_panel"
    default_message = "This service is not set up yet."

    def __init__(self, message: str = "", *, status: str = "") -> None:
        super().__init__(message)
        self.status = status


class CredentialsWithheld(NotOnPanel):
    """A suspended client stays on the panel, disabled; its customer gets no credentials."""

    code = "credentials_withheld"
    default_message = (
        "This service is suspended. Its VPN configs and one-time links are available again once "
        "it is reactivated."
    )


class ProvisioningRetry(ProvisioningError):
    """A transient failure: the action stays queued; the task runs it again after ``countdown``."""

    def __init__(self, message: str, *, countdown: float) -> None:
        super().__init__(message)
        self.countdown = countdown


class LeaseLost(ProvisioningError):
    """Another worker holds the service now; this run stops without writing anything more."""

    default_message = "Another worker holds this service now."


class PlacementDeferred(ProvisioningError):
    """Nothing is deployable right now because a panel could not be asked: try again later."""


class LicenceRefused(ProvisioningError):
    """The product's licence check failed: no new service of it is set up (an admin's words)."""


class ReadFailure(StrEnum):
    """Why a panel read failed, as each audience is told it in its own words."""

    UNREACHABLE = "unreachable"  # no answer at all: connection refused, timeout, TLS
    PANEL_ERROR = "panel_error"  # an answer, but an error or one we cannot use (5xx, garbage)
    NOT_FOUND = "not_found"  # the panel has no such client or network
    TOO_SLOW = "too_slow"  # the page's time budget ran out before the panel answered


class PanelReadFailed(ProvisioningError):
    """A panel read someone waits on failed.

    ``failure`` says why, for the words of each audience (the client area and the admin each map
    it to their own sentence); ``detail`` is the panel error's own text, for staff only.
    """

    code = "panel_unavailable"

    def __init__(self, failure: ReadFailure, *, detail: str = "") -> None:
        super().__init__(detail or failure.value)
        self.failure = failure
        self.detail = detail

    @classmethod
    def from_panel_error(cls, exc: PanelError) -> PanelReadFailed:
        if isinstance(exc, PanelUnreachable):
            return cls(ReadFailure.UNREACHABLE, detail=str(exc))
        if isinstance(exc, PanelNotFound):
            return cls(ReadFailure.NOT_FOUND, detail=str(exc))
        return cls(ReadFailure.PANEL_ERROR, detail=str(exc))

    @property
    def stops_page(self) -> bool:
        """After this, a page asks that panel nothing more: it is down or out of time."""
        return self.failure in (ReadFailure.UNREACHABLE, ReadFailure.TOO_SLOW)


class ProtocolDisabled(ProvisioningError):
    """The protocol is not enabled on the client's network."""

    status_code = 404
    code = "protocol_disabled"
    default_message = "This protocol is not enabled for your VPN network."
