from bankledger.core.routers import OptionalSlashRouter
from users.apis import UserViewSet

router = OptionalSlashRouter()
router.register("auth", UserViewSet, basename="auth")

urlpatterns = router.urls
