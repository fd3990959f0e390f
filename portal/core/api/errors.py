"""One error body for every API error, and the DRF exception handler that builds it.

Every error answers ``{"error": {"code": "...", "message": "...", "fields": {...}}}``: ``code``
is stable (for programs), ``message`` a sentence (for people), ``fields`` the invalid input by
field name (empty unless the input was refused). Domain errors (``portal.core.exceptions``),
Django's 404 and permission errors, DRF's own and throttling (with ``Retry-After``) are all mapped
here; anything else is logged with its traceback and answered 500 with the same body, never with
the traceback.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.urls import Resolver404, resolve
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import APIView, set_rollback

from portal.core.exceptions import DomainError

logger = logging.getLogger(__name__)

INVALID_INPUT = "The request is not valid; see the fields."
SERVER_ERROR = "Something went wrong on our side. Please try again later."
NOT_FOUND = "Not found."
NOT_FOUND_WITHOUT_SLASH = "Not found. (API URLs end with a slash: add one.)"


def error_body(code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """``REST_FRAMEWORK["EXCEPTION_HANDLER"]``: every exception of an API view, as the body."""
    set_rollback()
    if isinstance(exc, DomainError):
        return Response(error_body(exc.code, exc.message), status=exc.status_code)
    exc = _as_api_exception(exc)
    if isinstance(exc, exceptions.APIException):
        return _api_error(exc)
    logger.exception("Unhandled error in API view %s", type(context.get("view")).__name__)
    return Response(error_body("server_error", SERVER_ERROR), status=500)


class UnknownEndpoint(APIView):
    """Any URL under the API that names no endpoint: the error body instead of Django's page
    (after the token is checked, so only its holders learn which URLs exist)."""

    def initial(self, request: Request, *args: object, **kwargs: object) -> None:
        super().initial(request, *args, **kwargs)
        if _names_an_endpoint(f"{request.path_info}/"):
            raise exceptions.NotFound(NOT_FOUND_WITHOUT_SLASH)
        raise exceptions.NotFound(NOT_FOUND)


def _names_an_endpoint(path: str) -> bool:
    try:
        match = resolve(path)
    except Resolver404:
        return False
    return getattr(match.func, "view_class", None) is not UnknownEndpoint


def _as_api_exception(exc: Exception) -> Exception:
    if isinstance(exc, DjangoValidationError):
        return exceptions.ValidationError(as_serializer_error(exc))
    if isinstance(exc, Http404):
        return exceptions.NotFound(NOT_FOUND)
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied()
    return exc


def _api_error(exc: exceptions.APIException) -> Response:
    headers = {}
    if auth_header := getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = auth_header
    if (wait := getattr(exc, "wait", None)) is not None:
        headers["Retry-After"] = str(max(1, math.ceil(wait)))
    if isinstance(exc, exceptions.ValidationError):
        fields = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        body = error_body("invalid", INVALID_INPUT, fields)
        return Response(body, status=status.HTTP_400_BAD_REQUEST, headers=headers)
    codes = exc.get_codes()
    code = codes if isinstance(codes, str) else exc.default_code
    return Response(error_body(code, str(exc.detail)), status=exc.status_code, headers=headers)
