"""Open the demo's report.html in headless Chromium: it renders, runs its own script, logs no
console error (CSP violations and script errors are console messages), and citizen text
containing markup stays text. CI installs Debian's ``chromium`` (see .ci/run)."""
import os
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from textmine.report import build_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or (
    "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (CI installs it: .ci/run)")

PAYLOAD = ("<script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned2'\">"
           "<b>粗体</b>窗口态度差")


def chromium(page: Path, profile: Path, *args: str, budget_ms: int = 3000) -> subprocess.CompletedProcess:
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
               "--enable-logging=stderr", "--v=0", f"--virtual-time-budget={budget_ms}", *args, page.as_uri()]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def console_messages(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


@pytest.fixture(scope="module")
def hostile_report(demo_run, tmp_path_factory):
    """The demo's report, rebuilt after a citizen opinion with markup was put in front."""
    _, out = demo_run
    target = tmp_path_factory.mktemp("browser") / "run"
    shutil.copytree(out, target, ignore=shutil.ignore_patterns("report.html", "charts", "notices"))
    items = pd.read_csv(target / "rectification_items.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    items.loc[0, "examples"] = PAYLOAD + "\n" + items.loc[0, "examples"]
    items.to_csv(target / "rectification_items.csv", index=False, encoding="utf-8-sig")
    return build_report(target)


def test_console_check_sees_errors(tmp_path):
    """The check below can fail: a page with a script error is reported."""
    page = tmp_path / "broken.html"
    page.write_text("<!DOCTYPE html><title>x</title><script>undefinedFunction();</script>", encoding="utf-8")
    result = chromium(page, tmp_path / "profile", "--dump-dom")
    assert any("undefinedFunction is not defined" in line for line in console_messages(result.stderr))


def test_demo_report_renders_without_console_errors(demo_run, tmp_path):
    analysis, out = demo_run
    result = chromium(out / "report.html", tmp_path / "profile", "--dump-dom")
    assert result.returncode == 0, result.stderr[-2000:]
    assert console_messages(result.stderr) == []
    dom = result.stdout
    assert '<html lang="zh-CN" data-ready="1">' in dom  # the report's script ran to the end
    offices = analysis.comments["office"].nunique()
    assert len(re.findall(r'<article class="office" id="office-\d+"', dom)) == offices
    assert f"显示 {offices} / {offices} 个单位" in dom  # the filter status, written by the script
    for chart in ("chart-theme-distribution", "chart-heatmap", "chart-satisfaction"):
        assert re.search(rf'<img src="data:image/png;base64,[^"]+" alt="[^"]+" id="{chart}"', dom), chart


def test_citizen_markup_is_shown_as_text_and_never_runs(hostile_report, tmp_path):
    result = chromium(hostile_report, tmp_path / "profile", "--dump-dom")
    assert console_messages(result.stderr) == []  # not even a blocked inline script
    dom = result.stdout
    assert "<title>群众评议意见分析报告</title>" in dom  # the payload did not set document.title
    assert "pwned" not in re.search(r"<title>(.*?)</title>", dom).group(1)
    assert dom.count("<script") == 1 and "<b>粗体</b>" not in dom and "<img src=\"x\"" not in dom
    assert "&lt;script&gt;document.title='pwned'&lt;/script&gt;&lt;img src=x onerror=" in dom


def test_screenshot(hostile_report, tmp_path):
    shot = tmp_path / "report.png"
    result = chromium(hostile_report, tmp_path / "profile", f"--screenshot={shot}", "--window-size=1280,2000")
    assert result.returncode == 0, result.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 50_000  # a rendered page, not a blank one
    keep = os.environ.get("TEXTMINE_SCREENSHOT_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / "report.png")
