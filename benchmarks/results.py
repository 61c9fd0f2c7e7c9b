"""Keep benchmarks/RESULTS.md: one section per benchmark, replaced when it runs again."""
from __future__ import annotations

import datetime as dt
import os
import platform
import re
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
HEADER = "# Benchmark results\n\nEach section is rewritten by the script named in it; figures are measured, never typed in.\n"


def machine() -> str:
    return f"{platform.node() or 'unknown host'}, {os.cpu_count()} CPUs, Python {platform.python_version()}, {platform.platform()}"


def peak_rss_mb() -> float:
    """This process's peak RSS in MB: VmHWM of /proc/self/status (``ru_maxrss`` would carry
    the parent's high-water mark over exec), else ``ru_maxrss``."""
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024
    except (OSError, StopIteration):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_section(title: str, body: str, script: str | None = None) -> None:
    """Replace (or append) the section ``## title`` of RESULTS.md with ``body``."""
    stamp = f"_Measured {dt.date.today().isoformat()} on {machine()}._"
    section = f"## {title}\n\n{stamp}\n\n{body.strip()}\n"
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else HEADER
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.S | re.M)
    text = pattern.sub(lambda m: section + "\n", text) if pattern.search(text) else text.rstrip() + "\n\n" + section
    RESULTS.write_text(text, encoding="utf-8")
