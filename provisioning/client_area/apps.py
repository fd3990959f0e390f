from django.apps import AppConfig


class ClientAreaConfig(AppConfig):
    """The customer's service pages under /services/ (no models of its own)."""

    name = "provisioning.client_area"
    label = "client_area"
    verbose_name = "Client area"
