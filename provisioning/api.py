"""The customer's services in the REST API (docs/api.md), under /api/v1/services/.

Each endpoint does what the client area does, through the same code: services read through
``customer_services`` (another customer's service is a 404), panel reads through
``client_area.panel_reads``, the live status through the coalesced cache of ``provisioning.live``,
the same rate limits under the same keys (a page and the API share one budget), and errors in the
client area's words for customers (the panel's own text is never shown to them).
"""

from __future__ import annotations

import django_filters
from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.core.api.permissions import IsCustomer
from portal.core.api.throttling import rate_limit
from portal.core.exceptions import DomainError
from portal.core.http import no_store
from provisioning.client_area import api as client_area_api
from provisioning.client_area import panel_reads
from provisioning.client_area import views as client_area_views
from provisioning.client_area.extensions import next_due_dates
from provisioning.client_area.messages import RATE_LIMITED, customer_message
from provisioning.client_area.presentation import status_label, traffic_years
from provisioning.exceptions import (
    ActionRefused,
    CredentialsWithheld,
    NotOnPanel,
    PanelReadFailed,
    ProvisioningError,
    ReadFailure,
)
from provisioning.live import connection_payload, service_connection_status
from provisioning.models import Service, ServiceStatus
from provisioning.selectors import customer_service, customer_services
from provisioning.usage_alerts import MAX_THRESHOLD_GB, usage_alert_set
from vpnpanel import Protocol

TAGS = ["services"]


class CustomerFacingError(DomainError):
    """A provisioning error in the customer's words (``client_area.messages``), same status."""

    def __init__(self, error: ProvisioningError) -> None:
        self.status_code = error.status_code
        self.code = error.code
        super().__init__(customer_message(error, place="request"))


class CustomerServiceApi(APIView):
    """Base of the endpoints about one of the customer's own services (``pk`` in the URL).

    Answers are never stored (they carry credentials, configs, links or live data).
    """

    permission_classes = [IsCustomer]

    def service(self) -> Service:
        service = customer_service(user=self.request.user, service_id=self.kwargs["pk"])
        if service is None:
            raise Http404
        return service

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, ProvisioningError) and not isinstance(exc, ActionRefused):
            exc = CustomerFacingError(exc)
        return super().handle_exception(exc)

    def finalize_response(self, request: Request, response: Response, *args, **kwargs):
        return no_store(super().finalize_response(request, response, *args, **kwargs))


def _own_page_limit(request: Request, pk: int, *, endpoint: str, limit: int, window: int) -> None:
    """The client area JSON endpoints' limit: per user and service, counted before the lookup."""
    rate_limit(f"{endpoint}:{request.user.pk}:{pk}", limit, window, message=RATE_LIMITED)


class ServiceFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ServiceStatus.choices)

    class Meta:
        model = Service
        fields = ["status"]


class PlanOutput(serializers.Serializer):
    product_id = serializers.IntegerField(source="product.pk")
    name = serializers.CharField(source="product.name")
    download_mbps = serializers.IntegerField(
        source="product.typed_settings.download_mbps", help_text="0 is unlimited."
    )
    upload_mbps = serializers.IntegerField(
        source="product.typed_settings.upload_mbps", help_text="0 is unlimited."
    )
    metered = serializers.BooleanField(
        source="product.typed_settings.metered", help_text="Its traffic is counted."
    )


class ServiceOutput(serializers.Serializer):
    """A service as My services shows it; ``next_due`` when billing renews it."""

    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=ServiceStatus.choices)
    status_label = serializers.SerializerMethodField()
    setting_up = serializers.BooleanField(source="is_setting_up")
    plan = PlanOutput(source="*")
    created_at = serializers.DateTimeField()
    next_due = serializers.SerializerMethodField()
    usage_alert_gb = serializers.SerializerMethodField()

    def get_status_label(self, service: Service) -> str:
        return status_label(service.status)

    @extend_schema_field(serializers.DateField(allow_null=True))
    def get_next_due(self, service: Service) -> str | None:
        due = self.context.get("next_due")
        if due is None:
            due = next_due_dates([service.pk])
        day = due.get(service.pk)
        return day.isoformat() if day else None

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_usage_alert_gb(self, service: Service) -> int | None:
        alert = getattr(service, "usage_alert", None)
        return alert.threshold_gb if alert else None


@extend_schema(tags=TAGS, summary="Your services")
class ServiceListApi(ListAPIView):
    permission_classes = [IsCustomer]
    serializer_class = ServiceOutput
    filterset_class = ServiceFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema, made without a user
            return Service.objects.none()
        services = customer_services(user=self.request.user).select_related("usage_alert")
        return services.order_by("-created_at", "-id")

    def get_serializer(self, *args, **kwargs) -> serializers.BaseSerializer:
        serializer = super().get_serializer(*args, **kwargs)
        if kwargs.get("many"):  # one query for the page's due dates, not one per service
            serializer.context["next_due"] = next_due_dates([s.pk for s in args[0]])
        return serializer

    def finalize_response(self, request: Request, response: Response, *args, **kwargs):
        return no_store(super().finalize_response(request, response, *args, **kwargs))


