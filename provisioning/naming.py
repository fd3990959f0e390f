"""Client names on the panel from a product's name rule (the seed's macros and ``-1`` dedupe)."""

import random
import re
import string
from collections.abc import Callable
from datetime import datetime

from provisioning.product_settings import NAME_RULE_MACROS

MAX_NAME_LENGTH = 120


def render_name_rule(
    rule: str, *, client_id: int, service_id: int, now: datetime, rng: random.Random
) -> str:
    """Expand every macro of ``rule``; the result uses only letters, digits, ``_`` and ``-``."""
    fixed = {
        "client_id": str(client_id),
        "service_id": str(service_id),
        "unixtime": str(int(now.timestamp())),
        "year": f"{now.year:04d}",
        "month": f"{now.month:02d}",
        "day": f"{now.day:02d}",
        "hour": f"{now.hour:02d}",
        "minute": f"{now.minute:02d}",
        "second": f"{now.second:02d}",
    }

    def expand(match: re.Match[str]) -> str:
        macro, digits, letters = match.group(1), match.group(2), match.group(3)
        if digits:
            return "".join(rng.choice(string.digits) for _ in range(int(digits)))
        if letters:
            return "".join(rng.choice(string.ascii_lowercase) for _ in range(int(letters)))
        return fixed[macro]

    return NAME_RULE_MACROS.sub(expand, rule)[:MAX_NAME_LENGTH]


def deduplicated(base: str, is_taken: Callable[[str], bool]) -> str:
    """``base``, or ``base-1``, ``base-2``, … — the first that is not taken."""
    if not is_taken(base):
        return base
    suffix = 1
    while is_taken(f"{base}-{suffix}"):
        suffix += 1
    return f"{base}-{suffix}"
