"""Train the lesson's 784-16-16-10 sigmoid network from scratch: ``python -m training.train``.

The recipe (every number is in :class:`training.recipe.Recipe` and written to the model card):

1. The lesson's exact network — 784 → 16 σ → 16 σ → 10 σ, 13,002 parameters, Glorot
   initialisation — is trained with softmax cross-entropy on the output pre-activations z3,
   Adam, small minibatches (32), a linear warm-up then a cosine learning rate, for 100
   epochs. Every epoch sees freshly distorted digits (:mod:`training.augment`: about half of
   the images get a light shift/rotation/scale/elastic change and sometimes a thicker or
   thinner stroke); 10,000 of the training digits also exist drawn as pen strokes, the way
   the page sends them (:mod:`training.strokes`), and are shown that way half the time.
   What we keep is an exponential moving average (EMA) of the weights.
2. Outlier exposure: every minibatch also carries 8 non-digits (:mod:`training.nondigits`:
   noise, dots, scribbles, blobs, letters and symbols, pieces of digits — a pool of 12,000,
   freshly distorted each epoch), and all ten of their sigmoid outputs σ(z3) are taught to
   say "no" (binary cross-entropy against 0). A digit's own output is anchored at "yes" by a
   weak binary cross-entropy term (weight 0.1), so that "no" means lower than a digit's
   winner, not just lower than before.
3. Softmax cross-entropy only cares about differences between the z3, but the page shows
   the ten *sigmoid* outputs σ(z3). So a scale ``a`` and offset ``b`` are fitted on held-out
   data — the validation digits against their one-hot labels, the choose split's non-digits
   against all zeros — and folded into the last layer (w3 ← a·w3, b3 ← a·b3 + b). The argmax
   is unchanged (a > 0). (:mod:`training.calibrate`)
4. The answer rule (model/answer.py) that goes with the weights: "not a digit" below a
   minimum strongest output, "unsure" when the runner-up's odds reach half the winner's,
   else the digit. The minimum is chosen on held-out data
   (:func:`training.card.choose_verdict`) and written to the card with the rates it gives on
   data no choice saw (:func:`training.selective.measure`): MNIST test digits, the same drawn
   as strokes, the held-out non-digits of every kind, and the verdict confusion table.
5. Snapshots ("watch it learn"): 20 networks from the initial random weights to the final
   one, spaced geometrically in examples seen, each in the served convention; written to
   ``<weights>.checkpoints.npz`` and ``.json`` (:func:`training.card.write_checkpoints`;
   format: model/checkpoints.py).

Optional, off by default: "consistent" distillation (Beyer et al. 2022) from a wide ReLU
teacher (:mod:`training.teacher`; ``--set distill_weight=1 --set teacher.hidden=512,512``),
SWA, energy-bounded outlier exposure (``energy_weight``); docs/training.md has what each did.

Every choice was made on the validation split (10,000 images held out of the 60,000
training digits, never trained on: ``train_on="train"``) and the choose split of the
non-digits. The test split and the held-out non-digits are only measured, for the card;
``training.train`` prints none of those figures. Seeded and deterministic on one machine:
all randomness comes from generators spawned from ``--seed`` (the non-digits from
``nondigit_seed``).

Usage::

    python -m training.train                     # the shipped weights, card, snapshots, examples
    python -m training.train --epochs 3 --limit 5000 --out /tmp/w.npz
    python -m training.train --set nondigits_per_kind=0 --out /tmp/x.npz   # digits only
    python -m training.train --examples-only     # just weights/examples.npz
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import numpy as np

from model.network import Network, backprop, forward
from training import mnist, nondigits, selective, strokes
from training.augment import augment
from training.calibrate import calibration_data, served
from training.card import choose_verdict, model_card, verdict_card, write_atomically, write_checkpoints
from training.cost import cost_and_delta, mixup, onehot, softmax, student_logits
from training.evaluate import DEFAULT_WEIGHTS as DEFAULT_OUT
from training.evaluate import EXAMPLES, write_examples
from training.optim import Adam, flat_views, lr_at, split_like, weight_mask
from training.progress import log
from training.recipe import CALIBRATE_ON, Recipe, apply_override
from training.teacher import teacher_logits, train_teacher

COST_SAMPLE = 10_000       # training digits (and their share of non-digits) a snapshot's cost is measured on


# --- the student (the lesson's network) ----------------------------------------------


def accuracy(params: list[np.ndarray], split: mnist.Split) -> float:
    return float((student_logits(params, split.images).argmax(1) == split.labels).mean())


def snapshot_steps(total: int, count: int, first: int = 1) -> list[int]:
    """Steps after which the network is kept: 0 (the initial weights) and up to ``count`` − 1
    more, spaced geometrically from step ``first`` (1 if the run is shorter) to the last
    step ``total`` (fewer when there are so few steps that neighbours would coincide)."""
    if count < 2 or total < 1:
        return [0]
    first = first if 1 <= first < total else 1
    return [0] + [int(s) for s in np.unique(np.round(np.geomspace(first, total, count - 1)).astype(int))]


def train_student(recipe: Recipe, x: np.ndarray, y: np.ndarray, val: mnist.Split,
                  teacher: list[np.ndarray] | None, rngs: dict, quiet: bool,
                  pool: np.ndarray | None = None, twins: np.ndarray | None = None):
    """Returns ``(kept, history, snapshots, curve)``: the kept weights (EMA, SWA mean or raw),
    per-epoch records, ``[(step, examples_seen, flat float32 weights)]`` at
    :func:`snapshot_steps` (the EMA, or the raw weights without one) and the cost curve
    ``[(examples_seen, mean training cost of the minibatches since the previous point)]``."""
    net = Network.random(rngs["student_init"])
    flat, params = flat_views([a for pair in zip(net.weights, net.biases) for a in pair])
    opt = Adam(flat, recipe.adam_betas, recipe.adam_eps, recipe.weight_decay, weight_mask(params))
    if recipe.ema_decay:
        ema_flat, ema = flat_views(params)
    else:
        ema = None
    n = x.shape[0]
    bs = recipe.batch_size
    steps_per_epoch = -(-n // bs)
    total = recipe.epochs * steps_per_epoch
    # SWA (Izmailov et al. 2018): an equal-weight mean of the iterates of the last steps.
    swa_start = total - int(round(recipe.swa_fraction * total)) if recipe.swa_fraction > 0 else None
    swa_sum, swa_count = np.zeros(flat.size, dtype=np.float64), 0
    warmup = int(round(recipe.warmup_epochs * steps_per_epoch))
    alpha = recipe.distill_weight if teacher is not None else 0.0
    temp = np.float32(recipe.temperature)
    marks = set(snapshot_steps(total, recipe.snapshots, recipe.snapshot_first))
    snapshots, curve, recent, seen = [], [], [], 0

    def keep(step: int) -> None:
        if step in marks:
            snapshots.append((step, seen, (ema_flat if ema is not None else flat).copy()))

    keep(0)
    nb = recipe.nondigit_batch if pool is not None and len(pool) else 0
    step = 0
    history = []
    start = time.perf_counter()
    for epoch in range(1, recipe.epochs + 1):
        order = rngs["shuffle"].permutation(n)
        xe = x[order]
        if twins is not None and len(twins):  # some digits as the page would draw them
            swap = np.flatnonzero((order < len(twins)) & (rngs["strokes"].random(n) < recipe.stroke_share))
            xe[swap] = twins[order[swap]]
        xe = augment(xe, rngs["augment"], recipe.augmentation)
        ye = onehot(y[order], recipe.label_smoothing)
        xe, ye = mixup(xe, ye, recipe.mixup_probability, rngs["mixup"])
        soft = softmax(teacher_logits(teacher, xe) / temp) if alpha else None
        if nb:  # this epoch's non-digits: the pool cycled in a fresh order, freshly distorted
            order = np.resize(rngs["nondigit_shuffle"].permutation(len(pool)), steps_per_epoch * nb)
            xu = augment(pool[order], rngs["nondigit_augment"], recipe.augmentation)
        losses = []
        for b in range(0, n, bs):
            lr = lr_at(step, total, warmup, recipe.learning_rate, recipe.final_lr_fraction)
            xb = xe[b:b + bs]
            if nb:  # the non-digits follow the digits
                s0 = (b // bs) * nb
                xb = np.concatenate([xb, xu[s0:s0 + nb]])
            acts = forward(params[0::2], params[1::2], xb)
            z = acts[-2] @ params[4].T + params[5]
            loss, delta = cost_and_delta(z, ye[b:b + bs], recipe, alpha=alpha,
                                         soft=soft[b:b + bs] if alpha else None)
            gw, gb = backprop(params[0::2], acts, delta)
            opt.step(np.concatenate([g.ravel() for pair in zip(gw, gb) for g in pair]), lr)
            if ema is not None:
                # the usual warm-up (1+t)/(10+t) so early averages are not dominated by the init
                d = np.float32(min(recipe.ema_decay, (1 + step) / (10 + step)))
                ema_flat *= d
                ema_flat += (1 - d) * flat
            if swa_start is not None and step >= swa_start:
                swa_sum += flat
                swa_count += 1
            losses.append(loss)
            recent.append(loss)
            step += 1
            seen += xb.shape[0]
            keep(step)
            if recipe.curve_every and (step % recipe.curve_every == 0 or step == total):
                curve.append((seen, float(np.mean(recent))))
                recent = []
        kept = ema if ema is not None else params
        if swa_count:
            kept = split_like((swa_sum / swa_count).astype(np.float32), params)
        val_acc = accuracy(kept, val) if val.labels.size else float("nan")
        elapsed = time.perf_counter() - start
        history.append({"epoch": epoch, "loss": round(float(np.mean(losses)), 5),
                        "validation_accuracy": round(val_acc, 5), "seconds": round(elapsed, 1)})
        log(quiet, f"epoch {epoch:3d}/{recipe.epochs}  loss {np.mean(losses):.4f}  "
                   f"validation {val_acc:.2%}  {elapsed:6.1f}s")
    return kept, history, snapshots, curve


# --- the whole run ----------------------------------------------------------------------


def spawn_rngs(seed: int) -> dict[str, np.random.Generator]:
    names = ["teacher_init", "teacher_shuffle", "teacher_augment",
             "student_init", "shuffle", "augment", "mixup", "nondigit_shuffle", "nondigit_augment", "strokes"]
    children = np.random.SeedSequence(seed).spawn(len(names))
    return {name: np.random.default_rng(s) for name, s in zip(names, children)}


def training_data(recipe: Recipe, data: mnist.Mnist) -> tuple[np.ndarray, np.ndarray, mnist.Split]:
    """(images, labels, held-out validation split) for the recipe's ``train_on``."""
    if recipe.train_on == "train":
        x, y, val = data.train.images, data.train.labels, data.validation
    elif recipe.train_on == "train+validation":
        x = np.concatenate([data.train.images, data.validation.images])
        y = np.concatenate([data.train.labels, data.validation.labels])
        val = data.validation  # no longer held out: its accuracy is a training accuracy
    else:
        raise ValueError(f"train_on must be 'train' or 'train+validation', not {recipe.train_on!r}")
    if recipe.limit is not None:
        x, y = x[:recipe.limit], y[:recipe.limit]
    return np.ascontiguousarray(x, dtype=np.float32), y, val