class ServiceDetailApi(CustomerServiceApi):
    @extend_schema(tags=TAGS, summary="One of your services", responses=ServiceOutput)
    def get(self, request: Request, pk: int) -> Response:
        return Response(ServiceOutput(self.service()).data)


class ConfigOutput(serializers.Serializer):
    protocol = serializers.ChoiceField(choices=[p.value for p in panel_reads.PROTOCOL_FILES])
    label = serializers.CharField()
    filename = serializers.CharField()
    config = serializers.CharField(help_text="The config file's text.")


class VpnClientOutput(serializers.Serializer):
    """The VPN account on the panel, with the configs of every protocol its network offers."""

    class ClientOutput(serializers.Serializer):
        name = serializers.CharField()
        username = serializers.CharField()
        password = serializers.CharField()
        network = serializers.CharField(source="network_name")
        ipv4 = serializers.CharField()
        ipv6 = serializers.CharField()
        enabled = serializers.BooleanField(source="is_enabled")
        download_mbps = serializers.IntegerField(source="b_download", help_text="0 is unlimited.")
        upload_mbps = serializers.IntegerField(source="b_upload", help_text="0 is unlimited.")

    class ConfigBlockOutput(serializers.Serializer):
        protocol = serializers.CharField()
        label = serializers.CharField()
        filename = serializers.CharField()
        config = serializers.CharField(source="text", allow_blank=True)
        error = serializers.CharField(
            allow_null=True, help_text="Why the config could not be read (then config is empty)."
        )

    client = ClientOutput()
    configs = ConfigBlockOutput(many=True)
    configs_error = serializers.CharField(allow_null=True)


class ServiceVpnClientApi(CustomerServiceApi):
    @extend_schema(
        tags=TAGS,
        summary="The service's VPN account and configs",
        description="What the service page shows: the account (with its password) and each "
        "protocol's config. 409 while the service is not set up, suspended or terminated.",
        responses=VpnClientOutput,
    )
    def get(self, request: Request, pk: int) -> Response:
        service = self.service()
        _config_limit(request)
        _require_credentials(service)
        page = panel_reads.service_page_data(service)
        if page.client is None:
            raise page.client_error or PanelReadFailed(ReadFailure.PANEL_ERROR)
        return Response(
            VpnClientOutput(
                {
                    "client": page.client,
                    "configs": [_config_block(block) for block in page.configs],
                    "configs_error": _words(page.configs_error),
                }
            ).data
        )


def _config_limit(request: Request) -> None:
    """The config downloads' limit per user (the client area's, counted together): the VPN
    client's answer holds every protocol's config, read from the panel, so it counts as one."""
    limit, window = client_area_views.CONFIG_RATE_LIMIT, client_area_views.CONFIG_RATE_WINDOW
    rate_limit(f"client_config:{request.user.pk}", limit, window, message=RATE_LIMITED)


def _require_credentials(service: Service) -> None:
    if not service.is_on_panel:
        raise NotOnPanel(status=service.status)
    if service.credentials_withheld:
        raise CredentialsWithheld()


def _words(error: PanelReadFailed | None) -> str | None:
    return customer_message(error, place="request") if error else None


def _config_block(block: panel_reads.ConfigBlock) -> dict[str, str | None]:
    return {
        "protocol": block.protocol,
        "label": block.label,
        "filename": block.filename,
        "text": block.text,
        "error": _words(block.error),
    }


class ServiceConfigApi(CustomerServiceApi):
    @extend_schema(
        tags=TAGS,
        summary="One protocol's config",
        description="404 when the protocol is not enabled on the service's network.",
        parameters=[
            OpenApiParameter(
                "protocol", str, OpenApiParameter.PATH, enum=[p.value for p in Protocol]
            )
        ],
        responses=ConfigOutput,
    )
    def get(self, request: Request, pk: int, protocol: str) -> Response:
        service = self.service()
        _config_limit(request)
        try:
            spec = panel_reads.PROTOCOL_FILES[Protocol(protocol)]
        except ValueError:
            raise Http404 from None
        text = panel_reads.config_download(service, spec)
        filename = panel_reads.config_filename(service, spec)
        return Response(
            ConfigOutput(
                {"protocol": protocol, "label": spec.label, "filename": filename, "config": text}
            ).data
        )


class OneTimeLinkOutput(serializers.Serializer):
    link = serializers.URLField(help_text="Single use: it works once, for whoever opens it.")


