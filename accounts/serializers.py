"""How an account is rendered: in API answers and, snapshotted, in its events."""

from rest_framework import serializers

from accounts.models import Account


class AccountOutputSerializer(serializers.Serializer):
    _id = serializers.UUIDField(source="id")
    user = serializers.UUIDField(source="user_id")
    status = serializers.ChoiceField(choices=Account.Status.choices)
    currency = serializers.CharField()
    createdAt = serializers.DateTimeField(source="created_at")
    updatedAt = serializers.DateTimeField(source="updated_at")


ACCOUNT_OUTPUT = AccountOutputSerializer()
