"""What the shop sells: provisioning's products under their own names, with the prices and
billing cycles kept here; coupons; orders (one order, one invoice)."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.db import models
from django.utils import timezone

from portal.billing.cycles import BillingCycle
from portal.billing.money import ZERO, MoneyField, format_money


class Plan(models.Model):
    """A provisioning product offered in the shop: its page and its prices per cycle."""

    product = models.OneToOneField(
        "provisioning.Product", on_delete=models.PROTECT, related_name="plan"
    )
    slug = models.SlugField(unique=True)
    description = models.TextField(blank=True)
    on_sale = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ("position", "id")

    def __str__(self) -> str:
        return self.product.name

    @property
    def name(self) -> str:
        return self.product.name


class PlanPrice(models.Model):
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="prices")
    cycle = models.CharField(max_length=12, choices=BillingCycle.choices)
    price = MoneyField(help_text="Per cycle.")
    setup_fee = MoneyField(default=ZERO, help_text="Once, with the first invoice.")

    class Meta:
        ordering = ("plan", "cycle")
        constraints = [
            models.UniqueConstraint(fields=("plan", "cycle"), name="one_price_per_cycle"),
            models.CheckConstraint(
                condition=models.Q(price__gte=0) & models.Q(setup_fee__gte=0),
                name="price_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan}: {format_money(self.price)} {self.get_cycle_display()}"


class CouponKind(models.TextChoices):
    PERCENT = "percent", "Percentage"
    FIXED = "fixed", "Fixed amount per service"


class CouponScope(models.TextChoices):
    FIRST_PAYMENT = "first", "First payment only"
    RECURRING = "recurring", "Every payment"


class Coupon(models.Model):
    code = models.CharField(max_length=40, unique=True, help_text="Stored in upper case.")
    kind = models.CharField(max_length=10, choices=CouponKind.choices)
    value = models.DecimalField(
        max_digits=10, decimal_places=2, help_text="Percent (0 to 100) or an amount per service."
    )
    scope = models.CharField(max_length=10, choices=CouponScope.choices)
    valid_until = models.DateTimeField(null=True, blank=True)
    max_uses = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Orders, in all (an order whose invoice is cancelled gives its use back).",
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ("code",)
        constraints = [
            models.CheckConstraint(condition=models.Q(value__gte=0), name="coupon_not_negative"),
            models.CheckConstraint(
                condition=~models.Q(kind="percent") | models.Q(value__lte=100),
                name="coupon_percent_at_most_100",
            ),
        ]

    def __str__(self) -> str:
        return self.code

    def save(self, *args, **kwargs) -> None:
        self.code = self.code.strip().upper()
        super().save(*args, **kwargs)

    def discount(self, price: Decimal) -> Decimal:
        """The discount on one ``price``, never more than the price."""
        if self.kind == CouponKind.PERCENT:
            return min(price * self.value / Decimal(100), price)
        return min(self.value, price)


class Order(models.Model):
    """A checkout: its items, and the one invoice that pays for them."""

    customer = models.ForeignKey(
        "accounts.Customer", on_delete=models.PROTECT, related_name="orders"
    )
    checkout_token = models.UUIDField(
        unique=True, default=uuid.uuid4, help_text="The checkout form's: sent twice, one order."
    )
    invoice = models.OneToOneField(
        "billing.Invoice", on_delete=models.PROTECT, related_name="order"
    )
    coupon = models.ForeignKey(Coupon, on_delete=models.PROTECT, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return f"Order #{self.pk}"


class OrderItem(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="+")
    cycle = models.CharField(max_length=12, choices=BillingCycle.choices)
    quantity = models.PositiveSmallIntegerField(default=1)
    price = MoneyField()
    setup_fee = MoneyField(default=ZERO)

    def __str__(self) -> str:
        return f"{self.quantity} x {self.plan} ({self.get_cycle_display()})"
