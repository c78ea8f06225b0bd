"""The public log over HTTP (no auth): checkpoints, consistency proofs and the signing keys.
Hashes are lowercase hex, keys and signatures base64 (API.md)."""

import base64

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from bankledger.core.schema import ErrorSerializer
from ledger.exceptions import CheckpointNotFound
from ledger.log.receipts import timestamp_text
from ledger.log.selectors import checkpoint_get, checkpoint_latest, log_consistency, log_keys
from ledger.models import Checkpoint


def b64(raw: bytes) -> str:
    return base64.b64encode(bytes(raw)).decode()


class CheckpointSerializer(serializers.Serializer):
    treeSize = serializers.IntegerField(source="tree_size")
    rootHash = serializers.SerializerMethodField(help_text="RFC 9162 root, lowercase hex.")
    timestamp = serializers.SerializerMethodField(help_text="UTC, YYYY-MM-DDTHH:MM:SS.ffffffZ.")
    keyId = serializers.CharField(source="key_id")
    signature = serializers.SerializerMethodField(
        help_text="Ed25519, base64, over `bankledger-checkpoint\\n{treeSize}\\n{rootHash}\\n"
        "{timestamp}\\n` (UTF-8)."
    )

    def get_rootHash(self, checkpoint: Checkpoint) -> str:
        return bytes(checkpoint.root_hash).hex()

    def get_timestamp(self, checkpoint: Checkpoint) -> str:
        return timestamp_text(checkpoint.timestamp)

    def get_signature(self, checkpoint: Checkpoint) -> str:
        return b64(checkpoint.signature)


def _size(text: str) -> int:
    """A tree size from the path; anything else is a size never signed (404), like a malformed
    id is an unknown one."""
    if not (text.isascii() and text.isdigit() and len(text) <= 18):
        raise CheckpointNotFound()
    return int(text)


class _PublicApi(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]


class CheckpointLatestApi(_PublicApi):
    @extend_schema(responses={200: CheckpointSerializer, 404: ErrorSerializer})
    def get(self, request):
        return Response(CheckpointSerializer(checkpoint_latest()).data)


class CheckpointDetailApi(_PublicApi):
    @extend_schema(
        parameters=[OpenApiParameter("tree_size", int, OpenApiParameter.PATH)],
        responses={200: CheckpointSerializer, 404: ErrorSerializer},
    )
    def get(self, request, tree_size: str):
        return Response(CheckpointSerializer(checkpoint_get(tree_size=_size(tree_size))).data)


class LogConsistencyApi(_PublicApi):
    class FilterSerializer(serializers.Serializer):
        def get_fields(self):
            # `from` is a Python keyword, so the fields are named here rather than declared.
            return {
                "from": serializers.IntegerField(min_value=1, help_text="The smaller tree size."),
                "to": serializers.IntegerField(min_value=1, help_text="The larger tree size."),
            }

    class OutputSerializer(serializers.Serializer):
        def get_fields(self):
            return {
                "from": serializers.IntegerField(),
                "to": serializers.IntegerField(),
                "proof": serializers.ListField(
                    child=serializers.CharField(),
                    help_text="RFC 9162 consistency proof, lowercase hex hashes.",
                ),
            }

    @extend_schema(
        parameters=[FilterSerializer], responses={200: OutputSerializer, 400: ErrorSerializer}
    )
    def get(self, request):
        filters = LogConsistencyApi.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        old, new = filters.validated_data["from"], filters.validated_data["to"]
        proof = log_consistency(old=old, new=new)
        body = {"from": old, "to": new, "proof": [digest.hex() for digest in proof]}
        return Response(LogConsistencyApi.OutputSerializer(body).data)


class LogKeysApi(_PublicApi):
    class OutputSerializer(serializers.Serializer):
        class KeySerializer(serializers.Serializer):
            keyId = serializers.CharField(source="key_id")
            algorithm = serializers.ChoiceField(choices=["Ed25519"], default="Ed25519")
            publicKey = serializers.SerializerMethodField(help_text="Raw 32-byte key, base64.")
            createdAt = serializers.DateTimeField(source="created_at")

            def get_publicKey(self, key) -> str:
                return b64(key.public_key)

        keys = KeySerializer(many=True)

    @extend_schema(responses={200: OutputSerializer})
    def get(self, request):
        return Response(LogKeysApi.OutputSerializer({"keys": log_keys()}).data)
