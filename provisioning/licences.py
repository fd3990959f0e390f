"""Provisioning asks licensing about its products' licence keys (licensing knows only ids).

A product without a key is not enforced: its services are set up as before (most installations,
the tests and the demo's own products before it seeds a key). A product with a key whose last
check failed takes no new services: the create refuses before any panel call, and the store and
the admin's *Add service* refuse before anything is ordered. Services already set up keep
working whatever the licence says.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from licensing.checks import (
    licence_check,
    licence_check_current,
    licence_check_due,
    licence_problem,
)
from licensing.status import (
    failing_licence_checks,
    forget_licence_check,
    licence_error,
    licence_failures_reindex,
    licence_status_row,
)
from portal.core.queue import enqueue_on_commit
from provisioning.models import Product

logger = logging.getLogger(__name__)

CHECK_TASK = "provisioning.check_licences"
NO_KEY_STATUS = "No licence key: not enforced (new services are not refused)."


@dataclass(frozen=True)
class FailingLicence:
    """One product of the admin banner."""

    product_id: int
    product_name: str
    error: str


def product_licence_refusal(product: Product, *, wait: bool = False) -> str:
    """Why new services of ``product`` are refused now ("" when they are not).

    A page (``wait=False``) never waits on the licence server: it reads the recorded result, or
    verifies offline when none is recorded. The worker (``wait=True``) checks when no result
    holds, asking the server first, so it never sets up a service on a guess.
    """
    if not product.license_key:
        return ""
    if wait:
        return licence_check_current(product_id=product.pk, key=product.license_key).error
    return licence_problem(product_id=product.pk, key=product.license_key)


def products_check_licences() -> int:
    """The background check: every product with a key whose result ran out is checked again
    (the server is asked once per recheck period); returns how many were checked. One product's
    check failing unexpectedly is logged and leaves the others (and the banner's index) be."""
    products = list(Product.objects.exclude(license_key="").only("pk", "license_key"))
    checked = 0
    for product in products:
        try:
            checked += _product_check_licence(product)
        except Exception:
            logger.exception("Licence check of product %s broke; the others go on", product.pk)
    licence_failures_reindex({product.pk: product.license_key for product in products})
    return checked


def _product_check_licence(product: Product) -> bool:
    """Check the product's key when its result ran out; whether it was checked."""
    if not licence_check_due(product.pk, product.license_key):
        return False
    result = licence_check(product_id=product.pk, key=product.license_key)
    if not result.ok:
        logger.warning("Licence check failed for product %s: %s", product.pk, result.error)
    return True


def product_licence_key_changed(*, product: Product) -> None:
    """The admin saved another key (or none): the old result no longer says anything, and the
    new key is checked in the background at once rather than at the next round."""
    forget_licence_check(product.pk)
    if product.license_key:
        enqueue_on_commit(CHECK_TASK)


def failing_licences() -> list[FailingLicence]:
    """The products with a key whose last check failed, by name: no query when none failed,
    one otherwise, whatever the number of products."""
    failing = failing_licence_checks()
    if not failing:
        return []
    products = (
        Product.objects.filter(pk__in=failing)
        .exclude(license_key="")
        .order_by("name")
        .values_list("pk", "name", "license_key")
    )
    return [
        FailingLicence(pk, name, failing[pk].error)
        for pk, name, key in products
        if failing[pk].is_for(key)
    ]


def product_licence_status(product: Product) -> str:
    """The product page's status row: the last check of its current key, or that none is set."""
    if not product.license_key:
        return NO_KEY_STATUS
    return licence_status_row(product.pk, product.license_key)


def product_licence_error(product: Product) -> str:
    """The service page's errorbox: the failed last check of the product's current key, or ""."""
    return licence_error(product.pk, product.license_key) if product.license_key else ""
