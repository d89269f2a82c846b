"""What a person sees in Open WebUI 0.12.4, checked in a real browser: Debian's Chromium driven
headless by Playwright (the system browser; Playwright's own are never downloaded) against the
real server of conftest's `server` fixture. The test logs in through the login form, sends
prompts that make the fake model call the Tool, and asserts on the rendered page:

- the Tool's block is as high as its content, folded and unfolded;
- its text is readable (WCAG contrast from the computed colours) in Open WebUI's light and dark
  themes, each with the computer set to the opposite colour scheme too;
- a timeout gets a red cross, a good run a green check;
- the picture is shown inline and every file link answers the logged-in user;
- the Action's button has its icon, appends its output and leaves the reply's status line be.

Screenshots of each case go to tests/open-webui/out/browser/ (or $NESTBOX_OWUI_SCREENSHOTS).
$NESTBOX_CHROMIUM names another Chromium (default /usr/bin/chromium)."""

import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, ElementHandle, Frame, Page, sync_playwright

from conftest import ACTION_NAME, HERE, TOOL_ID
from owui_server import OpenWebUI

pytestmark = pytest.mark.server

CHROMIUM = os.environ.get("NESTBOX_CHROMIUM", "/usr/bin/chromium")
OUT = Path(os.environ.get("NESTBOX_OWUI_SCREENSHOTS") or HERE / "out" / "browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
EMAIL, PASSWORD = "admin@example.com", "pw-admin"  # conftest's server signs up this admin
WAIT = 120.0  # seconds to wait for something that should happen (a condition, not a timing)
# WCAG 2 AA for normal text.
READABLE = 4.5


def wait_for(what: str, check: Callable[[], object], timeout: float = WAIT) -> object:
    """Poll `check` until it returns something truthy; fail naming `what` otherwise."""
    deadline, last = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        try:
            value = check()
        except Exception as e:  # noqa: BLE001 - the page may be mid-render; try again
            value, last = None, e
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"waited {timeout:.0f} s for {what}; last error: {last}")


@pytest.fixture(scope="module")
def context() -> Iterator[BrowserContext]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"no Chromium at {CHROMIUM}: tests/open-webui/run.sh installs it")
    OUT.mkdir(parents=True, exist_ok=True)
    profile = tempfile.mkdtemp(prefix="nestbox-chromium-")
    try:
        with sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                profile,
                executable_path=CHROMIUM,
                headless=True,
                args=FLAGS,
                viewport={"width": 1200, "height": 1000},
            )
            try:
                yield context
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def page(context: BrowserContext, server: OpenWebUI) -> Page:
    """A page logged in through Open WebUI's own login form."""
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(server.base + "/auth")
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.press("#password", "Enter")
    page.wait_for_selector("#chat-input")
    dismiss_dialogs(page)
    return page


def dismiss_dialogs(page: Page) -> None:
    """Close what Open WebUI opens over a new session (its "what's new" notes, whose Close
    button records that this admin has seen them)."""
    for _ in range(5):
        dialog = page.locator("div[role=dialog]")
        if dialog.count() == 0:
            return
        close = dialog.locator("button[aria-label=Close]")
        if close.count():
            close.first.click()
        else:
            page.keyboard.press("Escape")
        page.wait_for_timeout(300)
    raise AssertionError("a dialog stays open over the chat")


def send(page: Page, server: OpenWebUI, prompt: str) -> None:
    """Start a new chat with the fake model and the Tool, send `prompt`, wait for the reply."""
    page.goto(f"{server.base}/?models=fake-model&tool-ids={TOOL_ID}")
    page.wait_for_selector("#chat-input")
    dismiss_dialogs(page)
    page.click("#chat-input")
    page.keyboard.type(prompt)
    page.keyboard.press("Enter")
    page.wait_for_selector(".chat-assistant")
    wait_for("the tool call to finish", lambda: tool_mark(page) != "running")
    wait_for("the chat's address", lambda: "/c/" in page.url)


def reply(page: Page):
    return page.locator(".chat-assistant").last


def tool_mark(page: Page) -> str:
    """What the tool call's status icon shows: failed (red cross), ok (green check) or running."""
    call = reply(page).locator("[role=button]", has_text="run_python_code").first
    classes = call.evaluate("el => [...el.querySelectorAll('div')].map(d => d.className).join(' ')")
    if "text-red-500" in classes:
        return "failed"
    if "text-emerald-500" in classes:
        return "ok"
    return "running"


def block(page: Page) -> tuple[ElementHandle, Frame]:
    """The Tool's block: the iframe element and its document."""
    element = reply(page).locator("iframe").first.element_handle()
    frame = element.content_frame()
    assert frame is not None
    frame.wait_for_selector("body")
    return element, frame


