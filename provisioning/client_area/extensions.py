"""Where apps above provisioning add to the client area without provisioning importing them.

Billing registers its providers when it starts (its ``AppConfig.ready``): the services' next
due dates for My services, and cards for a service's pages (its plan change, cancellation,
usage charges). Provisioning asks whatever is registered and knows no provider by name.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

from django.http import HttpRequest
from django.utils.safestring import SafeString

if TYPE_CHECKING:
    from provisioning.models import Service

# services' ids → {service id: next due date}; services without one are left out
NextDueProvider = Callable[[list[int]], dict[int, date]]
# (request, the customer's own service, the page's section) → HTML cards, rendered by the
# provider's own (autoescaping) templates; section is "information" or "traffic"
ServiceCardsProvider = Callable[[HttpRequest, "Service", str], list[SafeString]]

_next_due_providers: list[NextDueProvider] = []
_service_card_providers: list[ServiceCardsProvider] = []


def register_next_due(provider: NextDueProvider) -> None:
    if provider not in _next_due_providers:
        _next_due_providers.append(provider)


def next_due_dates(service_ids: list[int]) -> dict[int, date]:
    """Each service's next due date, from every registered provider (one query each)."""
    dates: dict[int, date] = {}
    for provider in _next_due_providers:
        dates.update(provider(service_ids))
    return dates


def register_service_cards(provider: ServiceCardsProvider) -> None:
    if provider not in _service_card_providers:
        _service_card_providers.append(provider)


def service_cards(request: HttpRequest, service: Service, section: str) -> list[SafeString]:
    """The cards every registered provider adds to this section of the service's pages."""
    cards: list[SafeString] = []
    for provider in _service_card_providers:
        cards.extend(provider(request, service, section))
    return cards
