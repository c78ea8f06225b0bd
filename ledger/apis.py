"""Reads of the ledger over HTTP: balances (now or as of a moment) and account statements."""

import csv
import json
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

from django.http import StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
)
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.response import Response

from accounts.models import Account
from accounts.selectors import account_get_owned, account_get_visible
from accounts.services import UNCHANGED, account_limits_set, limits_render
from bankledger.core.annotations import MetadataField
from bankledger.core.money import format_minor_units, parse_amount
from bankledger.core.pagination import TimeRangePageFilter
from bankledger.core.schema import ErrorSerializer, error_response
from ledger.limits import outflow_used
from ledger.models import LedgerEntry
from ledger.selectors import account_held, balance_as_of, statement_entries, statement_page
from users.scopes import SYSTEM


class StatementEntrySerializer(serializers.Serializer):
    _id = serializers.CharField(source="id", help_text="Grows per account in posting order.")
    type = serializers.ChoiceField(choices=LedgerEntry.Type.choices)
    amount = serializers.SerializerMethodField()
    balanceAfter = serializers.SerializerMethodField()
    transaction = serializers.UUIDField(source="transaction_id")
    kind = serializers.CharField(help_text="The transaction's kind: TRANSFER, INITIAL_FUNDS…")
    counterpartyAccount = serializers.UUIDField(source="counterparty")
    reference = serializers.CharField(allow_null=True, help_text="The transaction's reference.")
    metadata = MetadataField(help_text="The transaction's metadata.")
    createdAt = serializers.DateTimeField(source="created_at")

    def get_amount(self, entry: LedgerEntry) -> str:
        return format_minor_units(entry.amount, self.context["currency"])

    def get_balanceAfter(self, entry: LedgerEntry) -> str:
        return format_minor_units(entry.balance_after, self.context["currency"])


