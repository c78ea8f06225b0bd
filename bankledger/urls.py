from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from bankledger.core.errors import json_not_found
from bankledger.health.apis import HealthCheckApi
from bankledger.root.apis import ApiRootApi

# Every /api route answers with and without one trailing slash (API.md "Paths"): the apps'
# routers do that for their viewsets, the `/?` below for the views outside them. The ledger's
# routes come before the accounts app's, both under /api/accounts.
urlpatterns = [
    path("admin", RedirectView.as_view(url="/admin/", permanent=True)),
    path("admin/", admin.site.urls),
    path("api/", include("users.urls")),
    path("api/", include("ledger.urls")),
    path("api/", include("accounts.urls")),
    path("api/", include("transactions.urls")),
    path("api/", include("bankledger.events.urls")),
    path("api/", include("ledger.log.urls")),
    re_path(r"^api/?$", ApiRootApi.as_view(), name="api-root"),
    re_path(r"^api/health/?$", HealthCheckApi.as_view(), name="health"),
    re_path(r"^api/schema/?$", SpectacularAPIView.as_view(), name="schema"),
    re_path(r"^api/docs/?$", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    # Anything else under /api/ is a JSON 404, never Django's HTML page.
    re_path(r"^api(?:/.*)?$", json_not_found),
]

handler400 = "bankledger.core.errors.json_bad_request"
handler404 = "bankledger.core.errors.json_not_found"
handler500 = "bankledger.core.errors.json_server_error"
