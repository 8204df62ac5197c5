"""End to end in a real headless Chromium (Debian's chromium + chromium-driver through Selenium): upload the
bundled sample, review a line in the page, download the workbook and find the review in its figures."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

selenium = pytest.importorskip("selenium")
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM = "/usr/bin/chromium"
SAMPLE = Path(__file__).resolve().parent.parent / "workbooks" / "116年度歲出預算明細.xlsx"
SHOTS = Path("/tmp")

pytestmark = pytest.mark.skipif(not (Path(CHROMEDRIVER).exists() and Path(CHROMIUM).exists()),
                                reason="Debian's chromium and chromium-driver are not installed")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    import uvicorn

    from budget.web import WebSettings, create_app

    port = _free_port()
    app = create_app(WebSettings(data=tmp_path / "data", port=port))
    config = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=config.run, daemon=True)
    thread.start()
    for _ in range(200):
        if config.started:
            break
        time.sleep(0.05)
    assert config.started, "the server did not start"
    yield f"http://127.0.0.1:{port}"
    config.should_exit = True
    thread.join(timeout=30)


@pytest.fixture
def browser(tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
                 f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1400,1000", "--lang=zh-TW"):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.downloads = downloads  # type: ignore[attr-defined]
    driver.set_page_load_timeout(120)
    yield driver
    driver.quit()


def _wait(driver, condition, timeout: float = 120):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(condition)


def _shot(driver, name: str, full: bool = True) -> None:
    if full:  # make the window as tall as the page so the screenshot shows all of it
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(1400, min(max(height, 800), 6000))
    driver.save_screenshot(str(SHOTS / f"gender-budget-web-{name}.png"))
    driver.set_window_size(1400, 1000)


def test_upload_review_in_the_browser_and_download_the_reviewed_workbook(server, browser):
    import openpyxl
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    from budget.pipeline import run_classify
    from budget.rules import load_rules

    # what the command line decides for the sample: the page must show the same, then follow the review
    run = run_classify([SAMPLE], load_rules(), write=False)
    (line_index,) = [i for i, line in enumerate(run.lines) if "性別影響分析、網站改版" in line.description]
    assert run.decisions[line_index].status == "review"
    before, pending = run.totals.gender_total, run.totals.status_lines["review"]
    after = before + 70000

    browser.get(server + "/")
    browser.find_element(By.LINK_TEXT, "預設工作區").click()
    _wait(browser, lambda d: d.find_elements(By.ID, "files"))
    browser.find_element(By.ID, "files").send_keys(str(SAMPLE))
    _wait(browser, lambda d: "116年度歲出預算明細.xlsx" in d.find_element(By.ID, "chosen").text)
    _shot(browser, "1-classify")
    browser.find_element(By.CSS_SELECTOR, "#classify-form button.primary").click()
    _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, '[data-fig="gender_total"]'))
    figure = browser.find_element(By.CSS_SELECTOR, '[data-fig="gender_total"]')
    assert figure.text == f"{before:,}"
    assert browser.find_element(By.CSS_SELECTOR, '[data-fig="review_lines"]').text == str(pending)
    _shot(browser, "2-results")

    # review the 性別影響分析 line of the queue: 性別影響評估, 70,000 元 of its 175,000
    row = browser.find_element(By.XPATH, "//tr[td[contains(., '性別影響分析、網站改版')]]")
    form = row.find_element(By.CSS_SELECTOR, "form.review")
    Select(form.find_element(By.NAME, "category")).select_by_visible_text("性別影響評估（第3類）")
    _wait(browser, lambda d: form.find_element(By.CSS_SELECTOR, ".state").text == "已儲存")
    amount = form.find_element(By.NAME, "amount")
    amount.send_keys("70000")
    form.find_element(By.NAME, "note").click()  # leaving the field saves it
    _wait(browser, lambda d: figure.text == f"{after:,}")
    assert browser.find_element(By.CSS_SELECTOR, '[data-fig="review_lines"]').text == str(pending - 1)
    assert "已覆核" in row.text and "70,000" in row.text
    _shot(browser, "3-reviewed")

    browser.find_element(By.LINK_TEXT, "明細").click()
    browser.find_element(By.NAME, "q").send_keys("性別")
    browser.find_element(By.CSS_SELECTOR, "form.search button").click()
    _wait(browser, lambda d: "共" in d.find_element(By.CSS_SELECTOR, ".pager, p.muted").text)
    _shot(browser, "4-lines")

    browser.find_element(By.LINK_TEXT, "下載").click()
    _shot(browser, "5-downloads")
    browser.find_element(By.ID, "dl-xlsx").click()
    target = browser.downloads / "116年度歲出預算明細.性別預算.xlsx"
    _wait(browser, lambda d: target.exists() and not list(browser.downloads.glob("*.crdownload")))

    book = openpyxl.load_workbook(target, data_only=True)
    detail = book["明細"]
    header = [c.value for c in detail[1]]
    reviewed = [r for r in detail.iter_rows(min_row=2, values_only=True)
                if "性別影響分析、網站改版" in str(r[header.index("說明")])]
    assert len(reviewed) == 1
    assert reviewed[0][header.index("覆核類別")] == "性別影響評估"
    assert reviewed[0][header.index("覆核計入數")] == 70000
    assert reviewed[0][header.index("性別預算數")] == 70000
    summary = [c for row in book["摘要"].iter_rows(values_only=True) for c in row]
    assert after in summary and before not in summary

    browser.get(server + "/check")
    browser.find_element(By.NAME, "text").send_keys("性別平等專案小組會議外聘委員出席費")
    browser.find_element(By.NAME, "account").send_keys("2036 按日按件計資酬金")
    browser.find_element(By.NAME, "amount").send_keys("22500")
    browser.find_element(By.CSS_SELECTOR, "form.grid button.primary").click()
    _wait(browser, lambda d: "符合" in d.find_element(By.CSS_SELECTOR, "table.lines").text)
    _shot(browser, "6-check")
    browser.get(server + "/rules")
    _shot(browser, "7-rules")
    shutil.copy(target, SHOTS / "gender-budget-web-downloaded.xlsx")
