"""What a run writes beside its weights: the model card, the verdict card, the snapshots.

:func:`model_card` describes the weights file as served (scored from the file itself);
its ``verdict`` part (:func:`verdict_card`) holds the answer rule of model/answer.py with the
thresholds :func:`choose_verdict` picks on held-out data and what they do on data no choice
saw; :func:`write_checkpoints` writes the run's snapshots (format: model/checkpoints.py).
"""
from __future__ import annotations

import dataclasses
import io
import json
import sys
from pathlib import Path

import numpy as np

from model import checkpoints
from model.answer import Rule
from model.network import ARRAY_NAMES, SIZES, Network, file_sha256
from training import mnist, nondigits, selective
from training.calibrate import choose_nondigits
from training.evaluate import confusion_matrix
from training.recipe import Recipe

NAME = "mnist-784-16-16-10"
RULE_TEXT = ("not-a-digit when the strongest of the ten outputs is below min_confidence; otherwise "
             "unsure when the runner-up reaches max_ratio of the strongest (compared by odds a/(1 - a) "
             "when odds is true, else by activation); otherwise digit")


def choose_verdict(shipped: Network, recipe: Recipe, data: mnist.Mnist) -> tuple[Rule, dict, selective.Goals]:
    """The answer rule's thresholds, chosen on MNIST validation digits (held out from training
    when ``train_on`` is "train") and the choose split of the non-digits; and what it does there."""
    val_out = shipped.forward(data.validation.images)[-1]
    nd_x, nd_kinds = choose_nondigits(recipe)
    nd_out = shipped.forward(nd_x)[-1]
    goals = selective.Goals(max_declined=recipe.rule_max_declined)
    choice = selective.choose_rule(val_out, data.validation.labels, nd_out, nd_kinds, goals,
                                   recipe.rule_odds, (recipe.rule_max_ratio,))
    rule = choice.rule
    chosen = {
        "validation": selective.rates(val_out, rule, data.validation.labels),
        "nondigits": {kind: selective.rates(nd_out[nd_kinds == i], rule)
                      for i, kind in enumerate(nondigits.KINDS)},
        "nondigits_declined": round(choice.nondigits_declined, 5),
        "lowest_kind_declined": round(choice.lowest_kind, 5),
        "shortfall": round(choice.shortfall, 4) if np.isfinite(choice.shortfall) else None,
    }
    return rule, chosen, goals


def verdict_card(rule: Rule, recipe: Recipe, goals: selective.Goals, chosen: dict, measured: dict) -> dict:
    """card["verdict"]: the rule, its thresholds (read by model.answer.Rule.from_card), how
    they were chosen, and what they do on data no choice was made on."""
    return {
        "rule": RULE_TEXT,
        "thresholds": rule.as_dict(),
        "chosen_on": {
            "digits": "MNIST validation split (10,000; held out from training)"
                      if recipe.train_on == "train" else "MNIST validation split (also trained on)",
            "nondigits": f"choose split of training/nondigits.py, {recipe.choose_per_kind} per kind",
            "objective": (
                f"min_confidence: at most {goals.max_declined:.1%} of the validation digits declined; within "
                f"that, the smallest shortfall m: non-digits let through ≤ m × {1 - goals.nondigits_declined:.0%} "
                f"on average and ≤ m × {1 - goals.every_kind:.0%} of every kind, named digits wrong "
                f"≤ m × {1 - goals.named_accuracy:.1%} (m ≤ 1: every goal met). max_ratio and odds are fixed "
                f"by the recipe: 'unsure' means the runner-up's odds reach {recipe.rule_max_ratio:g} of the winner's"),
            "goals": dataclasses.asdict(goals),
        },
        "on_choose_data": chosen,
        "measured": {k: v for k, v in measured.items() if k != "confusion"},
        "confusion": measured["confusion"],
    }


