from drf_spectacular.settings import spectacular_settings
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

# The contract's paths (API.md "Paths"); they answer without the slash too.
_LINKS = {"docs": "/api/docs/", "schema": "/api/schema/"}


class ApiRootApi(APIView):
    """What this service is, and where its documentation lives. No auth."""

    authentication_classes = []
    permission_classes = [AllowAny]

    class OutputSerializer(serializers.Serializer):
        name = serializers.CharField()
        version = serializers.CharField(help_text="The API's version, as in the schema.")
        links = serializers.DictField(child=serializers.CharField())

    @extend_schema(operation_id="root_retrieve", responses={200: OutputSerializer})
    def get(self, request):
        body = {"name": "bankledger", "version": spectacular_settings.VERSION, "links": _LINKS}
        return Response(self.OutputSerializer(body).data)
