"""What provisioning announces, for whoever listens (the welcome email); it knows no listener.

Each signal is sent after the commit of the change it announces, with the service's id only.
"""

from django.dispatch import Signal

# A service's client was created on its panel and the service is active for the first time.
service_activated = Signal()
