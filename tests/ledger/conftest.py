import pytest

from tests.transactions.helpers import transfer


@pytest.fixture
def post(user, make_user, make_account, fund):
    """post(n): n completed transfers, oldest first."""
    sender, receiver = make_account(user), make_account(make_user())
    fund(sender, "1000000")

    def post(n: int):
        return [transfer(sender, receiver, "1.25") for _ in range(n)]

    return post
