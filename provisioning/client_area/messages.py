"""The customer's words for what went wrong: one sentence per failure, finished per place.

Staff see the panel's own error on the admin tab; customers never do (it is untrusted and
technical): they get what happened and what to do, in words that fit where they read them.
"""

from __future__ import annotations

from provisioning.exceptions import (
    CredentialsWithheld,
    NotOnPanel,
    PanelReadFailed,
    ProtocolDisabled,
    ProvisioningError,
    ReadFailure,
)

F = ReadFailure
WHAT_HAPPENED: dict[ReadFailure, str] = {
    F.UNREACHABLE: "The VPN server could not be reached just now.",
    F.PANEL_ERROR: "The VPN server returned an error just now.",
    F.NOT_FOUND: "Your VPN account could not be found on the server. Our staff will look into it.",
    F.TOO_SLOW: "The VPN server is answering slowly and this took too long.",
}
# What to do, by where the customer reads it; a missing account needs nothing from them.
WHAT_TO_DO: dict[str, str] = {
    "page": "Please try again in a minute; the rest of this page works as usual.",
    "request": "Please try again in a minute.",
    "live": "Your connection status will show again as soon as it answers.",
    "traffic": "Your traffic statistics will show again as soon as it answers; please try "
    "again in a minute.",
}
TOO_SLOW_TO_DO = "Please reload the page to try again."
# Why a service has no VPN account to show, by its status (suspended: CredentialsWithheld).
NOT_ON_PANEL: dict[str, str] = {
    "pending": "This service is not set up yet.",
    "provisioning": "This service is not set up yet.",
    "failed": "This service could not be set up, so it has no VPN account. Our staff will look "
    "into it.",
    "terminated": "This service has been terminated; its VPN account no longer exists.",
}
RATE_LIMITED = "Too many requests. Please wait a moment and try again."


def read_failed(error: PanelReadFailed, *, place: str) -> str:
    """The customer's sentence for a failed panel read shown in ``place`` (see WHAT_TO_DO)."""
    happened = WHAT_HAPPENED[error.failure]
    if error.failure == F.NOT_FOUND:
        return happened
    if error.failure == F.TOO_SLOW and place == "page":
        return f"{happened} {TOO_SLOW_TO_DO}"
    return f"{happened} {WHAT_TO_DO[place]}"


def customer_message(error: ProvisioningError, *, place: str) -> str:
    """Any provisioning error the client area meets, in the customer's words."""
    if isinstance(error, PanelReadFailed):
        return read_failed(error, place=place)
    if isinstance(error, CredentialsWithheld | ProtocolDisabled):
        return error.message
    if isinstance(error, NotOnPanel):
        return NOT_ON_PANEL.get(error.status, error.message)
    return "Something went wrong. Please try again in a minute."
