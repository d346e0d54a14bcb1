"""Recognize digits in PNG files from the command line.

    python -m model.predict FILE.png [FILE.png ...] [--weights PATH]

Prints each file's verdict (by the rule of :mod:`model.answer`, with the thresholds of the
model card beside the weights): the digit and its activation, "unsure" with the runner-up,
or "not a digit"; then all ten output activations. Exit status 1 if any file could not be
read or held nothing to recognize.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from model import preprocess
from model.answer import Rule, answer
from model.network import Network, WeightsError

DEFAULT_WEIGHTS = Path(__file__).resolve().parent.parent / "weights" / "mnist-784-16-16-10.npz"


def rule_beside(weights: Path) -> Rule:
    """The rule of the model card beside ``weights`` (same name, .json); without a card,
    or a card without a rule, the rule from before verdicts existed. A card that cannot be
    read or whose verdict is no rule raises (the server refuses such weights too)."""
    try:
        text = weights.with_suffix(".json").read_text(encoding="utf-8")
    except FileNotFoundError:
        return Rule()
    return Rule.of_card(json.loads(text))


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
    try:
        rule = rule_beside(args.weights)
    except (OSError, ValueError) as exc:  # unreadable, not JSON, or its verdict is no rule
        print(f"error: the model card beside {args.weights} has no usable answer rule ({exc})", file=sys.stderr)
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
        said = answer(output, rule)
        values = " ".join(f"{d}:{a:.3f}" for d, a in enumerate(output))
        if said.verdict == "not-a-digit":
            verdict = f"not a digit (strongest {said.digit}: {said.confidence:.1%})"
        elif said.verdict == "unsure":
            verdict = f"{said.digit} ({said.confidence:.1%}, unsure: maybe {said.runner_up})"
        else:
            verdict = f"{said.digit} ({said.confidence:.1%})"
        print(f"{path}: {verdict}  {values}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
