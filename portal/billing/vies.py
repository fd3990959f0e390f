"""The optional online check of an EU VAT id with the EU's VIES service (``BILLING_VIES_CHECK``).

Off by default: the checksum (python-stdnum) decides reverse charge. On, an id VIES says is not
registered is charged tax like a consumer. VIES is often down for one member state or another;
an id it cannot confirm or deny now keeps the checksum's answer (and a warning is logged), so a
VIES outage never blocks a checkout. Definite answers are cached for a day.
"""

from __future__ import annotations

import logging

import requests
from django.conf import settings
from django.core.cache import cache
from stdnum.eu import vat as eu_vat

logger = logging.getLogger(__name__)

TIMEOUT = (3, 5)
CACHE_SECONDS = 24 * 3600
# VIES's answers that say the number is not a registered one (the rest: it could not tell now).
NOT_REGISTERED = {"VALID", "INVALID", "INVALID_INPUT"}


def vies_confirms(vat_id: str) -> bool | None:
    """Whether VIES knows ``vat_id`` (with its country prefix); None when it cannot say now."""
    compact = eu_vat.compact(vat_id).upper()
    key = f"billing:vies:{compact}"
    if (cached := cache.get(key)) is not None:
        return cached
    answer = _ask(compact[:2], compact[2:])
    if answer is not None:
        cache.set(key, answer, CACHE_SECONDS)
    return answer


def _ask(country: str, number: str) -> bool | None:
    try:
        response = requests.post(
            settings.BILLING_VIES_URL,
            json={"countryCode": country, "vatNumber": number},
            timeout=TIMEOUT,
        )
        response.raise_for_status()
        body = response.json()
    except (requests.RequestException, ValueError) as exc:
        logger.warning("VIES could not be asked about a %s VAT id: %s", country, exc)
        return None
    if body.get("valid") is True:
        return True
    error = body.get("userError") or "VALID"
    if error in NOT_REGISTERED:
        return False
    logger.warning("VIES could not check a %s VAT id now: %s", country, error)
    return None
