"""Where apps above provisioning add to the client area without provisioning importing them.

Billing registers the services' next due dates here when it starts (its ``AppConfig.ready``);
the My services page asks whatever is registered. Provisioning knows no provider by name.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

# services' ids → {service id: next due date}; services without one are left out
NextDueProvider = Callable[[list[int]], dict[int, date]]
_next_due_providers: list[NextDueProvider] = []


def register_next_due(provider: NextDueProvider) -> None:
    if provider not in _next_due_providers:
        _next_due_providers.append(provider)


def next_due_dates(service_ids: list[int]) -> dict[int, date]:
    """Each service's next due date, from every registered provider (one query each)."""
    dates: dict[int, date] = {}
    for provider in _next_due_providers:
        dates.update(provider(service_ids))
    return dates
