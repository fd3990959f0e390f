"""Invoice numbers are gapless and unique under concurrency: 100 invoices paid by 30 threads at
once on PostgreSQL (a connection each: the server allows 100 in all, CI's other workers included),
some of the paying transactions rolled back after taking their number."""

import threading
from decimal import Decimal

import pytest
from django.db import connection, transaction

from portal.billing.models import Gateway, Invoice, InvoiceStatus
from portal.billing.services import LineSpec, invoice_create, payment_record
from tests.services import postgresql_or_skip

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

PAYMENTS = 100
THREADS = 30
ROLLED_BACK = {7, 23, 42, 58, 77, 91}


class RolledBack(Exception):
    pass


def test_concurrent_payments_get_gapless_unique_numbers(customer):
    postgresql_or_skip()
    line = LineSpec(description="Account credit", unit_price=Decimal("1.00"), adds_credit=True)
    invoices = [
        invoice_create(customer=customer, lines=[line], actor=None) for _ in range(PAYMENTS)
    ]
    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []
    shares = [list(enumerate(invoices))[n::THREADS] for n in range(THREADS)]

    def pay_all(share: list[tuple[int, Invoice]]) -> None:
        try:
            start.wait()
            for index, invoice in share:
                pay(index, invoice)
        except BaseException as exc:  # reported below, on the test's thread
            errors.append(exc)
        finally:
            connection.close()

    def pay(index: int, invoice: Invoice) -> None:
        try:
            with transaction.atomic():
                payment_record(
                    invoice=invoice,
                    amount=invoice.total,
                    gateway=Gateway.BANK_TRANSFER,
                    reference=f"bank-{index}",
                    actor=None,
                )
                if index in ROLLED_BACK:
                    raise RolledBack  # after the number was taken in this transaction
        except RolledBack:
            pass

    threads = [threading.Thread(target=pay_all, args=(share,)) for share in shares]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    paid = Invoice.objects.filter(status=InvoiceStatus.PAID)
    numbers = sorted(
        int(number.rsplit("-", 1)[1]) for number in paid.values_list("number", flat=True)
    )
    assert len(numbers) == PAYMENTS - len(ROLLED_BACK)
    assert numbers == list(range(1, len(numbers) + 1))  # unique and gapless
    unpaid = Invoice.objects.filter(status=InvoiceStatus.UNPAID)
    assert sorted(unpaid.values_list("pk", flat=True)) == sorted(
        invoices[i].pk for i in ROLLED_BACK
    )
    assert not unpaid.exclude(number=None).exists()
