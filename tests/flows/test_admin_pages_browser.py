"""The admin as issue 12 judged it, in Debian's Chromium at 1400x1000: every page fits the window
without scrolling sideways, the funding page's picker says whose account it is, and the funding
page posts once whatever the browser does (double click, Back and submit again, two tabs) or
asks before repeating a recent posting. Each page's screenshot goes to test-artifacts/admin/
(the README's pictures in docs/admin/ are copies of these)."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from accounts.models import Account
from accounts.services import account_freeze
from bankledger.mail.services import email_create
from tests.flows.browser import ARTIFACTS, FUNDING_PATH, chromium_browser, log_in, pick_account
from transactions.models import Transaction
from transactions.services import transfer_create

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("chromium"),
]

SHOTS = ARTIFACTS / "admin"
# How far each page's content reaches past the window, measured in the page: the document, and
# any box that scrolls sideways on its own (Django's lists scroll inside `.results`).
OVERFLOW = """() => {
  const wide = [document.documentElement, ...document.querySelectorAll('.results')];
  return Math.max(...wide.map(e => e.scrollWidth - e.clientWidth));
}"""


@pytest.fixture
def ledger(system_user, make_user, make_account, fund):
    """Accounts with long emails, seven-digit balances, transfers, a frozen account with a long
    reason and outbox emails: what makes a list wide."""
    naman = make_user(email="naman.kumar.with.a.long.address@example.com", name="Naman Kumar")
    priya = make_user(email="priya@example.com", name="Priya Sharma")
    big, small, usd = make_account(naman), make_account(priya), make_account(naman, "USD")
    fund(big, "1234567.89")
    fund(small, "5000")
    fund(usd, "250")
    for n in range(3):
        transfer_create(
            initiator=naman,
            from_account_id=str(big.id),
            to_account_id=str(small.id),
            amount=Decimal("125000.50"),
            idempotency_key=f"rent-{n}-{'x' * 60}",
        )
    account_freeze(
        account_id=str(usd.id), actor=system_user, reason="Chargeback review " + "long " * 30
    )
    email_create(
        key=f"welcome:{naman.id}",
        to=naman.email,
        template="emails/welcome",
        context={"name": naman.name, "email": naman.email},
    )
    return {"big": big, "small": small, "usd": usd}


PAGES = {
    "index": "/admin/",
    "users": "/admin/users/user/",
    "accounts": "/admin/accounts/account/",
    "status-changes": "/admin/accounts/accountstatuschange/",
    "transactions": "/admin/transactions/transaction/",
    "ledger-entries": "/admin/ledger/ledgerentry/",
    "emails": "/admin/mail/email/",
    "funding": FUNDING_PATH,
}


def test_every_page_fits_1400_px_without_scrolling_sideways(live_server, system_user, ledger):
    SHOTS.mkdir(parents=True, exist_ok=True)
    tx = Transaction.objects.filter(kind="TRANSFER").first()
    pages = {
        **PAGES,
        "account": f"/admin/accounts/account/{ledger['big'].id}/change/",
        "transaction": f"/admin/transactions/transaction/{tx.id}/change/",
        "account-transactions": f"/admin/transactions/transaction/?account={ledger['big'].id}",
    }
    with chromium_browser() as (_, browser):
        page = log_in(browser, live_server.url, system_user)
        for name, path in pages.items():
            page.goto(path)
            page.screenshot(path=SHOTS / f"{name}.png")
            assert page.evaluate("window.innerWidth") == 1400
            assert page.evaluate(OVERFLOW) <= 0, f"{name} ({path}) scrolls sideways"
        page.goto("/admin/transactions/transaction/")
        amount = page.locator("#result_list td.field-amount_display").first
        expect(amount).to_have_text("125,000.50 INR")
        assert amount.evaluate("e => getComputedStyle(e).textAlign") == "right"
        assert amount.evaluate("e => e.getBoundingClientRect().right") <= 1400


def test_the_picker_shows_owner_currency_and_balance_and_never_a_funding_account(
    live_server, system_user, ledger
):
    big = ledger["big"]
    with chromium_browser() as (_, browser):
        page = log_in(browser, live_server.url, system_user)
        page.goto(FUNDING_PATH)
        page.click(".field-account .select2-selection")
        page.fill(".select2-search__field", "naman")
        options = page.locator(".select2-results__option")
        expect(options).to_have_count(2)  # INR and the frozen USD account
        expect(options.filter(has_text="USD")).to_contain_text("250.00 USD")
        expect(options.filter(has_text="USD")).to_contain_text("FROZEN")
        expect(options.filter(has_text="INR")).to_contain_text(
            f"Naman Kumar <naman.kumar.with.a.long.address@example.com> · 859,566.39 INR · "
            f"{str(big.id)[:8]}"
        )
        page.screenshot(path=SHOTS / "funding-picker.png")
        page.fill(".select2-search__field", str(big.id)[9:18])
        expect(options).to_have_count(1)
        page.fill(".select2-search__field", system_user.email)
        expect(options).to_have_text(["No results found"])


def _fill_and_submit(page, account, amount="5", *, click="click"):
    page.goto(FUNDING_PATH)
    pick_account(page, "priya@", str(account.id)[:8])
    page.fill("#id_amount", amount)
    getattr(page, click)("input[type=submit][value='Post initial funds']")


def test_back_then_submit_again_posts_once_or_asks_first(live_server, system_user, ledger):
    """Chromium restores what it can of the form after Back (the amount, maybe the key) but
    not the account picker, as in the issue's report; the account is picked again. Whatever
    the browser kept, the second submission replays the first or asks before posting again."""
    small = ledger["small"]
    with chromium_browser() as (_, browser):
        page = log_in(browser, live_server.url, system_user)
        _fill_and_submit(page, small)
        expect(page.locator(".messagelist .success")).to_contain_text("Posted 5.00 INR")
        page.go_back()
        expect(page).to_have_url(f"{live_server.url}{FUNDING_PATH}")
        if not page.locator("#id_account").input_value():
            pick_account(page, "priya@", str(small.id)[:8])
        page.fill("#id_amount", "5")
        page.click("input[type=submit][value='Post initial funds']")
        replayed = page.locator(".messagelist .warning", has_text="submitted before")
        asked = page.locator("#repeat-warning")
        expect(replayed.or_(asked)).to_be_visible()
        was_asked = asked.count() == 1
        if was_asked:
            expect(asked).to_contain_text("You already posted 5.00 INR to this account")
            page.screenshot(path=SHOTS / "funding-repeat.png", full_page=True)
            page.click("button[name=confirm_repeat]")
            expect(page.locator(".messagelist .success")).to_contain_text("Posted 5.00 INR")
    postings = 2 if was_asked else 1  # the second one only after the explicit confirmation
    assert Transaction.objects.filter(to_account=small, amount=500).count() == postings
    small.refresh_from_db()
    assert small.balance == 38000150 + 500 * postings  # 380,001.50 INR before


def test_a_double_click_posts_once(live_server, system_user, ledger):
    small = ledger["small"]
    with chromium_browser() as (_, browser):
        page = log_in(browser, live_server.url, system_user)
        _fill_and_submit(page, small, "7", click="dblclick")
        expect(page.locator(".messagelist li").first).to_be_visible()
        page.screenshot(path=SHOTS / "funding-result.png")
    assert Transaction.objects.filter(to_account=small, amount=700).count() == 1


def test_two_tabs_post_once_and_the_second_asks(live_server, system_user, ledger):
    small = ledger["small"]
    with chromium_browser() as (_, browser):
        first = log_in(browser, live_server.url, system_user)
        second = first.context.new_page()
        for tab in (first, second):
            tab.goto(FUNDING_PATH)
            pick_account(tab, "priya@", str(small.id)[:8])
            tab.fill("#id_amount", "9")
        first.click("input[type=submit][value='Post initial funds']")
        expect(first.locator(".messagelist .success")).to_contain_text("Posted 9.00 INR")
        second.click("input[type=submit][value='Post initial funds']")
        expect(second.locator("#repeat-warning")).to_contain_text("You already posted 9.00 INR")
    assert Transaction.objects.filter(to_account=small, amount=900).count() == 1
    assert Account.objects.get(pk=small.pk).balance == 38000150 + 900
