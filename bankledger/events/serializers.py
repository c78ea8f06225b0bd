"""How an event is rendered, in `GET /events` and in a webhook's body alike."""

from rest_framework import serializers

from bankledger.events.types import EVENT_TYPES


class EventOutputSerializer(serializers.Serializer):
    _id = serializers.UUIDField(source="uid")
    seq = serializers.IntegerField()
    type = serializers.ChoiceField(choices=EVENT_TYPES)
    createdAt = serializers.DateTimeField(source="created_at")
    data = serializers.DictField(help_text="The resource as the API renders it, at that moment.")


# One bound instance: rendering reads the fields without changing them (see transactions.apis).
EVENT_OUTPUT = EventOutputSerializer()
