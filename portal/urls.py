from django.contrib import admin
from django.urls import include, path

from portal.accounts.forms import ThrottledAdminAuthenticationForm
from portal.core import views as core_views

admin.site.site_header = "VPN Portal administration"
admin.site.site_title = "VPN Portal admin"
admin.site.index_title = "Operations"
admin.site.login_form = ThrottledAdminAuthenticationForm

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("portal.accounts.urls")),
    path("", include("provisioning.urls")),
]
