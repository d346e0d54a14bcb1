"""The shape of the house: serving code never reaches for training code."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_serving_never_imports_training():
    """Everything the server and the command-line predictor load, and nothing from training/."""
    code = ("import sys, app, model.predict; app.create_app({'TESTING': True}); "
            "print(sorted(m for m in sys.modules if m == 'training' or m.startswith('training.')))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_image_holds_no_training_code():
    copied = [path for line in (ROOT / "Dockerfile").read_text().splitlines()
              if line.startswith("COPY ") for path in line.split()[1:-1]]
    assert copied and not any(path.startswith("training") for path in copied), copied


IMPORT = re.compile(r'^import\s*(?:\{([^}]*)\}|\* as (\w+))\s*from\s*"(\.{1,2}/[^"]+)";', re.M)
EXPORT = re.compile(r"^export (?:async )?(?:function|const|let|class) (\w+)|^export \{([^}]*)\}", re.M)


def _page_modules() -> list[Path]:
    return sorted((ROOT / "static" / "js").rglob("*.js"))


def _exports(module: Path) -> set[str]:
    return {name.strip() for one, listed in EXPORT.findall(module.read_text())
            for name in (one or listed).split(",") if name.strip()}


@pytest.mark.parametrize("module", _page_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_page_modules_import_only_what_exists_and_is_used(module: Path):
    """Each static import names a module that has it, and the importer uses what it imports."""
    source = module.read_text()
    imports = IMPORT.findall(source)
    assert len(imports) == len(re.findall(r"^import\b", source, re.M)), "an import this test cannot read"
    # Where a name may count as used: the code, not the imports nor the comments.
    body = re.sub(r"/\*.*?\*/|^\s*//[^\n]*", "", IMPORT.sub("", source), flags=re.S | re.M)

    def used(name: str) -> bool:
        return re.search(rf"(?<![\w.]){re.escape(name)}\b", body) is not None

    for names, namespace, where in imports:
        exporter = (module.parent / where).resolve()
        assert exporter.is_file(), f"{module.name} imports a missing {where}"
        if namespace:
            assert used(namespace), f"{module.name}: {namespace} is never used"
            continue
        for name in filter(None, (n.strip() for n in names.split(","))):
            original, _, local = name.partition(" as ")
            assert original.strip() in _exports(exporter), f"{where} does not export {original}"
            assert used((local or original).strip()), f"{module.name}: {local or original} is never used"


BENCHMARKS = sorted(p for p in (ROOT / "bench").glob("*.py") if "argparse" in p.read_text())


@pytest.mark.parametrize("script", BENCHMARKS, ids=lambda p: p.name)
def test_every_benchmark_starts(script: Path):
    """No test times anything, but every benchmark must still load what it imports."""
    result = subprocess.run([sys.executable, str(script), "--help"], cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage:")
