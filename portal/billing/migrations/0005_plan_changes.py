import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

import portal.billing.money


def money(help_text: str = "") -> portal.billing.money.MoneyField:
    return portal.billing.money.MoneyField(decimal_places=3, max_digits=14, help_text=help_text)


def product_fk() -> models.ForeignKey:
    return models.ForeignKey(
        on_delete=django.db.models.deletion.PROTECT, related_name="+", to="provisioning.product"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0004_cancellations"),
        ("provisioning", "0002_service_request_key_server_host_check"),
    ]

    operations = [
        migrations.AddField(
            model_name="subscription",
            name="description",
            field=models.CharField(
                blank=True,
                help_text="What renewal invoices call it (set by a change of plan); empty: the "
                "name it was ordered under.",
                max_length=255,
            ),
        ),
        migrations.CreateModel(
            name="PlanChange",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("from_price", money("The recurring price before the change.")),
                ("to_price", money("The recurring price from the change on.")),
                (
                    "description",
                    models.CharField(help_text="What renewals call the new plan.", max_length=255),
                ),
                (
                    "period_start",
                    models.DateField(help_text="The start of the paid period the change is in."),
                ),
                (
                    "period_end",
                    models.DateField(help_text="The next due date: the end of the paid time."),
                ),
                (
                    "days_left",
                    models.PositiveIntegerField(
                        help_text="Days from the change to the period's end."
                    ),
                ),
                ("days_in_period", models.PositiveIntegerField()),
                ("credit", money("For the unused days of the old plan.")),
                ("charge", money("For the same days of the new plan.")),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "Waiting for payment"),
                            ("applied", "Applied"),
                            ("cancelled", "Cancelled"),
                        ],
                        default="pending",
                        max_length=10,
                    ),
                ),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("applied_at", models.DateTimeField(blank=True, null=True)),
                ("from_product", product_fk()),
                (
                    "invoice",
                    models.OneToOneField(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="plan_change",
                        to="billing.invoice",
                    ),
                ),
                (
                    "subscription",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="plan_changes",
                        to="billing.subscription",
                    ),
                ),
                ("to_product", product_fk()),
            ],
            options={
                "ordering": ("-created_at", "-id"),
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("status", "pending")),
                        fields=("subscription",),
                        name="one_pending_plan_change_per_subscription",
                    )
                ],
            },
        ),
    ]
