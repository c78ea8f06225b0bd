from django.urls import path

from accounts.apis import AccountBalanceApi, AccountCreateApi, AccountListApi


class AccountsRootApi(AccountCreateApi, AccountListApi):
    """`/api/accounts` answers POST (open) and GET (list)."""


root = AccountsRootApi.as_view()

urlpatterns = [
    path("balance/<str:account_id>", AccountBalanceApi.as_view(), name="account-balance"),
]
