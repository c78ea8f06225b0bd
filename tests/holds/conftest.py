import pytest


@pytest.fixture
def parties(user, make_user, make_account, fund):
    """A payer holding 100.00 and a payee of another user."""
    payer, payee = make_account(user), make_account(make_user())
    fund(payer, "100")
    return payer, payee
