"""Quotas (API.md "Rate limits and quotas"): at most MAX_ACCOUNTS_PER_USER accounts that are not
CLOSED, 403 `quota_exceeded` beyond, system users exempt, and concurrent requests cannot beat
it (users.quotas counts under the user's row lock)."""

from collections import Counter

import pytest
from django.db import transaction

from accounts.models import Account
from accounts.services import account_close, account_create
from tests.conftest import client_for
from tests.transactions.helpers import post_in_parallel
from users.quotas import quota_check


@pytest.mark.django_db(transaction=True)
def test_twenty_parallel_creations_by_a_user_with_fifteen_leave_exactly_twenty(user):
    for _ in range(15):
        account_create(user=user)
    statuses = post_in_parallel([(client_for(user), "/api/accounts", {})] * 20)
    assert Counter(statuses) == {201: 5, 403: 15}
    assert Account.objects.filter(user=user).count() == 20


def test_one_more_is_403_quota_exceeded_and_opens_nothing(settings, api, user):
    settings.QUOTAS = {**settings.QUOTAS, "accounts": 2}
    for _ in range(2):
        assert api.post("/api/accounts", {}, format="json").status_code == 201
    response = api.post("/api/accounts", {}, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "quota_exceeded"
    assert Account.objects.filter(user=user).count() == 2


def test_closed_accounts_do_not_count(settings, user):
    settings.QUOTAS = {**settings.QUOTAS, "accounts": 1}
    first = account_create(user=user)
    account_close(account_id=str(first.id), actor=user)
    assert account_create(user=user).status == Account.Status.ACTIVE


def test_system_users_are_exempt(settings, system_user):
    settings.QUOTAS = {**settings.QUOTAS, "accounts": 0}
    assert account_create(user=system_user).user == system_user


def test_a_check_outside_a_transaction_is_refused(transactional_db, user):
    """Without the caller's transaction the lock would end before the insert."""
    with pytest.raises(RuntimeError):
        quota_check(user=user, quota="accounts", owned=Account.objects.filter(user=user))
    with transaction.atomic():
        quota_check(user=user, quota="accounts", owned=Account.objects.filter(user=user))
