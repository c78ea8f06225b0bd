"""Reads for accounts. Every read is scoped to the caller: another user's account does not
exist as far as they can tell."""

import uuid

from django.db import connection
from django.db.models import QuerySet

from accounts.exceptions import AccountNotFound
from accounts.models import Account
from bankledger.core.ids import parse_id
from users.models import User

# In the model's field order: `Model.from_db` assigns a partial row's values in that order,
# whatever order the names are given in.
_LOCK_COLUMNS = tuple(
    field.attname
    for field in Account._meta.concrete_fields
    if field.attname in {"id", "user_id", "status", "currency", "balance", "is_funding"}
)
_UUID_COLUMNS = {"id", "user_id"}


def accounts_lock(*, account_ids: list[uuid.UUID]) -> dict[uuid.UUID, Account]:
    """Lock these account rows, in id order (so two transfers crossing the same pair cannot
    deadlock), inside the caller's database transaction, and return the ones that exist.
    Plain SQL: the QuerySet equivalent costs several times this statement's Python. On SQLite,
    which has no row locks, the write lock taken at BEGIN IMMEDIATE serializes instead."""
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    sql = (
        f"SELECT {', '.join(_LOCK_COLUMNS)} FROM {Account._meta.db_table}"
        f" WHERE id IN ({', '.join(['%s'] * len(account_ids))}) ORDER BY id{lock}"
    )
    pk = Account._meta.pk
    with connection.cursor() as cursor:
        cursor.execute(sql, [pk.get_db_prep_value(key, connection) for key in account_ids])
        rows = cursor.fetchall()
    accounts = {}
    for row in rows:
        values = [
            uuid.UUID(str(value)) if column in _UUID_COLUMNS else value
            for column, value in zip(_LOCK_COLUMNS, row, strict=True)
        ]
        account = Account.from_db(connection.alias, _LOCK_COLUMNS, values)
        account.is_funding = bool(account.is_funding)  # SQLite answers 0/1
        accounts[account.id] = account
    return accounts


def account_list(*, user: User) -> QuerySet[Account]:
    return Account.objects.filter(user=user).order_by("created_at", "id")


def account_get_owned(*, user: User, account_id: str) -> Account:
    """The caller's account with this id; a malformed id is an unknown one."""
    key = parse_id(account_id, not_found=AccountNotFound)
    account = Account.objects.filter(id=key, user=user).first()
    if account is None:
        raise AccountNotFound()
    return account


def account_get_visible(*, user: User, account_id: str) -> Account:
    """The account with this id if the caller owns it or is a system user (who may see any)."""
    if not user.is_system:
        return account_get_owned(user=user, account_id=account_id)
    key = parse_id(account_id, not_found=AccountNotFound)
    account = Account.objects.filter(id=key).first()
    if account is None:
        raise AccountNotFound()
    return account
