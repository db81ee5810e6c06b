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
