from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.response import Response

from bankledger.core.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from bankledger.core.schema import error_response
from bankledger.events.selectors import event_list, webhook_list
from bankledger.events.serializers import EventOutputSerializer
from bankledger.events.types import EVENT_TYPES
from bankledger.events.webhooks import webhook_create, webhook_delete


class EventViewSet(viewsets.ViewSet):
    required_scopes = {"list": "events:read"}

    class FilterSerializer(serializers.Serializer):
        after = serializers.IntegerField(
            required=False, default=0, min_value=0, help_text="`nextAfter` of the last poll."
        )
        limit = serializers.IntegerField(
            required=False, default=DEFAULT_PAGE_SIZE, min_value=1, max_value=MAX_PAGE_SIZE
        )
        type = serializers.ChoiceField(choices=EVENT_TYPES, required=False)

    @extend_schema_serializer(many=False)  # an envelope, though the action is `list`
    class OutputSerializer(serializers.Serializer):
        events = EventOutputSerializer(many=True)
        nextAfter = serializers.IntegerField(
            help_text="Pass as `after` for the next poll; `seq` of the last event returned."
        )

    @extend_schema(
        operation_id="events_list",
        parameters=[FilterSerializer],
        responses={
            200: OutputSerializer,
            400: error_response("`invalid_input`: a malformed `after`, `limit` or `type`."),
        },
    )
    def list(self, request):
        """Events the caller may see with `seq > after`, oldest first. Polling with
        `after=nextAfter` never misses an event and never repeats one."""
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        events = event_list(
            user=request.user, after=data["after"], limit=data["limit"], type=data.get("type")
        )
        next_after = events[-1].seq if events else data["after"]
        return Response(self.OutputSerializer({"events": events, "nextAfter": next_after}).data)


class WebhookOutputSerializer(serializers.Serializer):
    _id = serializers.UUIDField(source="id")
    url = serializers.URLField()
    events = serializers.ListField(child=serializers.ChoiceField(choices=EVENT_TYPES))
    description = serializers.CharField()
    active = serializers.BooleanField()
    createdAt = serializers.DateTimeField(source="created_at")


class WebhookViewSet(viewsets.ViewSet):
    lookup_url_kwarg = "webhook_id"
    required_scopes = {
        "create": "webhooks:write",
        "list": "webhooks:write",
        "destroy": "webhooks:write",
    }

    @extend_schema_serializer(
        examples=[
            OpenApiExample(
                "accounting system",
                value={
                    "url": "https://hooks.example.com/bankledger",
                    "events": ["transaction.completed", "transaction.reversed"],
                    "description": "accounting system",
                },
                request_only=True,
            )
        ]
    )
    class InputSerializer(serializers.Serializer):
        url = serializers.URLField(max_length=2048)
        events = serializers.ListField(
            child=serializers.CharField(max_length=64),
            required=False,
            max_length=len(EVENT_TYPES),
            help_text="Event types to receive; default: all.",
        )
        description = serializers.CharField(
            required=False, default="", allow_blank=True, max_length=500
        )

    class CreatedSerializer(serializers.Serializer):
        webhook = WebhookOutputSerializer()
        secret = serializers.CharField(help_text="`whsec_...`: shown only in this answer.")

    @extend_schema_serializer(many=False)  # an envelope, though the action is `list`
    class ListSerializer(serializers.Serializer):
        webhooks = WebhookOutputSerializer(many=True)

    @extend_schema(
        request=InputSerializer,
        responses={201: CreatedSerializer, 400: error_response("`invalid_url`, `invalid_input`.")},
    )
    def create(self, request):
        """Register an endpoint. Its signing secret is in this answer and never again."""
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        webhook = webhook_create(owner=request.user, **data.validated_data)
        body = self.CreatedSerializer({"webhook": webhook, "secret": webhook.secret}).data
        return Response(body, status.HTTP_201_CREATED)

    @extend_schema(operation_id="webhooks_list", responses={200: ListSerializer})
    def list(self, request):
        return Response(self.ListSerializer({"webhooks": webhook_list(owner=request.user)}).data)

    @extend_schema(request=None, responses={204: None})
    def destroy(self, request, webhook_id: str):
        webhook_delete(owner=request.user, webhook_id=webhook_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
