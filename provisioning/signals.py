"""What provisioning announces, for whoever listens (the welcome email, usage alerts); it knows
no listener.

Each signal is sent after the commit of the change it announces, with ids and plain values only.
"""

from django.dispatch import Signal

# A service's client was created on its panel and the service is active for the first time.
service_activated = Signal()

# This month's traffic of a service passed the threshold its customer set (once per threshold
# and month), with service_id, year, month and threshold_gb.
usage_threshold_crossed = Signal()
