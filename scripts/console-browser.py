#!/usr/bin/env python3
"""A real browser over `vigil serve`: headless Chromium through chromedriver
(Selenium), as a person would use the console.

Usage: console-browser.py LOGIN_LINK SCREENSHOT_DIR

Signs in with the one-time login link, loads every page and checks its
content, checks that the browser's console shows no errors (a Content
Security Policy violation is one), that no attack payload from the logs
became live markup, triages a finding through its form, and saves
screenshots (overview.png, finding.png, ...). Prints "triaged <id>" and
"browser checks passed"; exits non-zero on the first failed check.
"""

import os
import sys
import time

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait


def chromium_paths():
    for browser in ("/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if os.path.exists(browser):
            break
    else:
        sys.exit("no chromium: apt-get install chromium chromium-driver")
    driver = "/usr/bin/chromedriver"
    if not os.path.exists(driver):
        sys.exit("no chromedriver: apt-get install chromium-driver")
    return browser, driver


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def main():
    login_link, shots = sys.argv[1], sys.argv[2]
    os.makedirs(shots, exist_ok=True)
    base = login_link.split("/login")[0]
    browser, driver_path = chromium_paths()
    options = Options()
    options.binary_location = browser
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                "--disable-gpu", "--window-size=1400,1000", "--no-first-run",
                "--disable-extensions", "--disable-background-networking"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_page_load_timeout(60)
    try:
        run(driver, base, login_link, shots)
    finally:
        driver.quit()
    print("browser checks passed")


def console_errors(driver):
    return [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


def no_live_payloads(driver, where):
    # The logs' payloads must be text: no script element, no element with an
    # event handler attribute, and nothing they would have set.
    scripts = driver.find_elements(By.TAG_NAME, "script")
    check(not scripts, f"{where}: {len(scripts)} script element(s)")
    handlers = driver.execute_script(
        "return Array.from(document.querySelectorAll('*')).filter("
        "e => Array.from(e.attributes).some(a => a.name.startsWith('on'))).length")
    check(handlers == 0, f"{where}: {handlers} element(s) with an event handler")


def click_and_load(driver, element):
    # A click returns before the page it leads to may have replaced this one:
    # wait until the old document is gone and the new one has loaded.
    old_page = driver.find_element(By.TAG_NAME, "html")
    element.click()
    wait = WebDriverWait(driver, 180)
    wait.until(expected_conditions.staleness_of(old_page))
    wait.until(lambda d: d.execute_script("return document.readyState") == "complete")


def visit(driver, url, heading, where):
    driver.get(url)
    h1 = driver.find_element(By.TAG_NAME, "h1").text
    check(heading in h1, f"{where}: heading {h1!r}, expected {heading!r}")
    errors = console_errors(driver)
    check(not errors, f"{where}: browser console errors: {errors}")
    no_live_payloads(driver, where)


def run(driver, base, login_link, shots):
    # Not signed in: the sign-in page, not the console.
    driver.get(base + "/findings")
    check("This console needs its token" in driver.page_source, "a stranger sees the sign-in page")
    driver.get_log("browser")  # the 401 itself is logged as an error: clear it

    driver.get(login_link)
    check(driver.current_url.rstrip("/") == base, f"signed in at {driver.current_url}")
    visit(driver, base + "/", "Overview", "overview")
    check(driver.find_elements(By.CSS_SELECTOR, "svg.chart rect"), "the findings chart has bars")
    check("Pipeline health" in driver.page_source, "the health section")
    driver.save_screenshot(os.path.join(shots, "overview.png"))

    visit(driver, base + "/findings?from=2020-01-01&to=2030-01-01", "Findings", "findings")
    links = driver.find_elements(By.CSS_SELECTOR, "table.findings td a")
    check(links, "the findings list has findings")
    driver.save_screenshot(os.path.join(shots, "findings.png"))

    # The finding that carries the payloads: its text must show them as text.
    visit(driver, base + "/findings?rule=apigw_web_attack_payload&from=2020-01-01&to=2030-01-01",
          "Findings", "filtered findings")
    payload_link = driver.find_elements(By.CSS_SELECTOR, "table.findings td a")
    check(payload_link, "the payload's finding is listed")
    click_and_load(driver, payload_link[0])
    check("Triage" in driver.page_source, "the finding's page")
    errors = console_errors(driver)
    check(not errors, f"finding page: browser console errors: {errors}")
    no_live_payloads(driver, "finding page")
    text = driver.find_element(By.TAG_NAME, "main").text
    check("<script>alert(document.cookie)</script>" in text, "the user agent shows as text")
    finding_id = driver.current_url.rsplit("/", 1)[1]

    # Triage through the form.
    Select(driver.find_element(By.ID, "triage-select")).select_by_value("acknowledged")
    driver.find_element(By.NAME, "by").send_keys("browser")
    driver.find_element(By.NAME, "note").send_keys("triaged from the browser <i>test</i>")
    click_and_load(driver, driver.find_element(By.ID, "triage-submit"))
    status = driver.find_element(By.ID, "triage-status").text
    check(status == "acknowledged", f"status after saving: {status!r}")
    history = driver.find_element(By.CSS_SELECTOR, "ol.history").text
    check("triaged from the browser <i>test</i>" in history, f"history: {history!r}")
    driver.save_screenshot(os.path.join(shots, "finding.png"))
    print(f"triaged {finding_id}")

    # A hunt from the finding's links, run and shown.
    hunt_links = driver.find_elements(By.CSS_SELECTOR, "ul.hunt-links a")
    check(hunt_links, "the finding links to hunts")
    click_and_load(driver, hunt_links[0])
    click_and_load(driver, driver.find_element(By.ID, "run-hunt"))
    # The job's page refreshes itself until the job ends (a debug build on a
    # busy machine can take minutes).
    deadline = time.time() + 300
    while True:
        check(time.time() < deadline, "the hunt finished")
        try:
            states = driver.find_elements(By.ID, "job-state")
            if states and "Running for" not in states[0].text:
                break
        except StaleElementReferenceException:
            states = []
        time.sleep(0.5)
        if states:
            driver.refresh()
    state = driver.find_element(By.ID, "job-state").text
    check("row(s) in" in state, f"the hunt's state: {state!r}")
    check(driver.find_elements(By.CSS_SELECTOR, "table.results tbody tr"), "the hunt has rows")
    no_live_payloads(driver, "hunt results")
    driver.save_screenshot(os.path.join(shots, "hunt.png"))

    visit(driver, base + "/rules", "Rules", "rules")
    check(driver.find_elements(By.CSS_SELECTOR, "table.matrix .cell"), "the ATT&CK matrix has cells")
    driver.save_screenshot(os.path.join(shots, "rules.png"))


if __name__ == "__main__":
    main()
