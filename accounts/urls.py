from accounts.apis import AccountViewSet
from bankledger.core.routers import OptionalSlashRouter

router = OptionalSlashRouter()
router.register("accounts", AccountViewSet, basename="account")

urlpatterns = router.urls