def train(recipe: Recipe, seed: int, quiet: bool = False, data: mnist.Mnist | None = None,
          teacher_file: Path | None = None):
    """Train per ``recipe``; returns ``(network, info)`` where info goes into the card.

    ``teacher_file`` (for experiments only): reuse the teacher saved there, or save the
    one trained here, so student variants can be compared without retraining it.
    """
    data = data or mnist.load()
    rngs = spawn_rngs(seed)
    x, y, val = training_data(recipe, data)
    start = time.perf_counter()
    teacher = None
    if recipe.teacher.hidden and recipe.distill_weight > 0:
        if teacher_file is not None and Path(teacher_file).is_file():
            with np.load(teacher_file) as npz:
                teacher = [npz[f"p{i}"] for i in range(len(npz.files))]
        else:
            teacher = train_teacher(recipe.teacher, x, y, val, rngs, quiet)
            if teacher_file is not None:
                np.savez(teacher_file, **{f"p{i}": p for i, p in enumerate(teacher)})
        teacher_val = float((teacher_logits(teacher, val.images).argmax(1) == val.labels).mean())
    pool = None
    if recipe.nondigits_per_kind and recipe.nondigit_batch:
        pool, _ = nondigits.dataset("train", recipe.nondigits_per_kind, recipe.nondigit_seed)
        log(quiet, f"non-digits: {len(pool)} in the training pool ({time.perf_counter() - start:.1f}s)")
    twins = None
    if recipe.stroke_twins and recipe.stroke_share:
        twins = strokes.stroke_drawn(x[:recipe.stroke_twins])
        log(quiet, f"stroke twins: {len(twins)} training digits drawn as strokes ({time.perf_counter() - start:.1f}s)")
    params, history, kept_along, curve = train_student(recipe, x, y, val, teacher, rngs, quiet, pool, twins)
    cal_x, cal_t = calibration_data(recipe, data)
    network, (a, b) = served(params, cal_x, cal_t)
    # The snapshots in the served convention: each calibrated on the same data as the final
    # network and folded into its layer 3; the one after the last step is the final network
    # itself. Each one's training cost is measured on a fixed, undistorted sample.
    total = recipe.epochs * -(-len(x) // recipe.batch_size)
    sample_x, sample_y = cost_sample(x, y, pool, recipe)
    snapshots = []
    for step, examples, flat in kept_along:
        weights = params if step == total else split_like(flat, params)
        net_i, ab = (network, (a, b)) if step == total else served(weights, cal_x, cal_t)
        cost, _ = cost_and_delta(student_logits(weights, sample_x), sample_y, recipe)
        snapshots.append({"step": step, "examples_seen": examples, "network": net_i, "cost": cost,
                          "calibration": {"a": ab[0], "b": ab[1]}})
    seconds = time.perf_counter() - start
    info = {"history": history, "calibration": {"a": a, "b": b, "fitted_on": recipe.calibrate_on},
            "training_seconds": round(seconds, 1), "snapshots": snapshots, "curve": curve,
            "curve_every": recipe.curve_every, "steps_per_epoch": -(-len(x) // recipe.batch_size)}
    if teacher is not None:
        info["teacher_validation_accuracy"] = round(teacher_val, 5)
    return network, info


def cost_sample(x: np.ndarray, y: np.ndarray, pool: np.ndarray | None, recipe: Recipe) -> tuple[np.ndarray, np.ndarray]:
    """The fixed, undistorted sample a snapshot's training cost is measured on: the first
    COST_SAMPLE training digits and the minibatches' share of non-digits, spread evenly over
    the pool (which holds its kinds one after another) so that every kind is in it."""
    sample_x, sample_y = x[:COST_SAMPLE], onehot(y[:COST_SAMPLE])
    if pool is None:
        return sample_x, sample_y
    share = len(sample_x) * recipe.nondigit_batch // recipe.batch_size
    spread = np.linspace(0, len(pool), share, endpoint=False).astype(int)
    return np.concatenate([sample_x, pool[spread]]), sample_y


# --- command line ----------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.train", description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, help="student epochs (default: the recipe's)")
    parser.add_argument("--teacher-epochs", type=int, help="teacher epochs (default: the recipe's)")
    parser.add_argument("--limit", type=int, help="train on the first N training images only")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="weights file to write; the card (.json) is written beside it")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="override a recipe field, e.g. learning_rate=0.002 or teacher.epochs=5")
    parser.add_argument("--quiet", action="store_true", help="no per-epoch lines")
    parser.add_argument("--teacher-file", type=Path,
                        help="experiments only: load the teacher from this .npz if it exists, "
                             "else save the trained teacher there")
    parser.add_argument("--examples-only", action="store_true",
                        help="only write weights/examples.npz (a fixed sample of MNIST test digits)")
    args = parser.parse_args(argv)

    try:
        data = mnist.load()
    except mnist.MnistUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.examples_only:
        write_examples(EXAMPLES, data.test)
        print(f"wrote {EXAMPLES}")
        return 0

    recipe = Recipe()
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep:
            parser.error(f"--set needs FIELD=VALUE, got {item!r}")
        try:
            recipe = apply_override(recipe, key.strip(), value.strip())
        except ValueError as exc:
            parser.error(str(exc))
    if args.epochs is not None:
        recipe = dataclasses.replace(recipe, epochs=args.epochs)
    if args.teacher_epochs is not None:
        recipe = dataclasses.replace(recipe, teacher=dataclasses.replace(recipe.teacher, epochs=args.teacher_epochs))
    if args.limit is not None:
        recipe = dataclasses.replace(recipe, limit=args.limit)

    if recipe.train_on not in ("train", "train+validation"):
        parser.error(f"train_on must be 'train' or 'train+validation', not {recipe.train_on!r}")
    if recipe.calibrate_on not in CALIBRATE_ON:
        parser.error(f"calibrate_on must be one of {', '.join(CALIBRATE_ON)}, not {recipe.calibrate_on!r}")
    if recipe.sigmoid_on not in ("all", "label"):
        parser.error(f"sigmoid_on must be 'all' or 'label', not {recipe.sigmoid_on!r}")
    if recipe.snapshots < 2:
        parser.error(f"snapshots must be at least 2 (the initial and the final network), not {recipe.snapshots}")

    network, info = train(recipe, args.seed, args.quiet, data, args.teacher_file)
    out = args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    network.save(out)
    shipped = Network.load(out)  # rule and measurements from the float32 file, as served
    rule, chosen, goals = choose_verdict(shipped, recipe, data)
    named = chosen["validation"]["named_accuracy"]  # None when the rule names no digit at all
    log(args.quiet, f"rule {rule}: validation declined {chosen['validation']['declined']:.2%}, "
                    f"named right {'none' if named is None else f'{named:.2%}'}; choose non-digits declined "
                    f"{chosen['nondigits_declined']:.1%} (lowest kind {chosen['lowest_kind_declined']:.1%})")
    measured = selective.measure(shipped, rule, data, recipe.heldout_per_kind, recipe.stroke_digits,
                                 recipe.nondigit_seed)
    checkpoints_meta = write_checkpoints(out, shipped, info, data)
    card = model_card(out, shipped, recipe, args.seed, info, data,
                      verdict_card(rule, recipe, goals, chosen, measured), checkpoints_meta)
    card_path = out.with_suffix(".json")
    write_atomically(card_path, (json.dumps(card, indent=2) + "\n").encode())
    if out.resolve() == DEFAULT_OUT.resolve():
        write_examples(EXAMPLES, data.test)
    # The test accuracy is in the card; it is not printed so it cannot steer experiments.
    print(f"validation {card['validation_accuracy']:.2%}  {info['training_seconds']:.0f}s  calibration a={info['calibration']['a']:.3f} "
          f"b={info['calibration']['b']:.3f}")
    print(f"wrote {out} (sha256 {card['sha256'][:16]}…) and {card_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
