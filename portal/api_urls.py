"""The REST API under /api/ (docs/api.md): version 1 of the endpoints, its OpenAPI 3 schema and
the Swagger UI that reads it.

Customer endpoints sit at /api/v1/<resource>/, each from its app's ``api.py``; staff endpoints
under /api/v1/staff/ (``portal.api_staff_urls``). Any other URL under /api/v1/ answers the
API's 404 error body.
"""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from portal.core.api.errors import UnknownEndpoint

v1 = [
    path("staff/", include("portal.api_staff_urls")),
    re_path(r"^.*$", UnknownEndpoint.as_view()),
]

urlpatterns = [
    path("v1/", include(v1)),
    path("schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api_schema"), name="api_docs"),
]
