"""`manage.py create_system_user`."""

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Account
from users.models import User


def test_creates_a_system_user_with_an_inr_funding_account(db, capsys):
    call_command(
        "create_system_user",
        "--email",
        "Ops@Example.com",
        "--password",
        "Seed-Funds-42!",
        "--name",
        "Ops",
    )
    user = User.objects.get(email="ops@example.com")
    assert user.is_system and user.is_staff and user.name == "Ops"
    assert user.check_password("Seed-Funds-42!")
    funding = Account.objects.get(user=user)
    assert funding.is_funding and funding.currency == "INR" and funding.balance == 0
    assert "Created system user ops@example.com" in capsys.readouterr().out


def test_taken_email_is_a_command_error(make_user):
    make_user(email="ops@example.com")
    with pytest.raises(CommandError, match="already exists"):
        call_command(
            "create_system_user", "--email", "OPS@example.com", "--password", "Seed-Funds-42!"
        )
    assert User.objects.filter(is_system=True).count() == 0


def test_weak_password_is_a_command_error_and_creates_nothing(db):
    with pytest.raises(CommandError, match="too common"):
        call_command(
            "create_system_user", "--email", "ops@example.com", "--password", "password123"
        )
    assert not User.objects.exists()
    assert not Account.objects.exists()
