"""What every benchmark shares: where the data is, the machine line, and BENCHMARKS.md sections."""

import os
import platform
import re
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
REPORT = ROOT / "BENCHMARKS.md"
REPORT_HEADING = "# seoga benchmarks\n"


def machine_line() -> str:
    """The machine, the date and the load average when the run started."""
    load = os.getloadavg()[0]
    return (
        f"{platform.platform()}, {os.cpu_count()} cpus, Python {platform.python_version()}; "
        f"{date.today().isoformat()}; load average {load:.2f} at start"
    )


def write_section(heading: str, body: str) -> None:
    """Replace the section under `heading` in BENCHMARKS.md, leaving the others as they are."""
    section = f"{heading}\n{body.rstrip()}\n"
    text = REPORT.read_text(encoding="utf-8") if REPORT.exists() else REPORT_HEADING
    pattern = re.compile(rf"^{re.escape(heading)}\n.*?(?=^## |\Z)", re.DOTALL | re.MULTILINE)
    if pattern.search(text):
        text = pattern.sub(lambda _: section + "\n", text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    REPORT.write_text(text.rstrip("\n") + "\n", encoding="utf-8")