def heights(page: Page) -> tuple[float, float, float]:
    """The frame's height on the page, its content's (the body's) and its document's scroll
    height."""
    element, frame = block(page)
    body = frame.evaluate("Math.ceil(document.body.getBoundingClientRect().height)")
    scroll = frame.evaluate("document.documentElement.scrollHeight")
    return element.bounding_box()["height"], body, scroll


def fits(page: Page) -> tuple[float, float, float] | None:
    seen = heights(page)
    frame, body, scroll = seen
    return seen if abs(frame - body) <= 2 and scroll <= frame + 1 else None


def shot(page: Page, name: str) -> None:
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)


# ---- colours -----------------------------------------------------------------------------

# Per element: its text colour and every background from it up to the document's root, as
# sRGB + alpha (a 1x1 canvas turns any CSS colour, oklch included, into sRGB); and the
# root's colour scheme (Chromium paints an opaque backdrop under a frame whose colour scheme
# differs from its <iframe> element's).
_LAYERS_JS = """
(el) => {
  const cv = document.createElement('canvas'); cv.width = cv.height = 1;
  const cx = cv.getContext('2d', {willReadFrequently: true});
  const rgba = (c) => { cx.clearRect(0, 0, 1, 1); cx.fillStyle = '#000'; cx.fillStyle = c;
    cx.fillRect(0, 0, 1, 1); const d = cx.getImageData(0, 0, 1, 1).data;
    return [d[0], d[1], d[2], d[3] / 255]; };
  const layers = [];
  for (let e = el; e; e = e.parentElement) layers.push(rgba(getComputedStyle(e).backgroundColor));
  return {color: rgba(getComputedStyle(el).color), layers,
          scheme: getComputedStyle(document.documentElement).colorScheme,
          own: getComputedStyle(el).colorScheme};
}
"""


def _dark_scheme(scheme: str) -> bool:
    return scheme.split()[:1] == ["dark"]


def _over(top: list[float], under: tuple[float, float, float]) -> tuple[float, float, float]:
    a = top[3]
    return tuple(a * t + (1 - a) * u for t, u in zip(top[:3], under, strict=True))


