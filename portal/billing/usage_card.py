"""The traffic page's usage charges card (registered in ``BillingConfig.ready``): this month so
far from the latest reading, and the last month billed with its invoice — the same figures,
computed by the same function (``usage_charges.usage_bill``), as the invoice.

Nothing is asked of a service whose product is not metered; a metered one costs three queries
(its pricing, this month's reading, the last charge)."""

from __future__ import annotations

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from portal.billing.models import UsageCharge, UsagePricing
from portal.billing.services.usage import month_name, utc_month, utc_text
from portal.billing.usage_charges import UsageLine, gb_text, rates_for, usage_bill
from portal.core import clock
from provisioning.models import Service, UsageSnapshot

TEMPLATE = "billing/_usage_card.html"


def usage_cards(request: HttpRequest, service: Service, section: str) -> list[SafeString]:
    if section != "traffic" or not service.product.typed_settings.metered:
        return []
    pricing = UsagePricing.objects.filter(product_id=service.product_id).first()
    if pricing is None:
        return []
    year, month = utc_month(clock.now())
    reading = UsageSnapshot.objects.filter(service=service, year=year, month=month).first()
    bill = None
    if reading is not None:
        bill = usage_bill(
            download_bytes=reading.download_bytes,
            upload_bytes=reading.upload_bytes,
            rates=rates_for(service.product, pricing),
        )
    last = (
        UsageCharge.objects.filter(subscription__service=service).select_related("invoice").first()
    )
    context = {
        "month_name": month_name(year, month),
        "reading": reading,
        "read_at": utc_text(reading.pulled_at) if reading else "",
        "rows": [_row(line) for line in bill.lines] if bill else [],
        "total": bill.total if bill else None,
        "last": last,
        "last_month_name": month_name(last.year, last.month) if last else "",
    }
    return [render_to_string(TEMPLATE, context, request=request)]


def _row(line: UsageLine) -> dict[str, object]:
    return {
        "label": line.verb.capitalize(),
        "used": gb_text(line.used_gb),
        "included": gb_text(line.included_gb),
        "billable": gb_text(line.billable_gb),
        "price": line.price_per_gb,
        "amount": line.amount,
    }
