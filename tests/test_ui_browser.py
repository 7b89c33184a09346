"""task=ui in a real browser: Debian's Chromium driven by Playwright (``executable_path``,
since Playwright cannot download its own browser here), headless, on the loopback app.
Screenshots land in the test's temporary folder; the README's screenshot is made the same
way (``tools/ui_screenshot.py``)."""

from __future__ import annotations

import shutil
from urllib.parse import urlparse

import pytest
from conftest import REPO

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
#: As the machine's own probe starts it: no sandbox as root, nothing fetched in the background.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not shutil.which(CHROMIUM):
        pytest.fail("the browser tests need Chromium: apt-get install chromium (.ci/run installs it)")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, ui_app):
    """A fresh page on the app; every request it makes is recorded."""
    server, _, _ = ui_app
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.requests = []
    page.on("request", lambda request: page.requests.append(request.url))
    page.goto(server.url)
    page.get_by_role("tab", name="minutes").wait_for(timeout=60_000)
    yield page
    context.close()


def _set_model(page, task: str, model: str) -> None:
    box = page.locator(f"#{task}--model input")
    box.fill(model)
    box.press("Enter")


def test_sentiment_from_the_page(page, tmp_path):
    page.get_by_role("tab", name="sentiment", exact=True).click()
    page.locator("#sentiment--text textarea").fill("What a wonderful, delightful day. I love it!")
    _set_model(page, "sentiment", "smollm2-135m")
    page.locator("#sentiment--run").click()
    label = page.locator("#sentiment--labels")
    label.wait_for(state="visible", timeout=120_000)
    page.locator("#sentiment--status").get_by_text("ok").first.wait_for(timeout=120_000)
    assert "positive" in label.inner_text()
    assert "python run.py task=sentiment" in page.locator("#sentiment--status").inner_text()
    page.screenshot(path=str(tmp_path / "sentiment.png"), full_page=True)
    assert (tmp_path / "sentiment.png").stat().st_size > 10_000
    _only_loopback(page)


def test_minutes_of_an_uploaded_meeting(page, tmp_path):
    page.get_by_role("tab", name="minutes", exact=True).click()
    upload = page.locator("#minutes--audio input[type=file]")
    upload.set_input_files(str(REPO / "examples" / "meeting" / "launch_meeting.mp3"))
    page.locator("#minutes--audio audio, #minutes--audio .waveform-container, #minutes--audio button").first.wait_for(
        timeout=60_000
    )
    page.locator("#minutes--run").click()
    text = page.locator("#minutes--text")
    text.get_by_role("heading", name="Action items").wait_for(timeout=600_000)
    minutes = text.inner_text()
    assert "Decisions" in minutes and "Next meeting" in minutes
    items = text.locator("table").inner_text()
    for owner in ("Tom", "Sarah", "James", "Maria"):  # the example meeting's action items, as the page shows them
        assert owner in items
    page.locator("#minutes--detail").get_by_text("Transcript").wait_for(timeout=10_000)
    files = page.locator("#minutes--files").inner_text().replace("\n.", ".")  # name and extension sit apart
    assert "minutes.json" in files and "minutes.md" in files and "transcript.txt" in files
    page.screenshot(path=str(tmp_path / "minutes.png"), full_page=True)
    _only_loopback(page)


def _only_loopback(page) -> None:
    """Offline: no font, script or beacon from anywhere but the app itself."""
    hosts = {urlparse(u).hostname for u in page.requests if urlparse(u).scheme in ("http", "https", "ws", "wss")}
    assert hosts <= {"127.0.0.1", "localhost"}, hosts