class _FormatIsAParameter(DefaultContentNegotiation):
    """`?format=csv` is the statement's own parameter, answered with a CSV stream by the view;
    DRF must not read it as a renderer choice (it would 404), and errors stay JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class _Echo:
    """A file-like object whose write returns the line, for streaming csv.writer output."""

    def write(self, value: str) -> str:
        return value


_CSV_HEADER = [
    "entry_id",
    "created_at",
    "type",
    "amount",
    "balance_after",
    "currency",
    "transaction",
    "kind",
    "counterparty_account",
    "reference",
    "metadata",
]


def _csv_lines(account: Account, entries) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(_CSV_HEADER)
    for entry in entries.iterator(chunk_size=2000):
        yield writer.writerow(
            [
                entry.id,
                entry.created_at.isoformat(),
                entry.type,
                format_minor_units(entry.amount, account.currency),
                format_minor_units(entry.balance_after, account.currency),
                account.currency,
                entry.transaction_id,
                entry.kind,
                entry.counterparty,
                entry.reference or "",
                json.dumps(entry.metadata, sort_keys=True) if entry.metadata else "",
            ]
        )


@extend_schema_field(
    {
        "oneOf": [
            {"type": "number", "minimum": 0, "maximum": 10**13},
            {"type": "string", "pattern": r"^(0|[1-9][0-9]{0,12})(\.[0-9]{1,4})?$"},
        ],
        "example": "500.00",
    }
)
class LimitField(serializers.Field):
    """A limit in major units: zero or a positive amount, as a JSON number or decimal string."""

    default_error_messages = {"invalid": "Enter zero or a positive amount in major units."}

    def to_internal_value(self, data):
        if data in (0, "0") or (
            isinstance(data, str) and data.strip("0") == "." and data[0] == "0"
        ):
            return Decimal(0)
        amount = parse_amount(data)
        if amount is None:
            self.fail("invalid")
        return amount


def _limits_body(account: Account) -> dict:
    midnight = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    used = outflow_used([account.id]).get(account.id, 0)
    return {
        **limits_render(account),
        "dailyOutflowUsed": format_minor_units(used, account.currency),
        "dailyOutflowResetsAt": midnight + timedelta(days=1),
    }


# Registered under /api/accounts beside accounts.apis.AccountViewSet: the accounts app may not
# import the ledger (imports go transactions -> ledger -> accounts).
class AccountLedgerViewSet(viewsets.ViewSet):
    """An account's balance (now or as of a moment) and its statement."""

    lookup_url_kwarg = "account_id"
    schema_resource = "Account"
    required_scopes = {
        "balance": "accounts:read",
        "statement": "accounts:read",
        "GET": "accounts:read",  # the limits
        "PUT": SYSTEM,
    }

    class BalanceFilterSerializer(serializers.Serializer):
        asOf = serializers.DateTimeField(
            required=False, help_text="ISO 8601; the balance at that moment instead of now."
        )

    class BalanceOutputSerializer(serializers.Serializer):
        accountId = serializers.UUIDField()
        balance = serializers.CharField()
        currency = serializers.CharField()
        held = serializers.CharField(
            required=False, help_text="Pending, unexpired holds as payer (not with asOf)."
        )
        available = serializers.CharField(
            required=False, help_text="balance - held + overdraftLimit (not with asOf)."
        )
        asOf = serializers.DateTimeField(required=False)

    @extend_schema_serializer(
        examples=[
            OpenApiExample(
                "tier 2",
                value={
                    "overdraftLimit": "500.00",
                    "dailyOutflowLimit": "10000.00",
                    "reason": "KYC tier 2",
                },
                request_only=True,
            )
        ]
    )
    class LimitsInputSerializer(serializers.Serializer):
        overdraftLimit = LimitField(required=False)
        dailyOutflowLimit = LimitField(required=False, allow_null=True)
        reason = serializers.CharField(
            required=False, default="", allow_blank=True, max_length=1000
        )

    class LimitsOutputSerializer(serializers.Serializer):
        accountId = serializers.UUIDField()
        currency = serializers.CharField()
        overdraftLimit = serializers.CharField()
        dailyOutflowLimit = serializers.CharField(allow_null=True)
        dailyOutflowUsed = serializers.CharField()
        dailyOutflowResetsAt = serializers.DateTimeField()

    class StatementFilterSerializer(TimeRangePageFilter):
        format = serializers.ChoiceField(
            choices=["json", "csv"],
            default="json",
            help_text="`csv` streams every entry in the range (from `cursor`, if given) at once.",
        )

    class StatementOutputSerializer(serializers.Serializer):
        accountId = serializers.UUIDField()
        currency = serializers.CharField()
        entries = StatementEntrySerializer(many=True)
        nextCursor = serializers.CharField(
            allow_null=True, help_text="Pass as `cursor` for the next page; null on the last."
        )

    @extend_schema(
        parameters=[BalanceFilterSerializer],
        responses={200: BalanceOutputSerializer, 400: ErrorSerializer},
    )
    @action(detail=False, url_path=r"balance/(?P<account_id>[^/]+)")
    def balance(self, request, account_id: str):
        filters = self.BalanceFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        account = account_get_owned(user=request.user, account_id=account_id)
        body = {"accountId": account.id, "currency": account.currency}
        moment = filters.validated_data.get("asOf")
        if moment is None:
            balance = account.balance
            held = account_held(account=account)
            available = balance - held + account.overdraft_limit
            body["held"] = format_minor_units(held, account.currency)
            body["available"] = format_minor_units(available, account.currency)
        else:
            balance = balance_as_of(account=account, moment=moment)
            body["asOf"] = moment
        body["balance"] = format_minor_units(balance, account.currency)
        return Response(self.BalanceOutputSerializer(body).data)

    @extend_schema(
        methods=["GET"],
        responses={200: LimitsOutputSerializer, 404: error_response("`account_not_found`.")},
    )
    @extend_schema(
        methods=["PUT"],
        request=LimitsInputSerializer,
        responses={
            200: LimitsOutputSerializer,
            400: ErrorSerializer,
            403: error_response("`not_system_user`: the owner may read the limits only."),
            404: error_response("`account_not_found`."),
        },
    )
    @action(detail=True, methods=["get", "put"])
    def limits(self, request, account_id: str):
        """An account's overdraft and daily outflow limits: the owner or a system user reads,
        a system user sets (with a reason, kept with who and when)."""
        if request.method == "PUT":
            data = self.LimitsInputSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            values = data.validated_data
            account = account_limits_set(
                account_id=account_id,
                actor=request.user,
                overdraft_limit=values.get("overdraftLimit"),
                daily_outflow_limit=values.get("dailyOutflowLimit", UNCHANGED),
                reason=values["reason"],
            )
        else:
            account = account_get_visible(user=request.user, account_id=account_id)
        return Response(self.LimitsOutputSerializer(_limits_body(account)).data)

    @extend_schema(
        parameters=[StatementFilterSerializer],
        responses={
            (200, "application/json"): StatementOutputSerializer,
            (200, "text/csv"): OpenApiTypes.STR,
            400: ErrorSerializer,
        },
    )
    @action(detail=True, content_negotiation_class=_FormatIsAParameter)
    def statement(self, request, account_id: str):
        filters = self.StatementFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        account = account_get_visible(user=request.user, account_id=account_id)
        entries = statement_entries(
            account=account,
            since=data.get("since"),
            until=data.get("until"),
            cursor=data.get("cursor"),
        )
        if data["format"] == "csv":
            return StreamingHttpResponse(
                _csv_lines(account, entries),
                content_type="text/csv; charset=utf-8",
                headers={
                    "Content-Disposition": f'attachment; filename="statement-{account.id}.csv"'
                },
            )
        page = statement_page(entries=entries, limit=data["limit"])
        body = {
            "accountId": account.id,
            "currency": account.currency,
            "entries": page.items,
            "nextCursor": page.next_cursor,
        }
        output = self.StatementOutputSerializer(body, context={"currency": account.currency})
        return Response(output.data)
