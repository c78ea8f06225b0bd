from bankledger.core.routers import OptionalSlashRouter
from ledger.apis import AccountLedgerViewSet

router = OptionalSlashRouter()
router.register("accounts", AccountLedgerViewSet, basename="account-ledger")

urlpatterns = router.urls