class ServiceOneTimeLinkApi(CustomerServiceApi):
    @extend_schema(
        tags=TAGS,
        summary="Make a one-time link",
        description="A new single-use link to the service's configs (each spends one on the "
        "panel). Limited per service, as on the service page.",
        request=None,
        responses={201: OneTimeLinkOutput},
    )
    def post(self, request: Request, pk: int) -> Response:
        service = self.service()
        rate_limit(
            f"client_otl:{service.pk}",
            client_area_views.OTL_RATE_LIMIT,
            client_area_views.OTL_RATE_WINDOW,
            message=client_area_views.OTL_RATE_LIMITED_MESSAGE,
        )
        link = panel_reads.create_one_time_link(service)
        return Response(OneTimeLinkOutput({"link": link}).data, status=status.HTTP_201_CREATED)


class LiveStatusOutput(serializers.Serializer):
    online = serializers.BooleanField()
    checked_at = serializers.DateTimeField()
    poll_seconds = serializers.IntegerField(help_text="How often the panel is asked, at most.")
    sessions = serializers.ListField(child=serializers.DictField())


class ServiceLiveStatusApi(CustomerServiceApi):
    @extend_schema(
        tags=TAGS,
        summary="Connection status",
        description="Online or offline and the live sessions, as the service page shows them "
        "(the panel is asked at most once per poll interval, however many ask).",
        responses=LiveStatusOutput,
    )
    def get(self, request: Request, pk: int) -> Response:
        _own_page_limit(
            request,
            pk,
            endpoint="connection_status",
            limit=client_area_api.STATUS_RATE_LIMIT,
            window=client_area_api.STATUS_RATE_WINDOW,
        )
        service = self.service()
        return Response(connection_payload(service_connection_status(service)))


class TrafficInput(serializers.Serializer):
    year = serializers.IntegerField(min_value=1970, max_value=9999)
    month = serializers.IntegerField(min_value=1, max_value=12)


class TrafficOutput(serializers.Serializer):
    class DayOutput(serializers.Serializer):
        date = serializers.DateField()
        download = serializers.IntegerField(help_text="Bytes.")
        upload = serializers.IntegerField(help_text="Bytes.")

    year = serializers.IntegerField()
    month = serializers.IntegerField()
    days = DayOutput(many=True)
    total_download = serializers.IntegerField()
    total_upload = serializers.IntegerField()


class ServiceTrafficApi(CustomerServiceApi):
    @extend_schema(
        tags=TAGS,
        summary="Traffic per day in one month",
        description="The traffic page's figures (UTC months, as the panel and usage billing "
        "count them), for one of the years that page offers.",
        parameters=[TrafficInput],
        responses=TrafficOutput,
    )
    def get(self, request: Request, pk: int) -> Response:
        _own_page_limit(
            request,
            pk,
            endpoint="traffic",
            limit=client_area_api.TRAFFIC_RATE_LIMIT,
            window=client_area_api.TRAFFIC_RATE_WINDOW,
        )
        service = self.service()
        asked = TrafficInput(data=request.query_params)
        asked.is_valid(raise_exception=True)
        year, month = asked.validated_data["year"], asked.validated_data["month"]
        today = timezone.now().date()
        if year not in traffic_years(service, today):
            raise serializers.ValidationError({"year": ["No traffic is kept for this year."]})
        days = client_area_api.month_traffic(service, year, month, today=today)
        return Response(
            TrafficOutput(
                {
                    "year": year,
                    "month": month,
                    "days": [
                        {"date": d.day, "download": d.download, "upload": d.upload} for d in days
                    ],
                    "total_download": sum(d.download for d in days),
                    "total_upload": sum(d.upload for d in days),
                }
            ).data
        )


class UsageAlertInput(serializers.Serializer):
    threshold_gb = serializers.IntegerField(
        min_value=1,
        max_value=MAX_THRESHOLD_GB,
        allow_null=True,
        help_text="Download and upload together, in GB; null turns the alert off.",
    )


class ServiceUsageAlertApi(CustomerServiceApi):
    @extend_schema(
        tags=TAGS,
        summary="Set or remove the monthly traffic alert",
        description="An email once a month when the service's traffic passes the threshold. "
        "Only for plans whose traffic is counted (409 otherwise).",
        request=UsageAlertInput,
        responses=UsageAlertInput,
    )
    def put(self, request: Request, pk: int) -> Response:
        service = self.service()
        given = UsageAlertInput(data=request.data)
        given.is_valid(raise_exception=True)
        if not service.product.typed_settings.metered:
            raise DomainError("This plan's traffic is not counted, so it cannot alert you.")
        threshold = given.validated_data["threshold_gb"]
        usage_alert_set(service=service, threshold_gb=threshold)
        return Response({"threshold_gb": threshold})
