"""Customer sign-in, sign-out and password change: Django's auth views in the portal's look.

Sign-in is throttled against password guessing (``portal.accounts.throttle``).

The password-change templates have names of their own so that the admin keeps its own pages.
"""

from django.contrib.auth import views as auth_views
from django.urls import path

from portal.accounts.views import LoginView

urlpatterns = [
    path("login/", LoginView.as_view(), name="login"),
    # LogoutView answers POST only (GET is 405), so a link or an image cannot sign anyone out.
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
]
