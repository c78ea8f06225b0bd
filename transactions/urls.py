from django.urls import re_path

from bankledger.core.routers import OptionalSlashRouter
from transactions.apis import InitialFundsViewSet, TransactionViewSet
from transactions.batch_apis import BatchViewSet
from transactions.hold_apis import HoldViewSet
from transactions.receipts_apis import TransactionProofApi, TransactionReceiptApi

router = OptionalSlashRouter()
router.register("transactions/system/initial-funds", InitialFundsViewSet, basename="initial-funds")
# Before `transactions`, whose detail route would take "batch" for an id.
router.register("transactions/batch", BatchViewSet, basename="transaction-batch")
router.register("transactions", TransactionViewSet, basename="transaction")
router.register("holds", HoldViewSet, basename="hold")

urlpatterns = [
    *router.urls,
    re_path(
        r"^transactions/(?P<transaction_id>[^/]+)/receipt/?$",
        TransactionReceiptApi.as_view(),
        name="transaction-receipt",
    ),
    re_path(
        r"^transactions/(?P<transaction_id>[^/]+)/proof/?$",
        TransactionProofApi.as_view(),
        name="transaction-proof",
    ),
]
