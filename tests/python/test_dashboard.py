"""The dashboard in a real browser: start `streamlit run kpi_tooling/serving/dashboard.py` on a
copy of the built warehouse, load it in headless Chromium (Debian's chromium + chromium-driver,
installed here when missing), take a screenshot and check that the page shows the warehouse's
own KPI values, no error, and holds no lock on the file it reads."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from conftest import BIN, ROOT

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOT = ROOT / "target" / "dashboard.png"


def ensure_chromium() -> None:
    """Install Debian's chromium and chromium-driver when missing (root only); outside CI a
    machine that cannot install them skips with the reason, under CI=true it fails."""
    if CHROMIUM.exists() and CHROMEDRIVER.exists():
        return
    reason = ""
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        reason = "chromium is missing and apt-get (as root) is not available to install it"
    else:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for cmd in (
            ["apt-get", "update", "-qq"],
            ["apt-get", "install", "-y", "-qq", "chromium", "chromium-driver"],
        ):
            done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                reason = f"{' '.join(cmd)} failed: {done.stderr[-500:]}"
                break
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def served(module_warehouse_copy: Path) -> Path:
    """A copy of the build standing in for the served file."""
    return module_warehouse_copy


@pytest.fixture(scope="module")
def dashboard(served: Path) -> Iterator[str]:
    port = free_port()
    log = served.parent / "streamlit.log"
    with log.open("w") as log_file:
        proc = subprocess.Popen(
            [
                str(BIN / "streamlit"),
                "run",
                str(ROOT / "kpi_tooling" / "serving" / "dashboard.py"),
                "--server.headless",
                "true",
                "--server.port",
                str(port),
                "--browser.gatherUsageStats",
                "false",
                "--",
                "--db",
                str(served),
            ],
            cwd=ROOT,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.read() == b"ok":
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"streamlit did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def expected_tiles(served: Path) -> dict[str, str]:
    """The latest value of each share KPI of the scorecard, as the tiles format it."""
    con = duckdb.connect(str(served), read_only=True)
    try:
        rows = con.execute(
            "select kpi_id, latest_value from serving.kpi_scorecard "
            "where unit = 'share' and latest_value is not null"
        ).fetchall()
    finally:
        con.close()
    return {kpi_id: f"{value:.1%}" for kpi_id, value in rows}


def test_dashboard_shows_warehouse_kpis_in_chromium(dashboard: str, served: Path) -> None:
    ensure_chromium()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    options.add_argument("--window-size=1400,2300")
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        driver.get(dashboard)
        expected = expected_tiles(served)
        shown: dict[str, str] = {}
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            tiles = driver.find_elements("css selector", ".kpi-value")
            shown = {t.get_attribute("data-kpi"): t.text for t in tiles}
            charts = driver.find_elements("css selector", ".vega-embed")
            if len(shown) >= len(expected) and len(charts) >= 2:
                break
            time.sleep(1)
        time.sleep(2)  # let the charts finish drawing before the screenshot
        SCREENSHOT.parent.mkdir(exist_ok=True)
        driver.save_screenshot(str(SCREENSHOT))
        body = driver.find_element("tag name", "body").text
    finally:
        driver.quit()

    assert "Traceback" not in body and "Exception" not in body, body[:2000]
    assert "Output KPIs" in body
    assert len(expected) >= 10
    for kpi_id, text in expected.items():
        assert shown.get(kpi_id) == text, (kpi_id, shown.get(kpi_id), text)
    assert SCREENSHOT.stat().st_size > 50_000  # a rendered page, not a blank one
    print(f"\n{len(shown)} KPI tiles, screenshot {SCREENSHOT}")


def test_open_dashboard_does_not_hold_the_served_file(dashboard: str, served: Path) -> None:
    """Each query opens and closes a read-only connection, so a writer (the next publish, or
    a build pointed at this file) can open it while the dashboard is up."""
    with urllib.request.urlopen(dashboard, timeout=10) as response:
        assert response.status == 200
    con = duckdb.connect(str(served))  # read-write: fails if another process holds the file
    try:
        assert con.execute("select count(*) from serving.kpi_scorecard").fetchone()[0] > 0
    finally:
        con.close()
