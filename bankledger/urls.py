from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

import accounts.urls
import transactions.urls
from bankledger.core.errors import json_not_found
from bankledger.health.apis import HealthCheckApi

urlpatterns = [
    path("admin", RedirectView.as_view(url="/admin/", permanent=True)),
    path("admin/", admin.site.urls),
    path("api/auth/", include("users.urls")),
    path("api/accounts", accounts.urls.root, name="accounts"),
    path("api/accounts/", include("ledger.urls")),
    path("api/accounts/", include("accounts.urls")),
    path("api/transactions", transactions.urls.root, name="transactions"),
    path("api/transactions/", include("transactions.urls")),
    path("api/health", HealthCheckApi.as_view(), name="health"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    # Anything else under /api/ is a JSON 404, never Django's HTML page.
    re_path(r"^api(?:/.*)?$", json_not_found),
]

handler400 = "bankledger.core.errors.json_bad_request"
handler404 = "bankledger.core.errors.json_not_found"
handler500 = "bankledger.core.errors.json_server_error"
