"""Installing intake prints no setuptools warnings (there were 93 lines: the license as a TOML table,
rules/data outside the packages, the editable finder), and the wheel carries its data files.

Built from a copy of the sources, so the checkout gets no build/ or egg-info; pip fetches setuptools
for the isolated build from the configured index, as scripts/setup.sh does.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "README.md", "bot", "rules", "db", "templates")
# pip's own notes about the machine's index configuration are not the package's business.
_MACHINE_NOTES = re.compile(r"^WARNING: Location '.*' is ignored")


def _copy(dest: Path) -> Path:
    dest.mkdir()
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, dest / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(source, dest / name)
    return dest


def _warnings(output: str) -> list[str]:
    lines = [line for line in output.splitlines() if not _MACHINE_NOTES.match(line.strip())]
    return [line for line in lines if re.search(r"warning|deprecat", line, re.IGNORECASE)]


def test_wheel_and_editable_install_print_no_warnings(tmp_path: Path) -> None:
    src = _copy(tmp_path / "src")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    # The two builds each set up an isolated build environment: run them side by side.
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-cache-dir", "-w", str(tmp_path / "dist")]
    builds = {
        "wheel": subprocess.Popen([*pip_wheel, str(src)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True),
        "editable": subprocess.Popen(
            [str(venv / "bin" / "pip"), "install", "--no-deps", "--no-cache-dir", "-e", str(src)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        ),
    }  # fmt: skip
    for name, build in builds.items():
        output, _ = build.communicate(timeout=300)
        assert build.returncode == 0, f"{name}: {output}"
        assert _warnings(output) == [], name

    (built,) = (tmp_path / "dist").glob("intake-*.whl")
    names = set(zipfile.ZipFile(built).namelist())
    assert {"rules/data/checklist.json", "templates/digest.txt", "db/alembic.ini"} <= names
    assert "db/migrations/versions/0004_action_log.py" in names
    metadata = zipfile.ZipFile(built).read(next(n for n in names if n.endswith("METADATA"))).decode()
    assert "License-Expression: MIT" in metadata
