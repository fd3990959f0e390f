"""Sign-in throttling: failed attempts counted per username, per client address and per both.

Three counters share one window (``LOGIN_THROTTLE_WINDOW_SECONDS``) in ``portal.core.ratelimit``:

* per (username, address), low (5): the limit a guesser from one address meets;
* per username across all addresses, higher (20): bounds a distributed guesser; one address alone
  cannot reach it, so an attacker from one place locks the name out only at their own address;
* per address across all usernames (30): bounds spraying one password over many names.

Keeping the real user in: every lock ends with its window; a successful sign-in clears only the
(username, address) counter, which only someone who knows the password can clear; and an address
the user signed in from before (remembered for ``KNOWN_ADDRESS_FOR``) is exempt from the
per-username ceiling, so even a distributed attack does not lock them out from where they usually
sign in. Those addresses are rows in the database (``KnownSignInAddress``), not cache entries: the
attack itself fills the cache, which evicts what it holds once it is full.

An attempt is counted before the password is checked and given back if it succeeds, so parallel
requests cannot slip more guesses past a limit than it allows; a refused attempt checks no
password and is not counted.
"""

from __future__ import annotations

import ipaddress
import logging
import unicodedata
from datetime import timedelta

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import salted_hmac

from portal.accounts.models import KnownSignInAddress
from portal.core import ratelimit
from portal.core.http import client_ip

logger = logging.getLogger(__name__)

KNOWN_ADDRESS_FOR = timedelta(days=30)


def client_address(request: HttpRequest) -> str:
    """The client's address (``portal.core.http.client_ip``), or its /64 for IPv6 (one host is
    usually given a whole /64)."""
    address = client_ip(request)
    if address is None:
        return "unknown"
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


class LoginThrottle:
    """The counters of one sign-in attempt: ``reserve()`` before the password, then the outcome."""

    def __init__(self, *, request: HttpRequest, username: str) -> None:
        normalised = unicodedata.normalize("NFKC", username).strip().casefold()
        # Keyed by a keyed hash: cache keys and logs never carry the name itself.
        self.user = salted_hmac("portal.accounts.throttle", normalised).hexdigest()[:32]
        self.address = client_address(request)
        self._address_key = salted_hmac(
            "portal.accounts.throttle.address", self.address
        ).hexdigest()[:32]
        self.window = settings.LOGIN_THROTTLE_WINDOW_SECONDS
        self._reserved: list[str] = []

    @property
    def _user_and_address(self) -> str:
        return f"login:user-ip:{self.user}:{self.address}"

    def _limits(self) -> list[tuple[str, int]]:
        limits = [
            (f"login:ip:{self.address}", settings.LOGIN_THROTTLE_PER_IP),
            (self._user_and_address, settings.LOGIN_THROTTLE_PER_USER_AND_IP),
        ]
        if not self._known_address():
            limits.append((f"login:user:{self.user}", settings.LOGIN_THROTTLE_PER_USER))
        return limits

    def _known_address(self) -> bool:
        return KnownSignInAddress.objects.filter(
            name_key=self.user,
            address_key=self._address_key,
            last_signed_in__gte=timezone.now() - KNOWN_ADDRESS_FOR,
        ).exists()

    def _remember_address(self) -> None:
        """Mark this address known for this name, and forget the name's lapsed addresses."""
        now = timezone.now()
        KnownSignInAddress.objects.bulk_create(
            [
                KnownSignInAddress(
                    name_key=self.user, address_key=self._address_key, last_signed_in=now
                )
            ],
            update_conflicts=True,
            unique_fields=["name_key", "address_key"],
            update_fields=["last_signed_in"],
        )
        KnownSignInAddress.objects.filter(
            name_key=self.user, last_signed_in__lt=now - KNOWN_ADDRESS_FOR
        ).delete()

    def reserve(self) -> bool:
        """Count this attempt as a failure until it succeeds; False (nothing counted) if over."""
        for key, limit in self._limits():
            self._reserved.append(key)
            if not ratelimit.hit(key, limit, self.window):
                self._release()
                logger.warning("Sign-in throttled: %s is over %d failures", key, limit)
                return False
        return True

    def succeeded(self) -> None:
        """The password was right: give the attempt back and trust this address for this user."""
        self._release()
        ratelimit.reset(self._user_and_address, self.window)
        self._remember_address()

    def retry_after(self) -> int:
        return ratelimit.retry_after(self.window)

    def _release(self) -> None:
        for key in self._reserved:
            ratelimit.undo(key, self.window)
        self._reserved.clear()
