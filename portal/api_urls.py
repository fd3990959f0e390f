"""The REST API under /api/ (docs/api.md): version 1 of the endpoints, its OpenAPI 3 schema and
the Swagger UI that reads it.

Customer endpoints sit at /api/v1/<resource>/, each from its app's ``api.py``; staff endpoints
under /api/v1/staff/ (``portal.api_staff_urls``). Any other URL under /api/v1/ answers the
API's 404 error body.
"""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from portal.billing import api as billing_api
from portal.core.api.errors import UnknownEndpoint
from portal.store import api as store_api
from provisioning import api as provisioning_api

service = "services/<int:pk>/"
v1 = [
    path("services/", provisioning_api.ServiceListApi.as_view()),
    path(service, provisioning_api.ServiceDetailApi.as_view()),
    path(f"{service}vpn-client/", provisioning_api.ServiceVpnClientApi.as_view()),
    path(f"{service}configs/<str:protocol>/", provisioning_api.ServiceConfigApi.as_view()),
    path(f"{service}one-time-link/", provisioning_api.ServiceOneTimeLinkApi.as_view()),
    path(f"{service}live-status/", provisioning_api.ServiceLiveStatusApi.as_view()),
    path(f"{service}traffic/", provisioning_api.ServiceTrafficApi.as_view()),
    path(f"{service}usage-alert/", provisioning_api.ServiceUsageAlertApi.as_view()),
    path("invoices/", billing_api.InvoiceListApi.as_view()),
    path("invoices/<int:pk>/", billing_api.InvoiceDetailApi.as_view()),
    path("invoices/<int:pk>/pdf/", billing_api.InvoicePdfApi.as_view()),
    path("orders/", store_api.OrderListApi.as_view()),
    path("orders/<int:pk>/", store_api.OrderDetailApi.as_view()),
    path("credit/", billing_api.CreditApi.as_view()),
    path("staff/", include("portal.api_staff_urls")),
    re_path(r"^.*$", UnknownEndpoint.as_view()),
]

urlpatterns = [
    path("v1/", include(v1)),
    path("schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api_schema"), name="api_docs"),
]
