"""The staff endpoints of the REST API, under /api/v1/staff/ (docs/api.md, "Staff endpoints").

Each answers staff whose role holds the model permission of its method (reads: view; a create:
add; a change or an action: change; a delete: delete); anyone else gets a 403.
"""

from django.urls import path

from portal.billing import staff_api as billing
from portal.store import staff_api as store
from provisioning.staff_api import servers, services

urlpatterns = [
    path("plans/", store.StaffPlansApi.as_view(), name="staff_plans"),
    path("plans/<int:pk>/", store.StaffPlanApi.as_view(), name="staff_plan"),
    path("servers/", servers.StaffServersApi.as_view(), name="staff_servers"),
    path("servers/<int:pk>/", servers.StaffServerApi.as_view(), name="staff_server"),
    path("services/", services.StaffServicesApi.as_view(), name="staff_services"),
    path("services/<int:pk>/", services.StaffServiceApi.as_view(), name="staff_service"),
    path(
        "services/<int:pk>/suspend/",
        services.StaffServiceSuspendApi.as_view(),
        name="staff_service_suspend",
    ),
    path(
        "services/<int:pk>/unsuspend/",
        services.StaffServiceUnsuspendApi.as_view(),
        name="staff_service_unsuspend",
    ),
    path(
        "services/<int:pk>/terminate/",
        services.StaffServiceTerminateApi.as_view(),
        name="staff_service_terminate",
    ),
    path(
        "services/<int:pk>/change-package/",
        services.StaffServiceChangePackageApi.as_view(),
        name="staff_service_change_package",
    ),
    path(
        "services/<int:pk>/retry/",
        services.StaffServiceRetryApi.as_view(),
        name="staff_service_retry",
    ),
    path("invoices/", billing.StaffInvoicesApi.as_view(), name="staff_invoices"),
    path("invoices/<int:pk>/", billing.StaffInvoiceApi.as_view(), name="staff_invoice"),
    path(
        "invoices/<int:pk>/cancel/",
        billing.StaffInvoiceCancelApi.as_view(),
        name="staff_invoice_cancel",
    ),
    path("payments/", billing.StaffPaymentsApi.as_view(), name="staff_payments"),
    path("payments/<int:pk>/", billing.StaffPaymentApi.as_view(), name="staff_payment"),
]
