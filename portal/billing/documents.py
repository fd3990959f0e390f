"""An invoice as a document: the HTML view and the PDF are the same template
(``billing/invoice_document.html``, overridable in the project's templates/)."""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string

from portal.billing.models import Invoice
from portal.billing.parties import buyer_details, seller_details
from portal.billing.tax import REVERSE_CHARGE_NOTE


def document_context(invoice: Invoice) -> dict[str, Any]:
    """A paid invoice shows the parties as they were when it was paid; a proforma, as now."""
    return {
        "invoice": invoice,
        "lines": list(invoice.lines.all()),
        "buyer": invoice.buyer or buyer_details(invoice.customer),
        "seller": invoice.seller or seller_details(),
        "reverse_charge_note": REVERSE_CHARGE_NOTE if invoice.reverse_charge else "",
    }


def invoice_pdf(invoice: Invoice) -> bytes:
    from weasyprint import HTML  # heavy: imported when a PDF is asked for

    html = render_to_string("billing/invoice_pdf.html", document_context(invoice))
    return HTML(string=html).write_pdf()


def pdf_filename(invoice: Invoice) -> str:
    return f"{invoice.number or f'proforma-{invoice.pk}'}.pdf"
