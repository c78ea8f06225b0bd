from bankledger.core.routers import OptionalSlashRouter
from users.apis import ApiKeyViewSet, UserViewSet

router = OptionalSlashRouter()
router.register("auth/keys", ApiKeyViewSet, basename="api-key")
router.register("auth", UserViewSet, basename="auth")

urlpatterns = router.urls
