from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from bankledger.core.errors import ServiceUnavailable, body
from bankledger.core.schema import ErrorSerializer
from bankledger.health.selectors import database_is_reachable


class HealthCheckApi(APIView):
    """For load balancers and orchestrators: no auth, and it touches the database."""

    authentication_classes = []
    permission_classes = [AllowAny]
    # Not rate limited: counting a request would cost more than the check itself, and a
    # probe must reach the database check even when the counters cannot be written.
    throttle_classes = []

    class OutputSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=["ok"])

    class UnavailableSerializer(ErrorSerializer):
        status = serializers.ChoiceField(choices=["unavailable"])

    @extend_schema(responses={200: OutputSerializer, 503: UnavailableSerializer})
    def get(self, request):
        if database_is_reachable():
            return Response({"status": "ok"})
        down = ServiceUnavailable("The database is unreachable.")
        return Response(
            body(down.message, down.code, status="unavailable"),
            status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "5"},
        )
