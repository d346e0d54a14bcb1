"""Every hyper-parameter of a training run, and ``--set FIELD=VALUE`` overrides of them.

:class:`Recipe` holds the student's run and :class:`TeacherRecipe` the optional
distillation teacher's; both are frozen dataclasses, written whole to the model card.
:func:`apply_override` returns a recipe with one dotted field (``teacher.epochs``) read
from the command line's text.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from training.augment import Augmentation

CALIBRATE_ON = ("validation", "validation+nondigits", "train", "none")


@dataclass(frozen=True)
class TeacherRecipe:
    """The throw-away ReLU teacher (hidden=() means: no teacher, plain label training)."""

    hidden: tuple[int, ...] = (1024, 1024)
    epochs: int = 30
    batch_size: int = 256
    learning_rate: float = 1e-3
    weight_decay: float = 0.0
    label_smoothing: float = 0.0
    augmentation: Augmentation = Augmentation(probability=1.0)


@dataclass(frozen=True)
class Recipe:
    """Every hyper-parameter of a training run (recorded in the model card)."""

    epochs: int = 100
    batch_size: int = 32
    learning_rate: float = 2e-3        # Adam's step size at the top of the cosine
    warmup_epochs: float = 1.0         # linear warm-up before the cosine decay
    final_lr_fraction: float = 0.0     # the cosine ends at learning_rate × this
    adam_betas: tuple[float, float] = (0.9, 0.999)
    adam_eps: float = 1e-8
    weight_decay: float = 0.0          # decoupled (AdamW-style), on weights only
    label_smoothing: float = 0.0
    ema_decay: float = 0.9995          # per step; 0 = keep the raw weights
    swa_fraction: float = 0.0          # >0: keep the plain mean of the iterates over this last share of steps (SWA)
    augmentation: Augmentation = Augmentation()
    mixup_probability: float = 0.0     # share of images blended with another image
    teacher: TeacherRecipe = TeacherRecipe(hidden=())
    distill_weight: float = 0.0        # target = (1-w)·label + w·teacher (0 if no teacher)
    temperature: float = 1.0
    train_on: str = "train"            # "train" (validation held out for calibration and the rule) or "train+validation"
    calibrate_on: str = "validation+nondigits"  # also "validation", "train", "none"
    # Outlier exposure: non-digits (training/nondigits.py, train split) ride along in every
    # minibatch, and all ten of their sigmoid outputs are taught to say "no".
    nondigits_per_kind: int = 2000     # the pool of non-digits, per kind (0: digits only)
    nondigit_batch: int = 8            # non-digits appended to every minibatch of digits
    nondigit_weight: float = 1.0       # weight of Σⱼ BCE(σ(z3ⱼ), 0) of a non-digit
    sigmoid_weight: float = 0.1        # weight of the BCE of a digit's σ(z3) against its one-hot label ...
    sigmoid_on: str = "label"          # ... on its label's output only ("label": the anchor) or on all ten ("all")
    softmax_weight: float = 1.0        # weight of the softmax cross-entropy (digits only)
    energy_weight: float = 0.0         # energy-bounded outlier exposure (Liu et al. 2020), off: weight ...
    energy_margins: tuple[float, float] = (6.0, 2.0)  # ... pushing LSE(z3) of a digit above the first, a non-digit's below the second
    nondigit_seed: int = 0             # the generator's seed (the same pools whatever the run's seed)
    # Digits as the page draws them: the non-digits are mostly pen strokes, so without these
    # "drawn by preprocess.from_strokes" would itself look like a sign of a non-digit.
    stroke_twins: int = 10_000         # the first N training digits also drawn as pen strokes (training/strokes.py) ...
    stroke_share: float = 0.5          # ... and shown that way this often in each epoch
    snapshots: int = 20                # networks kept along the way: step 0, then geometric in examples seen ...
    snapshot_first: int = 100          # ... from this step (the warm-up's first steps change little) to the last
    curve_every: int = 100             # steps between two points of the cost curve
    # The answer rule (model/answer.py): min_confidence chosen on MNIST validation + the choose split.
    rule_max_declined: float = 0.045   # at most this share of validation digits declined
    rule_odds: bool = True             # the runner-up is compared by odds a/(1 − a), not activation ...
    rule_max_ratio: float = 0.5        # ... and "competes" at this fraction of the winner's (fixed, not chosen)
    choose_per_kind: int = 1000        # non-digits per kind of the choose split
    heldout_per_kind: int = 1000       # non-digits per kind of the held-out split (measured only)
    stroke_digits: int = 10_000        # MNIST test digits re-drawn as strokes (measured only)
    limit: int | None = None           # use only the first N training images

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def _parse_value(text: str, current):
    if isinstance(current, bool):
        return text.lower() in ("1", "true", "yes")
    if isinstance(current, tuple):
        return tuple(type(v)(t) for v, t in zip(current, text.split(","))) if current else \
            tuple(int(t) for t in text.split(",") if t)
    if current is None:
        return None if text.lower() == "none" else int(text)
    return type(current)(text)


def apply_override(recipe, key: str, text: str):
    """``recipe`` with the dotted field ``key`` (e.g. ``teacher.epochs``) set from ``text``."""
    head, _, rest = key.partition(".")
    if not dataclasses.is_dataclass(recipe) or not any(f.name == head for f in dataclasses.fields(recipe)):
        raise ValueError(f"unknown recipe field {key!r}")
    current = getattr(recipe, head)
    if rest:
        value = apply_override(current, rest, text)
    else:
        try:
            value = _parse_value(text, current)
        except ValueError:
            raise ValueError(f"cannot read {text!r} as a value for {key!r}") from None
    return dataclasses.replace(recipe, **{head: value})
