from django.apps import AppConfig


class VpnPanelConfig(AppConfig):
    name = "vpnpanel"
    verbose_name = "VPN panel client"
