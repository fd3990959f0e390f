"""The OpenAPI schema's one addition to what drf-spectacular derives: the error body.

Every operation documents ``default``: the error body of ``portal.core.api.errors``, so a
client (and the schema fuzz test) knows the shape of every error answer.
"""

from __future__ import annotations

from typing import Any

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "fields"],
            "properties": {
                "code": {"type": "string", "example": "not_found"},
                "message": {"type": "string"},
                "fields": {
                    "type": "object",
                    "description": "The refused input, by field name (empty otherwise).",
                    "additionalProperties": True,
                },
            },
        }
    },
}
HTTP_METHODS = {"get", "put", "patch", "post", "delete", "head", "options"}


def add_error_responses(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """``SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]`` entry: ``default`` on every operation."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    error = {
        "description": "An error (see the code and message).",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method in HTTP_METHODS:
                operation.setdefault("responses", {}).setdefault("default", error)
    return result
