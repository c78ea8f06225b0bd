from django.urls import path

from transactions.apis import (
    InitialFundsCreateApi,
    TransactionCreateApi,
    TransactionDetailApi,
    TransactionListApi,
    TransactionReverseApi,
)


class TransactionsRootApi(TransactionCreateApi, TransactionListApi):
    """`/api/transactions` answers POST (transfer) and GET (history)."""


root = TransactionsRootApi.as_view()

urlpatterns = [
    path("system/initial-funds", InitialFundsCreateApi.as_view(), name="initial-funds"),
    path("<str:transaction_id>", TransactionDetailApi.as_view(), name="transaction-detail"),
    path(
        "<str:transaction_id>/reverse", TransactionReverseApi.as_view(), name="transaction-reverse"
    ),
]
