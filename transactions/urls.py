from bankledger.core.routers import OptionalSlashRouter
from transactions.apis import InitialFundsViewSet, TransactionViewSet

router = OptionalSlashRouter()
router.register("transactions/system/initial-funds", InitialFundsViewSet, basename="initial-funds")
router.register("transactions", TransactionViewSet, basename="transaction")

urlpatterns = router.urls
