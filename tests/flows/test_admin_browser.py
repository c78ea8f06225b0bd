"""The admin in a real browser (Debian's Chromium driven by Playwright) against a live server.

Skipped when /usr/bin/chromium is missing, unless BROWSER_TESTS=required (as in .ci/run), which
turns the skip into a failure. Database work happens before the browser starts or after it has
stopped: Playwright's sync API keeps an event loop in this thread, where Django refuses ORM calls.
Screenshots go to test-artifacts/."""

import os
import re
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect, sync_playwright

from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"
FUNDING_PATH = "/admin/transactions/transaction/initial-funds/"


@pytest.fixture(autouse=True)
def _chromium_present():
    if CHROMIUM.exists():
        return
    message = f"{CHROMIUM} is missing: apt-get install -y chromium"
    if os.environ.get("BROWSER_TESTS") == "required":
        pytest.fail(message)
    pytest.skip(message)


@contextmanager
def _browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield playwright, browser
        finally:
            browser.close()


def _log_in(browser, base_url: str, user):
    page = browser.new_page(base_url=base_url)
    page.goto("/admin/login/")
    page.fill("#id_username", user.email)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#site-name")).to_be_visible()
    expect(page).to_have_url(f"{base_url}/admin/")
    return page


@pytest.fixture
def staff(make_user):
    return make_user(is_staff=True)


def test_system_user_posts_initial_funds_from_the_admin_and_the_api_shows_them(
    live_server, system_user, make_user, make_account
):
    customer = make_user(email="customer@example.com")
    account = make_account(customer)
    ARTIFACTS.mkdir(exist_ok=True)
    with _browser() as (playwright, browser):
        page = _log_in(browser, live_server.url, system_user)
        page.locator("#content-main a[href='/admin/transactions/transaction/']").first.click()
        page.click("text=Post initial funds")
        expect(page).to_have_url(f"{live_server.url}{FUNDING_PATH}")

        # The account picker searches by owner email (select2, as Django's autocomplete).
        page.click(".field-account .select2-selection")
        page.fill(".select2-search__field", "customer@")
        page.click(f".select2-results__option:has-text('{account.id}')")
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
        }
        api.dispose()
    account.refresh_from_db()
    assert account.balance == 75025


def test_a_ledger_entry_page_offers_no_way_to_change_or_delete_it(
    live_server, system_user, user, make_account, fund
):
    tx = fund(make_account(user), "12.00")
    entry = tx.entries.order_by("id").first()
    with _browser() as (_, browser):
        page = _log_in(browser, live_server.url, system_user)
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
    with _browser() as (_, browser):
        page = _log_in(browser, live_server.url, staff)
        page.goto("/admin/transactions/transaction/")
        expect(page.locator("#changelist")).to_be_visible()
        expect(page.locator("text=Post initial funds")).to_have_count(0)
        refused = page.goto(FUNDING_PATH)
        assert refused.status == 403
        expect(page.locator("#id_amount")).to_have_count(0)
