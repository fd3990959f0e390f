"""Customer sign-in, sign-up, email verification, password reset and change, two-factor
authentication: django-allauth's views in the portal's look, under /accounts/.

Sign-in is allauth's view with the throttled form (``portal.accounts.throttle``) at the old
name ``login``; sign-out stays Django's POST-only view (GET is 405, so a link or an image cannot
sign anyone out) and password change Django's view: both are matched before allauth's own
routes at the same paths. The password-change templates have names of their own so that the
admin keeps its own pages.
"""

from django.contrib.auth import views as auth_views
from django.urls import include, path

from portal.accounts.views import LoginView

urlpatterns = [
    path("login/", LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(next_page="login"), name="logout"),
    path(
        "password/change/",
        auth_views.PasswordChangeView.as_view(
            template_name="registration/customer_password_change_form.html"
        ),
        name="password_change",
    ),
    path(
        "password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(
            template_name="registration/customer_password_change_done.html"
        ),
        name="password_change_done",
    ),
    path("", include("allauth.urls")),
]
