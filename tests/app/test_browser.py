"""Headless Debian Chromium (Selenium + /usr/bin/chromedriver) adds an entry through the page."""
from __future__ import annotations

import threading
import uuid
from pathlib import Path

import pytest
from werkzeug.serving import make_server

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1024,768")


@pytest.fixture()
def live_url(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture()
def browser(tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(20)
    yield driver
    driver.quit()


def test_form_in_a_real_browser(live_url, browser, server):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    name, address = f"Browser {uuid.uuid4().hex[:8]}", "42 Chromium Way, Debian"
    browser.get(live_url + "/")
    assert browser.title == "aurorakit entries"
    browser.find_element(By.ID, "name").send_keys(name)
    browser.find_element(By.ID, "address").send_keys(address)
    browser.find_element(By.ID, "add").click()
    row = WebDriverWait(browser, 10).until(ec.presence_of_element_located((By.CSS_SELECTOR, "tr.added")))
    assert name in row.text and address in row.text
    assert "?added=" in browser.current_url
    ARTIFACTS.mkdir(exist_ok=True)
    assert browser.save_screenshot(str(ARTIFACTS / f"app-{server.engine}.png"))


@pytest.fixture()
def attacker_url(live_url):
    """Another site (localhost vs 127.0.0.1) whose page auto-submits the app's form."""
    page = (f'<!doctype html><title>attacker</title><form method="post" action="{live_url}/">'
            '<input name="name" value="{name}"><input name="address" value="forged"></form>'
            '<script>document.forms[0].submit()</script>')

    def wsgi(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/html")])
        return [page.replace("{name}", environ["QUERY_STRING"]).encode()]

    server = make_server("127.0.0.1", 0, wsgi, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://localhost:{server.server_port}/"
    server.shutdown()
    thread.join(timeout=10)


def test_cross_site_form_post_is_refused_in_a_real_browser(attacker_url, browser, server):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    name = f"forged{uuid.uuid4().hex[:8]}"
    browser.get(attacker_url + "?" + name)
    WebDriverWait(browser, 10).until(ec.text_to_be_present_in_element((By.TAG_NAME, "body"), "refused"))
    assert "cross-origin request refused: Sec-Fetch-Site is 'cross-site'" in browser.find_element(By.TAG_NAME, "body").text
    assert server.sql("SELECT COUNT(*) FROM entries WHERE name = %s", (name,), in_app_db=True)[0][0] == 0
