"""How often does the shipped network say "not a digit" or "unsure", and to what?

    .venv/bin/python bench/not_a_digit.py                 # the shipped weights and their card's rule
    .venv/bin/python bench/not_a_digit.py --per-kind 300  # fewer held-out non-digits (faster)
    .venv/bin/python bench/not_a_digit.py --in-sample     # also the data it was trained and chosen on

The rule is the one the model card prescribes (``model.answer.Rule.from_card``), applied to
the ten outputs of the served forward pass on:

- the 10,000 MNIST test digits (declined = unsure or not a digit; named = the rest, and
  how often the named digit is right),
- the same digits drawn as pen strokes through ``preprocess.from_strokes``
  (training/strokes.py: each digit's centre line, as the page would send it),
- the held-out non-digits of every kind (training/nondigits.py), which no choice was made on.

Prints the rates and the verdict confusion table. Seeded; no timing. ``--in-sample`` adds the
rates on the MNIST training digits and on the training and choose splits of the non-digits: what
the weights were fitted to and the thresholds chosen on, which held-out rates can hardly be
expected to exceed.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from model.answer import VERDICTS, Rule  # noqa: E402
from model.network import Network  # noqa: E402
from training import mnist, nondigits, selective  # noqa: E402

WEIGHTS = ROOT / "weights" / "mnist-784-16-16-10.npz"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--weights", type=Path, default=WEIGHTS)
    parser.add_argument("--per-kind", type=int, default=1000, help="held-out non-digits per kind (default 1000)")
    parser.add_argument("--strokes", type=int, default=10_000, help="test digits drawn as strokes (default all)")
    parser.add_argument("--in-sample", action="store_true",
                        help="also the training digits and the train and choose non-digits (about a minute more)")
    args = parser.parse_args(argv)

    card = json.loads(args.weights.with_suffix(".json").read_text())
    rule = Rule.from_card(card)
    network = Network.load(args.weights)
    seed = card.get("recipe", {}).get("nondigit_seed", 0)
    data = mnist.load()
    m = selective.measure(network, rule, data, args.per_kind, args.strokes, seed)

    print(f"Not a digit: {args.weights.name} (sha256 {card['sha256'][:16]}…)")
    print(f"  rule: {rule}")
    print(f"  {'':30} {'n':>6} {'declined':>9} {'unsure':>7} {'not-a-digit':>12} {'named right':>12}")

    def line(name: str, r: dict) -> None:
        named = f"{r['named_accuracy']:12.2%}" if r.get("named_accuracy") is not None else f"{'':12}"
        print(f"  {name:30} {r['n']:6d} {r['declined']:9.2%} {r['unsure'] / r['n']:7.2%} "
              f"{r['not-a-digit'] / r['n']:12.2%} {named}")

    line("MNIST test digits", m["mnist_test"])
    line("test digits drawn as strokes", m["stroke_test"])
    for kind, r in m["heldout"].items():
        line(f"held-out non-digits: {kind}", r)
    print(f"  held-out non-digits, all kinds: {m['heldout_all']['declined']:.2%} declined "
          f"(lowest: {m['heldout_all']['lowest_kind']})")
    print(f"  MNIST test accuracy of the strongest output: {m['mnist_test']['accuracy']:.2%}; "
          f"drawn as strokes: {m['stroke_test']['accuracy']:.2%}")
    if args.in_sample:
        print("  in-sample: what the weights were fitted to (train) and the thresholds chosen on (choose)")
        line("MNIST training digits", selective.rates(network.forward(data.train.images)[-1], rule, data.train.labels))
        for split, per_kind in (("train", card["recipe"]["nondigits_per_kind"]),
                                ("choose", card["recipe"]["choose_per_kind"])):
            x, kinds = nondigits.dataset(split, per_kind, seed)
            out = network.forward(x)[-1]
            line(f"{split} non-digits, all kinds", selective.rates(out, rule))
            for i, kind in enumerate(nondigits.KINDS):
                line(f"{split} non-digits: {kind}", selective.rates(out[kinds == i], rule))
    print()
    print("  verdict confusion (rows: what the input is; columns: what the rule says)")
    print(f"  {'':36}" + "".join(f"{v:>12}" for v in VERDICTS))
    for row, counts in m["confusion"]["rows"].items():
        print(f"  {row:36}" + "".join(f"{counts[v]:12d}" for v in VERDICTS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
