from django.urls import path

from ledger.apis import AccountBalanceApi, AccountStatementApi

# Mounted under /api/accounts/ beside accounts.urls: these read the ledger, which the accounts
# app may not import (imports go transactions -> ledger -> accounts).
urlpatterns = [
    path("balance/<str:account_id>", AccountBalanceApi.as_view(), name="account-balance"),
    path("<str:account_id>/statement", AccountStatementApi.as_view(), name="account-statement"),
]
