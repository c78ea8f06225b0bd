from bankledger.core.routers import OptionalSlashRouter
from bankledger.events.apis import EventViewSet, WebhookViewSet

router = OptionalSlashRouter()
router.register("events", EventViewSet, basename="event")
router.register("webhooks", WebhookViewSet, basename="webhook")

urlpatterns = router.urls
