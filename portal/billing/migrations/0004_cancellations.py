import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0003_renewals_and_dunning"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="CancellationRequest",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "when",
                    models.CharField(
                        choices=[
                            ("end_of_period", "At the end of the paid period"),
                            ("immediately", "Immediately"),
                        ],
                        max_length=16,
                    ),
                ),
                (
                    "reason",
                    models.CharField(blank=True, help_text="The customer's words.", max_length=500),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("requested", "Waiting for approval"),
                            ("approved", "Approved"),
                            ("rejected", "Rejected"),
                            ("withdrawn", "Withdrawn"),
                            ("done", "Done"),
                        ],
                        default="requested",
                        max_length=12,
                    ),
                ),
                (
                    "terminate_on",
                    models.DateField(help_text="The day the service is terminated."),
                ),
                ("requested_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("decided_at", models.DateTimeField(blank=True, null=True)),
                (
                    "admin_note",
                    models.CharField(
                        blank=True,
                        help_text="Shown to the customer when a request is rejected.",
                        max_length=500,
                    ),
                ),
                ("done_at", models.DateTimeField(blank=True, null=True)),
                (
                    "decided_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "subscription",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="cancellations",
                        to="billing.subscription",
                    ),
                ),
            ],
            options={
                "ordering": ("-requested_at", "-id"),
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("status__in", ["requested", "approved"])),
                        fields=("subscription",),
                        name="one_open_cancellation_per_subscription",
                    )
                ],
            },
        ),
    ]
