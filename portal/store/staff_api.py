"""Staff's plans in the REST API (docs/api.md), under /api/v1/staff/plans/: what the admin's
Store → Plans does — a product on sale under a slug, with a price per billing cycle."""

from __future__ import annotations

from typing import Any

import django_filters
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.validators import UniqueValidator
from rest_framework.views import APIView

from portal.billing.api_fields import MoneyField
from portal.billing.cycles import BillingCycle
from portal.core.api.permissions import IsStaffWithModelPermission
from portal.store.catalogue_edit import PriceSpec, plan_create, plan_delete, plan_update
from portal.store.models import Plan
from portal.store.selectors import staff_plans
from provisioning.models import Product

TAGS = ["staff: plans"]


class StaffPlanPrice(serializers.Serializer):
    cycle = serializers.ChoiceField(choices=BillingCycle.choices)
    price = MoneyField(help_text="Per cycle.")
    setup_fee = MoneyField(default="0", help_text="Once, with the first invoice.")


class StaffPlanOutput(serializers.Serializer):
    id = serializers.IntegerField()
    product_id = serializers.IntegerField()
    name = serializers.CharField(help_text="The product's name.")
    slug = serializers.SlugField()
    description = serializers.CharField()
    on_sale = serializers.BooleanField()
    position = serializers.IntegerField()
    prices = StaffPlanPrice(many=True, source="prices.all")


class StaffPlanInput(serializers.Serializer):
    """A plan as created; on update (PATCH) every field is optional, and ``prices``, when
    sent, replace the plan's prices (a cycle left out is no longer sold)."""

    product_id = serializers.PrimaryKeyRelatedField(
        queryset=Product.objects.all(),
        source="product",
        validators=[UniqueValidator(Plan.objects.all(), "This product is on sale already.")],
    )
    slug = serializers.SlugField(
        max_length=50, validators=[UniqueValidator(Plan.objects.all(), "This slug is taken.")]
    )
    description = serializers.CharField(allow_blank=True, default="")
    on_sale = serializers.BooleanField(default=True)
    position = serializers.IntegerField(min_value=0, max_value=32767, default=0)
    prices = StaffPlanPrice(many=True)

    def validate_prices(self, prices: list[dict[str, Any]]) -> list[PriceSpec]:
        if self.partial:
            prices = self._whole_prices()
        cycles = [price["cycle"] for price in prices]
        if len(set(cycles)) != len(cycles):
            raise serializers.ValidationError("Give each billing cycle one price.")
        return [PriceSpec(**price) for price in prices]

    def _whole_prices(self) -> list[dict[str, Any]]:
        """The sent prices validated as whole prices: a PATCH is partial, and DRF's partial mode
        reaches into nested fields (a price without its cycle or amount would pass, and the
        setup fee's default would not apply), yet each price sent replaces one in full."""
        whole = StaffPlanPrice(data=self.initial_data["prices"], many=True)
        if not whole.is_valid():
            raise serializers.ValidationError(whole.errors)
        return whole.validated_data


class StaffPlanFilter(django_filters.FilterSet):
    class Meta:
        model = Plan
        fields = ["on_sale", "product"]


def _shown(pk: int, status_code: int = status.HTTP_200_OK) -> Response:
    """The plan as it is now, read again (its prices may just have changed)."""
    return Response(StaffPlanOutput(_plan(pk)).data, status=status_code)


def _plan(pk: int) -> Plan:
    return get_object_or_404(staff_plans(), pk=pk)


class StaffPlansApi(ListAPIView):
    """GET lists (view permission of plans), POST puts a product on sale (add permission)."""

    permission_classes = [IsStaffWithModelPermission]
    serializer_class = StaffPlanOutput
    filterset_class = StaffPlanFilter

    def get_queryset(self):
        return staff_plans()

    @extend_schema(tags=TAGS, summary="Plans")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        tags=TAGS,
        summary="Put a product on sale",
        request=StaffPlanInput,
        responses={201: StaffPlanOutput},
    )
    def post(self, request: Request) -> Response:
        given = StaffPlanInput(data=request.data)
        given.is_valid(raise_exception=True)
        plan = plan_create(actor=request.user, **given.validated_data)
        return _shown(plan.pk, status.HTTP_201_CREATED)


class StaffPlanApi(APIView):
    """One plan: GET (view permission), PATCH (change), DELETE (delete)."""

    permission_classes = [IsStaffWithModelPermission]
    staff_model = Plan

    @extend_schema(tags=TAGS, summary="One plan", responses=StaffPlanOutput)
    def get(self, request: Request, pk: int) -> Response:
        return _shown(pk)

    @extend_schema(
        tags=TAGS, summary="Change a plan", request=StaffPlanInput, responses=StaffPlanOutput
    )
    def patch(self, request: Request, pk: int) -> Response:
        plan = _plan(pk)
        given = StaffPlanInput(plan, data=request.data, partial=True)
        given.is_valid(raise_exception=True)
        plan_update(plan=plan, actor=request.user, **given.validated_data)
        return _shown(pk)

    @extend_schema(
        tags=TAGS,
        summary="Delete a plan",
        description="Only a plan nobody ordered (409 otherwise: take it off sale instead).",
        responses={204: None},
    )
    def delete(self, request: Request, pk: int) -> Response:
        plan_delete(plan=_plan(pk), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
