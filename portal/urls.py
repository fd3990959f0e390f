from django.conf import settings
from django.conf.urls.static import static as media_urls
from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.utils.functional import lazy
from django.views.generic import RedirectView

from licensing import views as licensing_views
from portal.core import views as core_views
from portal.metrics import views as metrics_views
from portal.store import views as store_views

admin.site.site_header = "VPN Portal administration"
admin.site.site_title = "VPN Portal admin"
admin.site.index_title = "Operations"

urlpatterns = [
    path("", store_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("metrics", metrics_views.metrics, name="metrics"),
    path("branding.css", core_views.branding_css, name="branding_css"),
    # Browsers ask for /favicon.ico on pages that name no icon (the admin's among them). Resolved
    # per request: in production the hashed name exists only once collectstatic has run.
    path(
        "favicon.ico",
        RedirectView.as_view(url=lazy(static, str)("portal/favicon.svg"), permanent=True),
    ),
    path("admin/", admin.site.urls),
    path("accounts/", include("portal.accounts.urls")),
    path("account/", include("portal.accounts.client_urls")),
    path("services/", include("provisioning.client_area.urls")),
    path("billing/", include("portal.billing.urls")),
    path("licensing/verify/", licensing_views.verify, name="licence_verify"),
    path("api/", include("portal.api_urls")),
    path("", include("portal.store.urls")),
]
if settings.DEBUG:
    urlpatterns += media_urls(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
