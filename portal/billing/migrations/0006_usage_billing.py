from decimal import Decimal

import django.core.validators
import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

import portal.billing.models
import portal.billing.money


def not_negative():
    return [django.core.validators.MinValueValidator(Decimal("0"))]


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0005_plan_changes"),
        ("provisioning", "0002_service_request_key_server_host_check"),
    ]

    operations = [
        migrations.CreateModel(
            name="UsagePricing",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "price_per_gb_download",
                    portal.billing.money.MoneyField(
                        decimal_places=3,
                        default=Decimal("0"),
                        max_digits=14,
                        validators=not_negative(),
                        verbose_name="price per GB downloaded",
                    ),
                ),
                (
                    "price_per_gb_upload",
                    portal.billing.money.MoneyField(
                        decimal_places=3,
                        default=Decimal("0"),
                        max_digits=14,
                        validators=not_negative(),
                        verbose_name="price per GB uploaded",
                    ),
                ),
                (
                    "included_gb_download",
                    models.DecimalField(
                        decimal_places=3,
                        default=Decimal("0"),
                        max_digits=12,
                        validators=not_negative(),
                        verbose_name="GB downloaded included a month",
                    ),
                ),
                (
                    "included_gb_upload",
                    models.DecimalField(
                        decimal_places=3,
                        default=Decimal("0"),
                        max_digits=12,
                        validators=not_negative(),
                        verbose_name="GB uploaded included a month",
                    ),
                ),
                (
                    "starts_on",
                    models.DateField(
                        default=portal.billing.models._first_of_this_month,
                        help_text=(
                            "Traffic is billed from this date's calendar month on; earlier "
                            "months never."
                        ),
                    ),
                ),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "product",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="usage_pricing",
                        to="provisioning.product",
                    ),
                ),
            ],
            options={
                "verbose_name": "usage pricing",
                "verbose_name_plural": "usage pricing",
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            ("price_per_gb_download__gte", 0),
                            ("price_per_gb_upload__gte", 0),
                            ("included_gb_download__gte", 0),
                            ("included_gb_upload__gte", 0),
                        ),
                        name="usage_pricing_not_negative",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="UsageCharge",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("year", models.PositiveSmallIntegerField()),
                ("month", models.PositiveSmallIntegerField()),
                ("download_bytes", models.BigIntegerField()),
                ("upload_bytes", models.BigIntegerField()),
                (
                    "read_at",
                    models.DateTimeField(
                        help_text="When the figures billed were read from the panel."
                    ),
                ),
                (
                    "from_snapshot",
                    models.BooleanField(
                        default=False,
                        help_text="The panel could not be reached: the last reading was billed.",
                    ),
                ),
                (
                    "amount",
                    portal.billing.money.MoneyField(
                        decimal_places=3, help_text="Before tax.", max_digits=14
                    ),
                ),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "invoice",
                    models.OneToOneField(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="usage_charge",
                        to="billing.invoice",
                    ),
                ),
                (
                    "subscription",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="usage_charges",
                        to="billing.subscription",
                    ),
                ),
            ],
            options={
                "ordering": ("-year", "-month", "-id"),
                "constraints": [
                    models.UniqueConstraint(
                        fields=("subscription", "year", "month"),
                        name="one_usage_charge_per_month",
                    )
                ],
            },
        ),
    ]
