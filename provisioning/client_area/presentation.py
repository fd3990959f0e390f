"""What the customer is shown of a service: labels, setup progress, plan and period choices.

Pure functions of a loaded Service (no queries, no writes, no panel calls).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from django.utils import timezone

from provisioning.models import Service, ServiceStatus

S = ServiceStatus
CUSTOMER_LABELS: dict[str, str] = {
    S.PENDING: "Waiting to be set up",
    S.PROVISIONING: "Being set up",
    S.ACTIVE: "Active",
    S.SUSPENDED: "Suspended",
    S.TERMINATED: "Terminated",
    S.FAILED: "Setup failed",
}
SETUP_STEPS: tuple[tuple[str, str], ...] = (
    (S.PENDING, "Order received"),
    (S.PROVISIONING, "Creating your VPN account"),
    (S.ACTIVE, "Ready"),
)
YEARS_SHOWN = 4
MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def status_label(status: str) -> str:
    return CUSTOMER_LABELS.get(status, status.title())


def status_payload(service: Service) -> dict[str, str | bool]:
    """The body of ``status.json``: what the progress block needs, and nothing internal."""
    return {
        "status": service.status,
        "label": status_label(service.status),
        "done": not service.is_setting_up,
    }


@dataclass(frozen=True)
class SetupStep:
    status: str
    title: str
    state: str  # "done", "current" or "todo"


def setup_steps(status: str) -> list[SetupStep]:
    """The progress block's steps for a service in ``status`` (pending → provisioning → ready)."""
    order = [step_status for step_status, _ in SETUP_STEPS]
    position = order.index(status) if status in order else len(order)
    steps = []
    for index, (step_status, title) in enumerate(SETUP_STEPS):
        state = "done" if index < position else "current" if index == position else "todo"
        steps.append(SetupStep(step_status, title, state))
    return steps


def bandwidth_text(mbps: int) -> str:
    return f"{mbps} Mbit/s" if mbps > 0 else "Unlimited"


@dataclass(frozen=True)
class Plan:
    download: str
    upload: str
    instruction_url: str


def service_plan(service: Service) -> Plan:
    product_settings = service.product.typed_settings
    return Plan(
        download=bandwidth_text(product_settings.download_mbps),
        upload=bandwidth_text(product_settings.upload_mbps),
        instruction_url=product_settings.instruction_url,
    )


@dataclass(frozen=True)
class Period:
    year: int
    month: int
    years: tuple[int, ...]

    @property
    def month_name(self) -> str:
        return MONTH_NAMES[self.month - 1]

    @property
    def months(self) -> list[tuple[int, str]]:
        return list(enumerate(MONTH_NAMES, start=1))


def parse_year_or_month(raw: str | None) -> int | None:
    """A query parameter of up to four ASCII digits as an int; None for anything else."""
    if raw is None or not re.fullmatch(r"[0-9]{1,4}", raw.strip()):
        return None
    return int(raw)


def traffic_years(service: Service, today: date) -> tuple[int, ...]:
    """The years the traffic page offers: the last four, none before the service was created."""
    first = max(today.year - YEARS_SHOWN + 1, timezone.localtime(service.created_at).year)
    return tuple(range(today.year, min(first, today.year) - 1, -1))


def traffic_period(service: Service, *, year: str | None, month: str | None, today: date) -> Period:
    """The month asked for, or the current month when the choice is missing or out of range."""
    years = traffic_years(service, today)
    chosen_year = parse_year_or_month(year)
    chosen_month = parse_year_or_month(month)
    if chosen_year not in years or chosen_month is None or not 1 <= chosen_month <= 12:
        return Period(today.year, today.month, years)
    if (chosen_year, chosen_month) > (today.year, today.month):
        return Period(today.year, today.month, years)
    return Period(chosen_year, chosen_month, years)
