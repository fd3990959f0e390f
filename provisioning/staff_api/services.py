"""Staff's services in the REST API, under /api/v1/staff/services/: the list with the admin's
filters, one service, and the lifecycle actions of its page.

An action calls provisioning's lifecycle API, as the admin's buttons do, and answers 202 with
the service's state: the panel work happens later, in the worker. The lifecycle verbs are
idempotent, so asking again while the action is pending, or once it is done, answers 202 again
and queues nothing; an action the service's state does not allow is a 409 (``ActionRefused``,
``ActionInProgress`` while another is in flight).
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db import transaction
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.core.api.permissions import IsStaffWithModelPermission
from portal.core.audit import CHANGE, admin_log
from provisioning import services
from provisioning.admin.service_actions import NOTHING_TO_RETRY
from provisioning.exceptions import ActionRefused
from provisioning.models import Product, Service, ServiceAction, ServiceStatus
from provisioning.selectors import staff_services

TAGS = ["staff: services"]
A = ServiceAction
API_REASON = "requested through the staff API"


class StaffServiceOutput(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=ServiceStatus.choices)
    customer_id = serializers.IntegerField()
    customer_email = serializers.EmailField(source="customer.user.email")
    product_id = serializers.IntegerField()
    product_name = serializers.CharField(source="product.name")
    server_id = serializers.IntegerField(allow_null=True)
    server_name = serializers.CharField(source="server.name", allow_null=True, default=None)
    network = serializers.CharField()
    remote_name = serializers.CharField(help_text="The client's name on the panel.")
    pending_action = serializers.ChoiceField(
        choices=[("", "None"), *ServiceAction.choices],
        help_text="Work queued for the worker, or parked after it gave up (action_parked).",
    )
    pending_product_id = serializers.IntegerField(allow_null=True)
    action_parked = serializers.BooleanField()
    action_attempts = serializers.IntegerField()
    action_requested_at = serializers.DateTimeField(allow_null=True)
    action_failed_at = serializers.DateTimeField(allow_null=True)
    last_error = serializers.CharField()
    needs_attention = serializers.BooleanField()
    attention_reason = serializers.CharField()
    allowed_actions = serializers.ListField(
        child=serializers.ChoiceField(choices=ServiceAction.choices),
        help_text="The actions the service's state allows now.",
    )
    can_retry = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    activated_at = serializers.DateTimeField(allow_null=True)
    suspended_at = serializers.DateTimeField(allow_null=True)
    terminated_at = serializers.DateTimeField(allow_null=True)


class StaffServiceFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ServiceStatus.choices)
    pending_action = django_filters.ChoiceFilter(choices=ServiceAction.choices)

    class Meta:
        model = Service
        fields = ["status", "customer", "product", "server", "needs_attention", "pending_action"]


class StaffActionInput(serializers.Serializer):
    reason = serializers.CharField(
        max_length=200, required=False, help_text="Kept in the service's audit trail."
    )


class StaffChangePackageInput(StaffActionInput):
    product_id = serializers.PrimaryKeyRelatedField(
        queryset=Product.objects.all(), source="product", help_text="The product to move to."
    )


def _service(pk: int) -> Service:
    return get_object_or_404(staff_services(), pk=pk)


class StaffServicesApi(ListAPIView):
    """GET: the services (view permission of services), filtered as the admin's list is."""

    permission_classes = [IsStaffWithModelPermission]
    serializer_class = StaffServiceOutput
    filterset_class = StaffServiceFilter

    def get_queryset(self):
        return staff_services()

    @extend_schema(tags=TAGS, summary="Services")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class StaffServiceApi(APIView):
    permission_classes = [IsStaffWithModelPermission]
    staff_model = Service

    @extend_schema(tags=TAGS, summary="One service", responses=StaffServiceOutput)
    def get(self, request: Request, pk: int) -> Response:
        return Response(StaffServiceOutput(_service(pk)).data)


class StaffServiceActionApi(APIView):
    """A lifecycle action (POST; change permission of services): 202 and the service."""

    permission_classes = [IsStaffWithModelPermission]
    staff_model = Service
    staff_action = "change"
    action: str = ""
    input_serializer: type[serializers.Serializer] = StaffActionInput

    def post(self, request: Request, pk: int) -> Response:
        service = _service(pk)
        given = self.input_serializer(data=request.data)
        given.is_valid(raise_exception=True)
        with transaction.atomic():
            before = _outbox_state(Service.objects.select_for_update().get(pk=service.pk))
            done = self.act(service, request.user, **given.validated_data)
            if _outbox_state(done) != before:
                admin_log(actor=request.user, obj=done, flag=CHANGE, message=self.audit_message())
        return Response(StaffServiceOutput(_service(pk)).data, status=status.HTTP_202_ACCEPTED)

    def act(self, service: Service, actor: Any, *, reason: str = API_REASON, **kwargs) -> Service:
        return services.service_request_action(
            service=service, action=self.action, actor=actor, reason=reason, **kwargs
        )

    def audit_message(self) -> str:
        return f"Requested: {A(self.action).label}."


def _outbox_state(service: Service) -> tuple:
    """What a request changes when it queues something (so a repeat is not audited twice)."""
    return (
        service.pending_action,
        service.pending_product_id,
        service.action_requested_at,
        service.action_failed_at,
    )


class StaffServiceSuspendApi(StaffServiceActionApi):
    action = A.SUSPEND

    @extend_schema(
        tags=TAGS,
        summary="Suspend",
        description="Disable the service's client on its panel (it disconnects).",
        request=StaffActionInput,
        responses={202: StaffServiceOutput},
    )
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)


class StaffServiceUnsuspendApi(StaffServiceActionApi):
    action = A.UNSUSPEND

    @extend_schema(
        tags=TAGS,
        summary="Unsuspend",
        description="Enable a suspended service's client again.",
        request=StaffActionInput,
        responses={202: StaffServiceOutput},
    )
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)


class StaffServiceTerminateApi(StaffServiceActionApi):
    action = A.TERMINATE

    @extend_schema(
        tags=TAGS,
        summary="Terminate",
        description="Delete the service's client on its panel. Final.",
        request=StaffActionInput,
        responses={202: StaffServiceOutput},
    )
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)


class StaffServiceChangePackageApi(StaffServiceActionApi):
    action = A.CHANGE_PACKAGE
    input_serializer = StaffChangePackageInput

    @extend_schema(
        tags=TAGS,
        summary="Change package",
        description="Move the service to another product: its bandwidth goes to the panel, "
        "then the product changes.",
        request=StaffChangePackageInput,
        responses={202: StaffServiceOutput},
    )
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)


class StaffServiceRetryApi(StaffServiceActionApi):
    @extend_schema(
        tags=TAGS,
        summary="Retry",
        description="Queue a parked action (or the create of a failed service) again; 409 when "
        "nothing failed.",
        request=StaffActionInput,
        responses={202: StaffServiceOutput},
    )
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def act(self, service: Service, actor: Any, *, reason: str = API_REASON, **kwargs) -> Service:
        if not (service.can_retry or service.action_in_flight):
            raise ActionRefused(NOTHING_TO_RETRY)
        return services.service_retry(service=service, actor=actor, reason=reason)

    def audit_message(self) -> str:
        return "Retried the failed action."
