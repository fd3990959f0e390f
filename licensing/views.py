"""The verification endpoint a licence server exposes: portals POST a key, it answers whether the
key holds, as signed by this issuer (``LICENSING_PUBLIC_KEYS``) and not revoked
(``LICENSING_REVOKED``). No grace here: grace is for a portal that cannot reach the server."""

from __future__ import annotations

import json

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from licensing.checks import trusted_public_keys
from licensing.tokens import LicenceClaims, LicenceInvalid, licence_fingerprint, licence_verify
from portal.core import clock


# A machine API: portals post a key from their servers, without a session or a CSRF token, and
# nothing changes here; the key's signature is what is checked.
@csrf_exempt
def verify(request: HttpRequest) -> JsonResponse:
    """``{"key": "VPNL1…", "product": 7}`` (product optional) → the verdict; every answer, a
    refused method's too, is the same JSON shape."""
    if request.method != "POST":
        response = _refused("POST the key as JSON.", status=405)
        response["Allow"] = "POST"
        return response
    if request.content_type != "application/json":
        return _refused("Send the key as JSON (Content-Type: application/json).", status=415)
    try:
        body = json.loads(request.body)
    except ValueError:
        return _refused("The body is not JSON.", status=400)
    if not isinstance(body, dict) or not isinstance(body.get("key"), str):
        return _refused('The body is {"key": "VPNL1…", "product": <id>}.', status=400)
    product = body.get("product")
    if product is not None and (isinstance(product, bool) or not isinstance(product, int | str)):
        return _refused("product is a product id.", status=400)
    public_keys = trusted_public_keys()
    if not public_keys:
        return _refused("This licence server has no issuer key configured.", status=503)
    try:
        claims = licence_verify(body["key"], public_keys, now=clock.now())
    except LicenceInvalid as exc:
        return _refused(str(exc))
    return _verdict(body["key"], claims, product)


def _verdict(key: str, claims: LicenceClaims, product: int | str | None) -> JsonResponse:
    revoked = set(settings.LICENSING_REVOKED)
    if claims.licensee in revoked or licence_fingerprint(key) in revoked:
        return _refused("The licence was revoked by its issuer.")
    if product is not None and not claims.covers(product):
        return _refused(f"The licence does not cover this product (id {product}).")
    return JsonResponse(
        {
            "valid": True,
            "licensee": claims.licensee,
            "products": list(claims.products),
            "expires_at": claims.expires_at.isoformat(),
            "recheck_seconds": claims.recheck_seconds,
        }
    )


def _refused(reason: str, *, status: int = 200) -> JsonResponse:
    return JsonResponse({"valid": False, "reason": reason}, status=status)
