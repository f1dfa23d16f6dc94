"""Screenshots of the web app on the demo corpus, at desktop and phone width.

    .venv/bin/python docs/screenshots.py [--out docs/screenshots]

Runs ``listener demo --no-serve`` into a temporary data directory (real crawls
of the bundled replay server, real NLP, SQLite), serves the web app on a free
loopback port, logs in through the login form as the demo admin in Debian's
Chromium (``LISTENER_CHROMIUM``, default /usr/bin/chromium) and saves full-page
PNGs of the inbox, a post with its reply draft, the settings page (when the app
has one) and the competitor page, each 1280 and 390 px wide.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from listener.demo import run_demo  # noqa: E402
from listener.index.sqlite import SQLiteBackend  # noqa: E402
from listener.web import create_app, running  # noqa: E402
from listener.web.app import users_path  # noqa: E402
from listener.web.server import create_demo_users  # noqa: E402
from listener.web.settings import web_settings  # noqa: E402

CHROMIUM = os.environ.get("LISTENER_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
SCREENS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots", help="where the PNGs go")
    out = parser.parse_args().out
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("docs/screenshots.py needs the playwright package (pip install playwright)", file=sys.stderr)
        return 2
    if not Path(CHROMIUM).exists():
        print(f"no Chromium at {CHROMIUM} (apt-get install chromium, or set LISTENER_CHROMIUM)", file=sys.stderr)
        return 2
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="listener-screenshots-") as tmp:
        config = run_demo(Path(tmp) / "demo", echo=lambda line: None)
        settings = web_settings(config)
        users = {role: (name, password) for name, role, password in create_demo_users(users_path(config, settings))}
        config_file = Path(tmp) / "listener.yaml"  # a copy the settings page may edit
        shutil.copy(ROOT / "config" / "demo.yaml", config_file)
        with SQLiteBackend(config.data_path(config.index.path)) as backend, \
                running(create_app(config, backend, config_file=config_file)) as url, \
                sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            for kind, screen in SCREENS.items():
                for saved in shoot(browser, url, users["admin"], screen, out, kind):
                    print(saved)
            browser.close()
    return 0


def shoot(browser, url: str, user: tuple[str, str], screen: dict, out: Path, kind: str):
    """The pages as a Spanish team sees them on that screen (what fits on it, not the whole page)."""
    context = browser.new_context(base_url=url, viewport=screen, locale="es-ES")
    page = context.new_page()
    page.goto("/login")
    page.locator("input[name=username]").fill(user[0])
    page.locator("input[name=password]").fill(user[1])
    page.locator("form button.primary").click()
    page.wait_for_url("**/inbox")

    def save(name: str) -> Path:
        path = out / f"{name}-{kind}.png"
        page.screenshot(path=str(path))
        return path

    yield save("inbox")
    page.locator(".rows .row a.text").first.click()
    page.locator("#reply").wait_for()
    yield save("post")
    if page.goto("/settings").status != 404:
        yield save("settings")
    else:
        print("no /settings page in this app: skipped", file=sys.stderr)
    page.goto("/gaps")
    yield save("gaps")
    context.close()


if __name__ == "__main__":
    sys.exit(main())
