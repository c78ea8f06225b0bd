from bankledger.core.routers import OptionalSlashRouter
from transactions.apis import InitialFundsViewSet, TransactionViewSet
from transactions.batch_apis import BatchViewSet

router = OptionalSlashRouter()
router.register("transactions/system/initial-funds", InitialFundsViewSet, basename="initial-funds")
# Before `transactions`, whose detail route would take "batch" for an id.
router.register("transactions/batch", BatchViewSet, basename="transaction-batch")
router.register("transactions", TransactionViewSet, basename="transaction")

urlpatterns = router.urls
