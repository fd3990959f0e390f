"""Who may call an endpoint: customers (their own objects) and staff (their model permissions).

A customer endpoint lets in any user with a Customer; which objects they reach is decided by
the selector it reads through (another customer's object is a 404, never a 403). A staff
endpoint lets in active staff holding the Django model permission of its method — the staff
roles (``portal.accounts.roles``) are groups of such permissions, so *support*, holding only
``view_*``, reads services and changes nothing — and, while ``PORTAL_STAFF_REQUIRE_2FA`` is on,
only staff with an authenticator: checked on every call, not only when the token was made (a
customer's token outlives their promotion to staff, and an admin may reset their two-factor).
"""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Model
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from portal.accounts.selectors import staff_lacks_two_factor

NOT_STAFF = "This endpoint is for staff."
STAFF_WITHOUT_2FA = (
    "Staff need two-factor authentication to use the staff API: set up an authenticator app "
    "on your account first."
)

#: The permission each method needs on the endpoint's model (its ``staff_model``).
METHOD_ACTIONS = {
    "GET": "view",
    "HEAD": "view",
    "OPTIONS": "view",
    "POST": "add",
    "PUT": "change",
    "PATCH": "change",
    "DELETE": "delete",
}


class IsCustomer(BasePermission):
    """The user has a Customer: the API of the client area."""

    message = "This endpoint is for customers; this account has no customer record."

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        try:
            return user.customer is not None
        except ObjectDoesNotExist:
            return False


class IsStaffWithModelPermission(BasePermission):
    """Active staff holding ``<app>.<action>_<model>`` for the view's ``staff_model``.

    The action follows the method (``METHOD_ACTIONS``) unless the view sets ``staff_action``:
    a lifecycle action, a POST, sets ``staff_action = "change"`` (it changes a service; it adds
    nothing). A view without ``staff_model`` uses its queryset's model.
    """

    message = "Your staff role does not allow this."

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if not (user.is_active and user.is_staff):
            raise PermissionDenied(NOT_STAFF)
        if staff_lacks_two_factor(user):
            raise PermissionDenied(STAFF_WITHOUT_2FA, code="two_factor_required")
        return user.has_perm(required_permission(request, view))


def required_permission(request: Request, view: APIView) -> str:
    model: type[Model] = getattr(view, "staff_model", None) or view.get_queryset().model
    action = getattr(view, "staff_action", None) or METHOD_ACTIONS.get(request.method, "change")
    return f"{model._meta.app_label}.{action}_{model._meta.model_name}"