def _luminance(rgb: tuple[float, float, float]) -> float:
    def channel(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def text_contrasts(page: Page) -> dict[str, float]:
    """The contrast ratio of each kind of text in the block against what is drawn behind it
    (the block's own backgrounds over the page's)."""
    element, frame = block(page)
    outside = element.evaluate(_LAYERS_JS)
    base = (255.0, 255.0, 255.0)
    for layer in reversed(outside["layers"]):
        base = _over(layer, base)
    out = {}
    for selector in ("body", "summary", "pre", "h4", "a"):
        if frame.query_selector(selector) is None:
            continue
        inside = frame.eval_on_selector(selector, _LAYERS_JS)
        under = base
        if _dark_scheme(inside["scheme"]) != _dark_scheme(outside["own"]):
            under = (18.0, 18.0, 18.0) if _dark_scheme(inside["scheme"]) else (255.0,) * 3
        for layer in reversed(inside["layers"]):
            under = _over(layer, under)
        out[selector] = round(contrast(_over(inside["color"], under), under), 2)
    return out


# ---- the tests -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def table_chat(page: Page, server: OpenWebUI) -> str:
    """A chat in which the model ran TABLE_CODE (a table, a CSV, a note, a picture)."""
    send(page, server, "show a table")
    wait_for("the model's answer", lambda: "The tool ran." in reply(page).inner_text())
    return page.url


def open_chat(page: Page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector(".chat-assistant iframe")
    dismiss_dialogs(page)


def test_block_height_follows_its_content(page: Page, table_chat: str) -> None:
    open_chat(page, table_chat)
    folded = wait_for("the folded block to fit its content", lambda: fits(page))
    assert folded[0] != 150, f"the frame kept its default height: {folded}"
    shot(page, "block-folded")
    _, frame = block(page)
    frame.click("summary")  # unfold the code
    unfolded = wait_for(
        "the unfolded block to grow to its content",
        lambda: (h := fits(page)) and h[0] > folded[0] + 40 and h,
    )
    shot(page, "block-unfolded")
    frame.click("summary")  # and fold it again
    wait_for(
        "the folded block to shrink back",
        lambda: (h := fits(page)) and abs(h[0] - folded[0]) <= 2 and h,
    )
    assert unfolded[0] > folded[0]


@pytest.mark.parametrize(
    ("theme", "computer"),
    [("light", "light"), ("light", "dark"), ("dark", "dark"), ("dark", "light")],
)
def test_block_is_readable_in_every_theme(
    page: Page, table_chat: str, theme: str, computer: str
) -> None:
    page.emulate_media(color_scheme=computer)
    try:
        page.evaluate("theme => localStorage.setItem('theme', theme)", theme)
        open_chat(page, table_chat)
        is_dark = page.evaluate("document.documentElement.classList.contains('dark')")
        assert is_dark == (theme == "dark"), "Open WebUI did not take the theme"
        _, frame = block(page)
        frame.click("summary")  # the code too
        ratios = wait_for("the block's colours", lambda: text_contrasts(page))
        shot(page, f"theme-{theme}-computer-{computer}")
        poor = {k: v for k, v in ratios.items() if v < READABLE}
        assert not poor, f"hard to read in the {theme} theme on a {computer} computer: {ratios}"
    finally:
        page.evaluate("localStorage.setItem('theme', 'light')")
        page.emulate_media(color_scheme="light")


def test_picture_inline_and_file_links_reachable(page: Page, table_chat: str) -> None:
    open_chat(page, table_chat)
    picture = reply(page).locator("img[src*='bars.png']").first
    wait_for("the picture to load", lambda: picture.evaluate("i => i.naturalWidth") == 60)
    _, frame = block(page)
    links = frame.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
    names = sorted(re.sub(r".*/", "", link) for link in links)
    assert names == ["bars.png", "notes.txt", "temps.csv"], links
    for link in links:
        status = page.evaluate(
            "async url => (await fetch(url, {credentials: 'include'})).status", link
        )
        assert status == 200, (link, status)
    # The short text files are shown in the block as well as linked.
    text = frame.inner_text("body")
    assert "Cairo,25" in text and "warmest: Cairo" in text
    assert tool_mark(page) == "ok"
    shot(page, "files-and-picture")


def test_timeout_gets_a_red_cross(page: Page, server: OpenWebUI) -> None:
    path = f"/api/v1/tools/id/{TOOL_ID}/valves/user/update"
    server.api("POST", path, {"MAX_RUNTIME_SECONDS": 2})
    try:
        send(page, server, "run forever")
    finally:
        server.api("POST", path, {"MAX_RUNTIME_SECONDS": 0})
    assert tool_mark(page) == "failed"
    status = reply(page).locator(".status-description").first.inner_text()
    assert status.startswith("Timed out"), status
    shot(page, "timeout")
    # What the model got, as "View Result" shows it: the text itself, not escaped JSON.
    reply(page).locator("[role=button]", has_text="run_python_code").first.click()
    shown = wait_for(
        "the tool's result", lambda: reply(page).get_by_text("status: TIMEOUT").first.inner_text()
    )
    assert "Error: Timed out" in shown or "status: TIMEOUT" in shown, shown
    assert "storage_path" not in reply(page).inner_text()
    shot(page, "timeout-result")


def action_button(page: Page):
    """The Action's button in the last reply's row of buttons (with Open WebUI's own)."""
    reply(page).hover()
    return page.get_by_role("button", name=ACTION_NAME, exact=True).last


def test_action_button_has_its_icon(page: Page, table_chat: str) -> None:
    open_chat(page, table_chat)
    icon = action_button(page).locator("img").get_attribute("src", timeout=10_000)
    assert icon and icon.startswith("data:image/svg+xml"), icon
    shot(page, "action-button")


def test_action_appends_and_keeps_the_status(
    page: Page, server: OpenWebUI, table_chat: str
) -> None:
    open_chat(page, table_chat)
    chat_id = table_chat.rstrip("/").rsplit("/", 1)[-1]

    def stored() -> dict:
        history = server.api("GET", f"/api/v1/chats/{chat_id}")["chat"]["history"]
        return history["messages"][history["currentId"]]

    before = stored()
    status_line = reply(page).locator(".status-description").first
    shown_before = status_line.inner_text()
    assert shown_before.startswith("Python code ran successfully"), shown_before
    action_button(page).click()
    wait_for(
        "the action's output in the reply",
        lambda: "from the action 45" in reply(page).inner_text(),
    )
    after = wait_for(
        "the appended output to be stored",
        lambda: "from the action 45" in stored()["content"] and stored(),
    )
    shot(page, "action-done")
    assert status_line.inner_text() == shown_before
    assert after["statusHistory"] == before["statusHistory"]
    page.reload()
    page.wait_for_selector(".chat-assistant")
    wait_for("the reply after reloading", lambda: "from the action 45" in reply(page).inner_text())
    assert reply(page).locator(".status-description").first.inner_text() == shown_before
