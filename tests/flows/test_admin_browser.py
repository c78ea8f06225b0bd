"""The admin in a real browser (Debian's Chromium driven by Playwright) against a live server.

Skipped when /usr/bin/chromium is missing, unless BROWSER_TESTS=required (as in .ci/run), which
turns the skip into a failure. Screenshots go to test-artifacts/."""

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.flows.browser import ARTIFACTS, FUNDING_PATH, chromium_browser, log_in, pick_account

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("chromium"),
]


@pytest.fixture
def staff(make_user):
    return make_user(is_staff=True)


def test_system_user_posts_initial_funds_from_the_admin_and_the_api_shows_them(
    live_server, system_user, make_user, make_account
):
    customer = make_user(email="customer@example.com")
    account = make_account(customer)
    with chromium_browser() as (playwright, browser):
        page = log_in(browser, live_server.url, system_user)
        page.locator("#content-main a[href='/admin/transactions/transaction/']").first.click()
        page.click("text=Post initial funds")
        expect(page).to_have_url(f"{live_server.url}{FUNDING_PATH}")

        # The account picker searches by owner email (select2, as Django's autocomplete).
        pick_account(page, "customer@", str(account.id)[:8])
        page.fill("#id_amount", "750.25")
        expect(page.locator("#id_idempotency_key")).to_have_value(re.compile(r"^admin-"))
        page.screenshot(path=ARTIFACTS / "admin-funding-page.png", full_page=True)

        page.click("input[type=submit][value='Post initial funds']")
        success = page.locator(".messagelist .success")
        expect(success).to_contain_text(f"Posted 750.25 INR to account {account.id}")
        page.screenshot(path=ARTIFACTS / "admin-funding-result.png", full_page=True)
        # The admin's stylesheet was served: the header has its dark background, not the default.
        header_color = page.eval_on_selector("#header", "e => getComputedStyle(e).backgroundColor")
        assert header_color != "rgba(0, 0, 0, 0)"

        api = playwright.request.new_context(base_url=live_server.url)
        login = api.post("/api/auth/login", data={"email": customer.email, "password": PASSWORD})
        assert login.status == 200
        token = login.json()["token"]
        balance = api.get(
            f"/api/accounts/balance/{account.id}", headers={"Authorization": f"Bearer {token}"}
        )
        assert balance.status == 200
        assert balance.json() == {
            "accountId": str(account.id),
            "balance": "750.25",
            "currency": "INR",
            "held": "0.00",
            "available": "750.25",
        }
        api.dispose()
    account.refresh_from_db()
    assert account.balance == 75025


def test_a_ledger_entry_page_offers_no_way_to_change_or_delete_it(
    live_server, system_user, user, make_account, fund
):
    tx = fund(make_account(user), "12.00")
    entry = tx.entries.order_by("id").first()
    with chromium_browser() as (_, browser):
        page = log_in(browser, live_server.url, system_user)
        page.goto("/admin/ledger/ledgerentry/")
        expect(page.locator("#action-toggle")).to_have_count(0)
        expect(page.locator("a.addlink")).to_have_count(0)
        page.click(f"#result_list a[href$='/ledger/ledgerentry/{entry.id}/change/']")
        expect(page.locator("#content h2, #content h1").first).to_be_visible()
        form = page.locator("#ledgerentry_form")
        expect(form).to_contain_text("12.00 INR")
        expect(form.locator("input:not([type=hidden]), select, textarea")).to_have_count(0)
        expect(page.locator("input[name=_save], input[name=_continue]")).to_have_count(0)
        expect(page.locator("a.deletelink")).to_have_count(0)
        refused = page.goto(f"/admin/ledger/ledgerentry/{entry.id}/delete/")
        assert refused.status == 403
    assert tx.entries.count() == 2


def test_staff_who_is_not_a_system_user_cannot_reach_the_funding_page(live_server, staff):
    with chromium_browser() as (_, browser):
        page = log_in(browser, live_server.url, staff)
        page.goto("/admin/transactions/transaction/")
        expect(page.locator("#changelist")).to_be_visible()
        expect(page.locator("text=Post initial funds")).to_have_count(0)
        refused = page.goto(FUNDING_PATH)
        assert refused.status == 403
        expect(page.locator("#id_amount")).to_have_count(0)
