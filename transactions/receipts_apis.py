"""A transaction's receipt and its inclusion proof in the public log. Both follow the
transaction's visibility (404 otherwise)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from bankledger.core.schema import ErrorSerializer
from ledger.log.apis import b64
from ledger.log.selectors import log_inclusion
from ledger.log.services import receipt_get
from transactions.selectors import transaction_get


class TransactionReceiptApi(APIView):
    required_scopes = "transactions:read"

    class OutputSerializer(serializers.Serializer):
        class ReceiptSerializer(serializers.Serializer):
            payload = serializers.CharField(
                help_text="Canonical JSON of the transaction and its entries (README: Receipts)."
            )
            leafHash = serializers.CharField(help_text="SHA-256(0x00 || payload), hex.")
            logIndex = serializers.IntegerField(
                allow_null=True, help_text="The leaf's position; null until it is in the log."
            )
            keyId = serializers.CharField()
            signature = serializers.CharField(help_text="Ed25519 over payload's bytes, base64.")

        receipt = ReceiptSerializer()

    @extend_schema(responses={200: OutputSerializer, 404: ErrorSerializer})
    def get(self, request, transaction_id: str):
        found = transaction_get(user=request.user, transaction_id=transaction_id)
        receipt = receipt_get(transaction_id=found.id)
        body = {
            "payload": receipt.payload,
            "leafHash": receipt.leaf_hash.hex(),
            "logIndex": receipt.log_index,
            "keyId": receipt.key_id,
            "signature": b64(receipt.signature),
        }
        return Response(TransactionReceiptApi.OutputSerializer({"receipt": body}).data)


class TransactionProofApi(APIView):
    required_scopes = "transactions:read"

    class FilterSerializer(serializers.Serializer):
        treeSize = serializers.IntegerField(
            required=False,
            min_value=1,
            help_text="A signed checkpoint's size; default: the latest checkpoint.",
        )

    class OutputSerializer(serializers.Serializer):
        logIndex = serializers.IntegerField()
        treeSize = serializers.IntegerField()
        leafHash = serializers.CharField()
        auditPath = serializers.ListField(
            child=serializers.CharField(), help_text="RFC 9162 inclusion proof, hex hashes."
        )

    @extend_schema(
        parameters=[FilterSerializer],
        responses={200: OutputSerializer, 400: ErrorSerializer, 404: ErrorSerializer},
    )
    def get(self, request, transaction_id: str):
        filters = TransactionProofApi.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        found = transaction_get(user=request.user, transaction_id=transaction_id)
        proof = log_inclusion(
            transaction_id=found.id, tree_size=filters.validated_data.get("treeSize")
        )
        body = {
            "logIndex": proof.log_index,
            "treeSize": proof.tree_size,
            "leafHash": proof.leaf_hash.hex(),
            "auditPath": [digest.hex() for digest in proof.audit_path],
        }
        return Response(TransactionProofApi.OutputSerializer(body).data)
