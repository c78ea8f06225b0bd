from django.urls import path

from transactions.apis import InitialFundsCreateApi, TransactionCreateApi

root = TransactionCreateApi.as_view()

urlpatterns = [
    path("system/initial-funds", InitialFundsCreateApi.as_view(), name="initial-funds"),
]
