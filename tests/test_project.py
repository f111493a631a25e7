"""Promises of the project as a whole: migrations complete, one CLI, no copyleft at run time,
no production start with the development secret."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import check_licences  # noqa: E402


def run(argv: list[str], **env: str | None) -> subprocess.CompletedProcess:
    """Run a command from the repository root; an env value of None removes that variable."""
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "civicloop.settings", **env}
    environment = {k: v for k, v in environment.items() if v is not None}
    return subprocess.run(
        argv, capture_output=True, text=True, timeout=120, env=environment, cwd=ROOT
    )


def civicloop_executable() -> str:
    """The console script installed beside this interpreter (the venv's), else on PATH."""
    beside = Path(sys.executable).with_name("civicloop")
    found = str(beside) if beside.exists() else shutil.which("civicloop")
    assert found, "the `civicloop` console script is not installed (pip install -e .)"
    return found


@pytest.mark.django_db
def test_models_and_migrations_agree():
    out = StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
    except SystemExit:
        pytest.fail(f"makemigrations found model changes with no migration:\n{out.getvalue()}")


def test_civicloop_help_lists_the_commands():
    result = run([civicloop_executable(), "--help"])
    assert result.returncode == 0, result.stderr
    for command in (
        "migrate",
        "serve",
        "db_worker",
        "createsuperuser",
        "demo",
        "audit",
        "token",
        "link",
        "dedupe",
        "link_files",
        "import_records",
        "match_index",
    ):
        assert f"    {command}\n" in result.stdout, f"{command} missing from civicloop --help"


def test_hyphenated_command_names_work_too():
    result = run([civicloop_executable(), "import-records", "--help"])
    assert result.returncode == 0, result.stderr
    assert "--mapping" in result.stdout


def test_serve_command_documents_its_options():
    result = run([civicloop_executable(), "serve", "--help"])
    assert result.returncode == 0, result.stderr
    for option in ("--bind", "--workers", "--threads", "--no-worker", "--no-sealer"):
        assert option in result.stdout


def test_no_runtime_dependency_is_gpl_or_agpl():
    result = run([sys.executable, str(ROOT / "scripts" / "check_licences.py")])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK: no GPL/AGPL licence" in result.stdout
    locked = check_licences.locked_packages(ROOT / "requirements" / "lock.txt")
    assert any(name.lower() == "django" for name, _ in locked)
    assert not any(name.lower() == "civicloop" for name, _ in locked)


@pytest.mark.parametrize(
    "licence",
    [
        "GPL-3.0",
        "GPL-2.0-or-later",
        "GPLv3+",
        "GNU General Public License v3 (GPLv3)",
        "OSI Approved :: GNU General Public License v2 or later (GPLv2+)",
        "AGPL-3.0-only",
        "GNU Affero General Public License v3",
    ],
)
def test_licence_check_recognises_copyleft(licence):
    assert check_licences.is_copyleft(licence)


@pytest.mark.parametrize(
    "licence",
    [
        "LGPL-3.0-only",
        "GNU Lesser General Public License v3 (LGPLv3)",
        "OSI Approved :: GNU Library or Lesser General Public License (LGPL)",
        "MIT",
        "Apache-2.0",
        "BSD-3-Clause",
        "Mozilla Public License 2.0 (MPL 2.0)",
    ],
)
def test_licence_check_allows_permissive_and_lesser(licence):
    assert not check_licences.is_copyleft(licence)


def test_licence_expressions_need_one_free_alternative():
    assert not check_licences.expression_is_copyleft("MIT OR GPL-3.0-only")
    assert check_licences.expression_is_copyleft("MIT AND GPL-3.0-only")
    assert check_licences.expression_is_copyleft("AGPL-3.0-or-later")
    assert not check_licences.expression_is_copyleft("LGPL-3.0-only")


def test_production_refuses_the_default_secret():
    result = run(
        [sys.executable, "-c", "import django; django.setup()"],
        CIVICLOOP_PRODUCTION="1",
        CIVICLOOP_SECRET_KEY=None,
    )
    assert result.returncode != 0, "settings started in production with the development secret"
    assert "ImproperlyConfigured" in result.stderr
    assert "CIVICLOOP_SECRET_KEY must be set" in result.stderr


def test_production_starts_with_a_real_secret():
    result = run(
        [sys.executable, "-c", "import django; django.setup()"],
        CIVICLOOP_PRODUCTION="1",
        CIVICLOOP_SECRET_KEY="x" * 64,
    )
    assert result.returncode == 0, result.stderr


def _pins(lock: Path) -> dict[str, str]:
    from packaging.utils import canonicalize_name

    pins = {}
    for line in lock.read_text().splitlines():
        if line.startswith("-r "):
            pins |= _pins(lock.parent / line[3:].strip())
        elif "==" in line and not line.startswith("#"):
            name, version = line.split("==", 1)
            pins[canonicalize_name(name)] = version.strip()
    return pins


@pytest.mark.parametrize(
    ("group", "lock"), [("dependencies", "lock.txt"), ("test", "test-lock.txt")]
)
def test_lock_files_pin_every_declared_dependency(group, lock):
    """A dependency added to pyproject.toml without `make lock` would be missing on a fresh machine."""
    import tomllib

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = (
        project["dependencies"]
        if group == "dependencies"
        else project["optional-dependencies"][group]
    )
    pins = _pins(ROOT / "requirements" / lock)
    for spec in declared:
        requirement = Requirement(spec)
        name = canonicalize_name(requirement.name)
        assert name in pins, (
            f"{requirement.name} is in pyproject.toml but not in {lock}: run `make lock`"
        )
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"{lock} pins {requirement.name}=={pins[name]}, outside {requirement.specifier}: run `make lock`"
        )


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_serve_runs_web_worker_and_sealer_and_stops_them_together(tmp_path):
    import re
    import signal
    import time
    import urllib.request

    env = {"CIVICLOOP_VAR_DIR": str(tmp_path), "DATABASE_URL": None}
    migrated = run([civicloop_executable(), "migrate", "--noinput", "-v0"], **env)
    assert migrated.returncode == 0, migrated.stderr
    port = _free_port()
    environment = {k: v for k, v in {**os.environ, **env}.items() if v is not None}
    serve = subprocess.Popen(
        [civicloop_executable(), "serve", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=environment,
        cwd=ROOT,
    )
    try:
        deadline, status = time.monotonic() + 30, None
        while time.monotonic() < deadline and status is None:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/admin/login/", timeout=2
                ) as r:
                    status = r.status
            except OSError:
                assert serve.poll() is None, serve.communicate()[0]
                time.sleep(0.3)
        assert status == 200, "the web server did not answer within 30 s"
    finally:
        serve.send_signal(signal.SIGTERM)
        output = serve.communicate(timeout=30)[0]
    assert serve.returncode == 0, output
    children = dict(re.findall(r"serve: started (\w+) \(pid (\d+)\)", output))
    assert {"web", "worker", "sealer"} <= set(children), output
    assert not [name for name, pid in children.items() if _alive(int(pid))], output
