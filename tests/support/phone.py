"""A cadre's moves on the phone pages in Chromium (Playwright). Each waits, with `expect`, for
the page it leads to, so that what a test does next happens on that page."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect


def sign_in(page: Any, name: str) -> None:
    """From a loaded page: sign out if someone is signed in, then sign in as `name`; returns
    once the page after sign-in shows `name` in the top bar."""
    bar = page.locator(".bar")
    button = page.get_by_label(f"以{name}登录")
    expect(bar.or_(button)).to_be_visible()  # a cadre's page or the sign-in list
    if bar.count():
        bar.get_by_role("button", name="退出").click()
    button.click()
    expect(bar).to_contain_text(name)


def open_case(page: Any, head: str) -> None:
    """From the inbox, the case of the household whose head is `head`."""
    page.goto("/inbox")
    page.locator("#tasks a", has_text=head).click()
    expect(page).to_have_url(re.compile(r"/c/\d+"))
