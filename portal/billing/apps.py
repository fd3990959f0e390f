from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "portal.billing"
    label = "billing"
    verbose_name = "Billing"

    def ready(self) -> None:
        from portal.billing.selectors import next_due_dates
        from provisioning.client_area.extensions import register_next_due

        register_next_due(next_due_dates)
