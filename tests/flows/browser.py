"""Driving the admin in a real browser: Debian's Chromium through Playwright's sync API.

Database work happens before the browser starts or after it has stopped: Playwright's sync API
keeps an event loop in this thread, where Django refuses ORM calls."""

from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from playwright.sync_api import expect, sync_playwright

from tests.conftest import CHROMIUM, PASSWORD

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
# The window the admin is judged in (issue 12): every list must fit it without scrolling sideways.
VIEWPORT = {"width": 1400, "height": 1000}


@contextmanager
def chromium_browser():
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield playwright, browser
        finally:
            browser.close()


def log_in(browser, base_url: str, user):
    """A page logged into the admin as `user`, 1400x1000; `page.context.new_page()` opens a
    second tab with the same login."""
    page = browser.new_context(base_url=base_url, viewport=VIEWPORT).new_page()
    page.goto("/admin/login/")
    page.fill("#id_username", user.email)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#site-name")).to_be_visible()
    expect(page).to_have_url(f"{base_url}/admin/")
    return page


def pick_account(page, term: str, option_text: str) -> None:
    """Choose an account in the funding page's picker by typing `term` into its search."""
    page.click(".field-account .select2-selection")
    page.fill(".select2-search__field", term)
    page.click(f".select2-results__option:has-text('{option_text}')")