def model_card(path: Path, shipped: Network, recipe: Recipe, seed: int, info: dict,
               data: mnist.Mnist, verdict: dict, checkpoints_meta: dict) -> dict:
    """The card for the weights file at ``path``, scored from ``shipped``, that file as loaded."""
    test_pred = shipped.predict(data.test.images)
    val_pred = shipped.predict(data.validation.images)
    return {
        "name": NAME,
        "file": path.name,
        "sha256": file_sha256(path),
        "architecture": {"sizes": list(SIZES), "activation": "sigmoid",
                         "output": "ten sigmoid activations; argmax is the answer"},
        "parameters": shipped.num_parameters,
        "test_accuracy": round(float((test_pred == data.test.labels).mean()), 5),
        "validation_accuracy": round(float((val_pred == data.validation.labels).mean()), 5),
        "validation_held_out": recipe.train_on == "train",
        "confusion_matrix": confusion_matrix(data.test.labels, test_pred).tolist(),
        "recipe": recipe.as_dict(),
        "calibration": info["calibration"],
        **({"teacher_validation_accuracy": info["teacher_validation_accuracy"]}
           if "teacher_validation_accuracy" in info else {}),
        "seed": seed,
        "training_seconds": info["training_seconds"],
        "history": info["history"],
        "verdict": verdict,
        "checkpoints": checkpoints_meta,
        "numpy": np.__version__,
        "python": sys.version.split()[0],
        "command": "python -m training.train",
    }


def write_atomically(path: Path, data: bytes) -> None:
    """Write beside ``path`` then rename: a reader never sees half a file."""
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    partial.replace(path)


def write_checkpoints(out: Path, shipped: Network, info: dict, data: mnist.Mnist) -> dict:
    """The run's snapshots beside the weights file ``out`` (``shipped``: that file as loaded;
    format: model/checkpoints.py); each one's MNIST test accuracy by the served forward pass
    on its float32 arrays. Returns what the model card says about them."""
    npz_path, json_path = checkpoints.paths(out)
    snaps = info["snapshots"]
    arrays = {name: np.stack([s["network"].to_arrays()[name] for s in snaps]).astype(np.float32)
              for name in ARRAY_NAMES}
    for name, a in shipped.to_arrays().items():  # the last snapshot is the shipped network, bit for bit
        if not np.array_equal(arrays[name][-1], a.astype(np.float32)):
            raise AssertionError(f"the last snapshot's {name} differs from {out.name}")
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    write_atomically(npz_path, buffer.getvalue())
    records = []
    for i, s in enumerate(snaps):
        net = checkpoints.network_at(arrays, i)
        accuracy = float((net.predict(data.test.images) == data.test.labels).mean())
        records.append({"id": i, "step": s["step"], "examples_seen": s["examples_seen"],
                        "epoch": round(s["step"] / info["steps_per_epoch"], 5),
                        "cost": round(s["cost"], 6), "test_accuracy": round(accuracy, 5),
                        "calibration": {k: round(v, 6) for k, v in s["calibration"].items()}})
    meta = {
        "name": NAME,
        "file": npz_path.name,
        "sha256": file_sha256(npz_path),
        "model_file": out.name,
        "model_sha256": file_sha256(out),
        "count": len(records),
        "convention": (
            "Each snapshot is a 784-16-16-10 sigmoid network served as a' = σ(W a + b), float32. "
            "Snapshot i holds the weights the run kept after `step` minibatches (the exponential "
            "moving average of the iterates; the initial random weights at step 0), calibrated like "
            "the final network — σ(a·z3 + b) fitted on the same held-out data and folded into layer 3 — "
            "so every snapshot's outputs read like the served ones. The last snapshot is the shipped "
            "weights, bit for bit. examples_seen counts every training example presented (digits and "
            "non-digits); epoch = step / steps per epoch (fractional). cost: the training cost of the "
            "uncalibrated weights on a fixed, undistorted sample of training digits and non-digits. "
            "test_accuracy: MNIST test, model.network.Network.forward on the float32 arrays."),
        "snapshots": records,
        "curve": {"every_steps": info["curve_every"],
                  "what": "mean training cost of the minibatches since the previous point (distorted images)",
                  "examples_seen": [int(e) for e, _ in info["curve"]],
                  "cost": [round(c, 5) for _, c in info["curve"]]},
    }
    write_atomically(json_path, (json.dumps(meta, indent=1) + "\n").encode())
    return {"file": npz_path.name, "metadata": json_path.name, "count": len(records),
            "sha256": meta["sha256"]}
