"""`ensure_dev_system_user` (run by `make run`): a random password per checkout, printed once,
kept in an ignored file; a database with the old published password gets this one instead."""

import io
import stat

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command

from accounts.management.commands.ensure_dev_system_user import DEV_EMAIL
from users.models import User
from users.services import user_create


@pytest.fixture
def password_file(tmp_path, settings):
    settings.DEBUG = True  # the test runner turns it off; the command runs only with it on
    settings.DEV_SYSTEM_USER_FILE = str(tmp_path / ".dev-system-user")
    return tmp_path / ".dev-system-user"


def _run() -> str:
    out = io.StringIO()
    call_command("ensure_dev_system_user", stdout=out)
    return out.getvalue()


def test_the_password_is_random_printed_once_and_kept_for_the_owner_only(db, password_file):
    first = _run()
    password = password_file.read_text().strip()
    assert len(password) >= 20 and password in first
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
    second = _run()
    assert password not in second and str(password_file) in second
    user = authenticate(None, username=DEV_EMAIL, password=password)
    assert user is not None and user.is_system and user.is_staff
    assert User.objects.filter(email=DEV_EMAIL).count() == 1


def test_each_checkout_gets_its_own_password(db, tmp_path, settings):
    settings.DEBUG = True
    passwords = set()
    for checkout in ("one", "two"):
        settings.DEV_SYSTEM_USER_FILE = str(tmp_path / checkout)
        _run()
        passwords.add((tmp_path / checkout).read_text().strip())
    assert len(passwords) == 2


def test_an_existing_user_with_the_old_published_password_gets_this_checkouts(db, password_file):
    user_create(email=DEV_EMAIL, name="Old", password="Seed-Funds-Locally-2000", is_system=True)
    _run()
    assert authenticate(None, username=DEV_EMAIL, password="Seed-Funds-Locally-2000") is None
    new = password_file.read_text().strip()
    assert authenticate(None, username=DEV_EMAIL, password=new) is not None


def test_refused_with_debug_off(db, password_file, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG off"):
        _run()
    assert not password_file.exists()
