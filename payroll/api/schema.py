"""The OpenAPI schema documents the error answers too (400, 401, 403, 404,
429), so clients and schemathesis can hold the API to them."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema as BaseAutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework import serializers
from rest_framework.permissions import AllowAny


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


VALIDATION_ERROR = {
    "type": "object",
    "description": "Messages by field name (`non_field_errors`: the whole "
    "request), or `detail` for a request that could not be read.",
    "additionalProperties": {},
}


class AutoSchema(BaseAutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        error = self._get_response_for_code(ErrorSerializer, "403")
        codes = {"403": error, "404": error}
        permissions = getattr(self.view, "permission_classes", [])
        if not any(p is AllowAny for p in permissions):
            codes["401"] = error
        if self.method != "GET" or self._is_list_view():
            component = ResolvedComponent(
                name="ValidationError",
                type=ResolvedComponent.SCHEMA,
                object="ValidationError",
                schema=VALIDATION_ERROR,
            )
            self.registry.register_on_missing(component)
            codes["400"] = self._get_response_for_code(component.ref, "400")
        if self.method not in ("GET", "HEAD", "OPTIONS") and getattr(
            self.view, "throttle_scope", None
        ):
            codes["429"] = error
        for code, response in codes.items():
            responses.setdefault(code, response)
        return responses


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "payroll.api.authentication.ApiKeyAuthentication"
    name = "apiKeyAuth"
    priority = 1  # before drf-spectacular's own for TokenAuthentication

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "An API key of a park integration, sent as `Token <key>`.",
        }
