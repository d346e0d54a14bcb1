"""Recognize digits in PNG files from the command line.

    python -m model.predict FILE.png [FILE.png ...] [--weights PATH]

Prints each file's digit, its activation (and "unsure" when the answer is uncertain, by
the rule of :mod:`model.answer`) and all ten output activations. Exit status 1
if any file could not be read or held nothing to recognize.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from model import preprocess
from model.answer import Rule, answer
from model.network import Network, WeightsError

DEFAULT_WEIGHTS = Path(__file__).resolve().parent.parent / "weights" / "mnist-784-16-16-10.npz"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m model.predict", description=__doc__.split("\n")[0])
    parser.add_argument("files", nargs="+", type=Path, help="PNG images of digits")
    parser.add_argument("--weights", type=Path, default=DEFAULT_WEIGHTS)
    args = parser.parse_args(argv)
    try:
        network = Network.load(args.weights)
    except WeightsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    failed = False
    for path in args.files:
        try:
            pre = preprocess.from_png(path.read_bytes())
        except OSError as exc:
            print(f"{path}: cannot read ({exc.strerror})", file=sys.stderr)
            failed = True
            continue
        except preprocess.PreprocessError as exc:
            print(f"{path}: {exc}", file=sys.stderr)
            failed = True
            continue
        output = network.forward(pre.pixels)[-1]
        said = answer(output, Rule())
        values = " ".join(f"{d}:{a:.3f}" for d, a in enumerate(output))
        unsure = f", unsure: maybe {said.runner_up}" if said.uncertain else ""
        print(f"{path}: {said.digit} ({said.confidence:.1%}{unsure})  {values}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
