"""The runtime dependencies: exactly pinned, installed as pinned, above the versions that
fixed advisories we know of, and free of advisories PyPI knows of.

pip-audit's default vulnerability service is PyPI's JSON API, which reports advisories
(from the OSV database) per release at ``/pypi/<name>/<version>/json``. Where that
per-release endpoint is not served (as on these machines, whose package index is a
mirror: every dependency comes back "not found on PyPI"), the test falls back to the
project endpoint ``/pypi/<name>/json``, which PyPI also serves: it says whether the pinned
release exists and is not yanked, and lists the advisories that affect the *latest*
release, so a pin that is the latest release is fully audited. A pin behind the latest
cannot be audited from here; the test says so in a warning rather than pass it silently.
OSV's own API (``pip-audit -s osv``) is not reachable from these machines.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
import warnings
from importlib import metadata
from pathlib import Path

import pytest
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "requirements.txt"
PYPI = "https://pypi.org/pypi"

#: Lowest versions we accept, each with the advisory that set it.
FLOORS = {
    "pillow": ("12.2", "the project's floor (issue A); Pillow's decoders have a long advisory record, "
                       "e.g. CVE-2023-50447 (fixed 10.2.0), CVE-2024-28219 (fixed 10.3.0)"),
    "gunicorn": ("23.0", "CVE-2024-1135 / CVE-2024-6827: request smuggling through Transfer-Encoding"),
    "werkzeug": ("3.0.6", "CVE-2024-49766 / CVE-2024-49767: safe_join on Windows, multipart memory exhaustion"),
    "flask": ("3.1.1", "CVE-2025-47278: fallback session signing key order"),
    "numpy": ("1.22.0", "CVE-2021-41496 / CVE-2021-34141: buffer overflow in array_from_pyobj, incomplete string comparison"),
}


def pins() -> dict[str, str]:
    found = {}
    for line in REQUIREMENTS.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)(\[[^\]]*\])?==([A-Za-z0-9_.+\-]+)", line)
        assert match, f"requirements.txt: {line!r} is not pinned with =="
        found[re.sub(r"[-_.]+", "-", match.group(1)).lower()] = match.group(3)
    return found


def test_runtime_dependencies_are_pinned_and_only_the_allowed_ones():
    assert set(pins()) == {"flask", "werkzeug", "numpy", "pillow", "gunicorn", "prometheus-client", "orjson"}


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_pins_are_above_known_advisories(name):
    floor, advisory = FLOORS[name]
    assert Version(pins()[name]) >= Version(floor), f"{name} {pins()[name]} < {floor}: {advisory}"


def test_installed_versions_are_the_pinned_ones():
    for name, version in pins().items():
        assert metadata.version(name) == version, f"{name}: installed {metadata.version(name)}, pinned {version}"


def _project(name: str) -> dict:
    with urllib.request.urlopen(f"{PYPI}/{name}/json", timeout=30) as response:
        return json.load(response)


def test_no_known_vulnerabilities():
    try:
        urllib.request.urlopen(f"{PYPI}/pip/json", timeout=30).close()
    except (urllib.error.URLError, OSError) as exc:
        if os.environ.get("CI"):  # CI reaches PyPI (it installs from it): never pass unaudited
            pytest.fail(f"PyPI's JSON API is not reachable, so nothing can be audited: {exc}")
        pytest.skip(f"PyPI's JSON API is not reachable: {exc}")
    run = subprocess.run(
        [sys.executable, "-m", "pip_audit", "-r", str(REQUIREMENTS), "--no-deps", "--disable-pip",
         "--vulnerability-service", "pypi", "--format", "json", "--progress-spinner", "off"],
        capture_output=True, text=True, timeout=300)
    assert run.stdout, run.stderr[-2000:]
    report = json.loads(run.stdout)
    vulnerable = {d["name"]: [v["id"] for v in d["vulns"]] for d in report["dependencies"] if d.get("vulns")}
    assert not vulnerable, f"pip-audit: {vulnerable}"
    skipped = [d["name"] for d in report["dependencies"] if "skip_reason" in d]
    unaudited = []
    for name in skipped:  # the per-release endpoint is missing: use the project's
        version = pins()[name]
        project = _project(name)
        files = project["releases"].get(version)
        assert files, f"{name} {version} is not a release on PyPI"
        assert not all(f.get("yanked") for f in files), f"{name} {version} was yanked"
        if project["info"]["version"] == version:
            advisories = [v["id"] for v in project.get("vulnerabilities", [])]
            assert not advisories, f"{name} {version}: {advisories}"
        else:
            unaudited.append(f"{name} {version} (latest {project['info']['version']})")
    assert len(skipped) + sum(1 for d in report["dependencies"] if "skip_reason" not in d) == len(pins())
    if unaudited:
        warnings.warn(f"not audited (PyPI serves advisories only for latest releases here): "
                      f"{', '.join(unaudited)}", stacklevel=1)
