"""scripts/setup.sh keeps apt from starting services only while it installs, and cleans up after itself.

The script runs for real in a copy of the repository layout, with the system commands it calls (id,
dpkg-query, apt-get, python3, the venv's pip) replaced by small scripts that record what they saw, and
policy-rc.d pointed into the temporary directory (INTAKE_POLICY_RC_D).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

SETUP = Path(__file__).resolve().parents[2] / "scripts" / "setup.sh"


@dataclass
class Host:
    root: Path
    bin: Path
    policy: Path
    seen: Path  # what the fake apt-get saw of policy-rc.d while installing

    def env(self) -> dict[str, str]:
        return {"PATH": f"{self.bin}:/usr/bin:/bin", "INTAKE_POLICY_RC_D": str(self.policy), "HOME": str(self.root)}

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", str(self.root / "scripts" / "setup.sh"), *args],
            env=self.env(), capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip


def _command(path: Path, body: str) -> None:
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)


def _host(tmp_path: Path, apt_exit: int = 0) -> Host:
    root = tmp_path / "repo"
    (root / "scripts").mkdir(parents=True)
    shutil.copy(SETUP, root / "scripts" / "setup.sh")
    venv_bin = root / ".venv" / "bin"
    venv_bin.mkdir(parents=True)
    _command(venv_bin / "python", "exit 0")
    _command(venv_bin / "pip", "exit 0")
    fake = tmp_path / "bin"
    fake.mkdir()
    host = Host(root, fake, tmp_path / "policy-rc.d", tmp_path / "apt-saw")
    _command(fake / "id", "echo 0")  # as root
    _command(fake / "dpkg-query", "exit 1")  # nothing installed yet
    _command(fake / "python3", "exit 0")
    _command(
        fake / "apt-get",
        f'[ "$1" = install ] || exit 0\n'
        f'if [ -x "{host.policy}" ]; then "{host.policy}"; echo "policy exit $?"; else echo absent; fi'
        f' > "{host.seen}"\n'
        f"exit {apt_exit}",
    )
    return host


def test_policy_is_in_place_during_install_and_gone_after(tmp_path: Path) -> None:
    host = _host(tmp_path)
    result = host.run("--test")
    assert result.returncode == 0, result.stderr
    assert host.seen.read_text().strip() == "policy exit 101"  # services were held back while installing
    assert not host.policy.exists()


def test_policy_is_removed_when_install_fails(tmp_path: Path) -> None:
    host = _host(tmp_path, apt_exit=100)
    result = host.run("--test")
    assert result.returncode == 100
    assert host.seen.read_text().strip() == "policy exit 101"
    assert not host.policy.exists()


def test_policy_is_removed_on_ctrl_c(tmp_path: Path) -> None:
    host = _host(tmp_path)
    _command(host.bin / "apt-get", f'[ "$1" = install ] && {{ touch "{host.seen}"; sleep 60; }}\nexit 0')
    process = subprocess.Popen(
        ["bash", str(host.root / "scripts" / "setup.sh"), "--test"], env=host.env(), start_new_session=True
    )
    try:
        deadline = time.monotonic() + 30
        while not host.seen.exists():  # apt-get is running
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
        assert host.policy.exists()
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C sends: the whole foreground process group
        assert process.wait(timeout=30) == 130
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert not host.policy.exists()


def test_a_policy_the_host_already_had_is_left_alone(tmp_path: Path) -> None:
    host = _host(tmp_path)
    host.policy.write_text("#!/bin/sh\n# the administrator's own\nexit 101\n")
    host.policy.chmod(0o755)
    result = host.run("--test")
    assert result.returncode == 0, result.stderr
    assert host.policy.read_text() == "#!/bin/sh\n# the administrator's own\nexit 101\n"


def test_runtime_install_holds_no_service_back(tmp_path: Path) -> None:
    host = _host(tmp_path)
    result = host.run()
    assert result.returncode == 0, result.stderr
    assert host.seen.read_text().strip() == "absent"
    assert not host.policy.exists()


def test_without_root_no_system_package_and_no_policy(tmp_path: Path) -> None:
    host = _host(tmp_path)
    _command(host.bin / "id", "echo 1000")
    result = host.run("--test")
    assert result.returncode == 0, result.stderr
    assert not host.seen.exists()
    assert not host.policy.exists()
