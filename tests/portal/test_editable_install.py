"""`make setup` installs the project in editable mode without setuptools' warning block."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("portal", "provisioning", "vpnpanel", "licensing")
PIP = [sys.executable, "-m", "pip"]


def _copy_project(target: Path) -> Path:
    target.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO_ROOT / name, target / name)
    for package in PACKAGES:
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
        shutil.copytree(REPO_ROOT / package, target / package, ignore=ignore)
    return target


def test_the_editable_install_prints_no_warning_and_imports_from_the_checkout(tmp_path):
    project = _copy_project(tmp_path / "project")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"

    install = subprocess.run(
        [*PIP, "--python", str(python), "install", "--quiet", "--no-deps", "--editable", project],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if "No matching distribution found for setuptools" in install.stderr:
        pytest.skip("no package index to build the editable install with")
    found = subprocess.run(
        [str(python), "-c", "import importlib.util as u; print(u.find_spec('vpnpanel').origin)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )

    assert install.returncode == 0, install.stderr
    assert "Editable install" not in install.stderr
    assert "!!" not in install.stderr
    assert found.stdout.strip() == str(project / "vpnpanel" / "__init__.py")
