"""The shape of the house: serving code never reaches for training code."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
