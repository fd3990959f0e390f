"""Django admin of provisioning; importing this package registers every model admin."""

from provisioning.admin import (  # noqa: F401
    finding_admin,
    log_admin,
    product_admin,
    server_admin,
    service_admin,
)
