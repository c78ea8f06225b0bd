from django.urls import path

from accounts.apis import (
    AccountCloseApi,
    AccountCreateApi,
    AccountFreezeApi,
    AccountListApi,
    AccountUnfreezeApi,
)


class AccountsRootApi(AccountCreateApi, AccountListApi):
    """`/api/accounts` answers POST (open) and GET (list)."""


root = AccountsRootApi.as_view()

urlpatterns = [
    path("<str:account_id>/freeze", AccountFreezeApi.as_view(), name="account-freeze"),
    path("<str:account_id>/unfreeze", AccountUnfreezeApi.as_view(), name="account-unfreeze"),
    path("<str:account_id>/close", AccountCloseApi.as_view(), name="account-close"),
]
