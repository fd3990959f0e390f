"""The admin's licence banner: shown on every admin page while a product's licence check fails."""

from __future__ import annotations

import logging
import time
from typing import Any

from django import template
from redis import RedisError

from provisioning.licences import failing_licences

logger = logging.getLogger(__name__)
register = template.Library()

#: While the cache is down every admin page would say so: one warning a minute per process.
UNREACHABLE_LOG_EVERY_SECONDS = 60
_last_unreachable_log = float("-inf")


@register.inclusion_tag("admin/licensing/licence_alert.html", takes_context=True)
def licence_alert(context: template.Context) -> dict[str, Any]:
    """The failing products, for staff who may see products (the sign-in page shares the
    admin's base); none while the cache holding the results cannot be read, so that the admin
    still opens."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not (user.is_active and user.is_staff):
        return {"failing": []}
    if not user.has_perm("provisioning.view_product"):
        return {"failing": []}
    try:
        return {"failing": failing_licences()}
    except (RedisError, OSError) as exc:
        _log_unreachable(exc)
        return {"failing": []}


def _log_unreachable(exc: Exception) -> None:
    global _last_unreachable_log
    now = time.monotonic()
    if now - _last_unreachable_log >= UNREACHABLE_LOG_EVERY_SECONDS:
        _last_unreachable_log = now
        logger.warning("Licence banner left out: the cache cannot be read (%r)", exc)
