"""The network against trusted references: finite differences, a naive loop, files."""
import io

import numpy as np
import pytest

from model.network import SIZES, Network, WeightsError, backprop, forward, sigmoid


@pytest.fixture
def network():
    return Network.random(np.random.default_rng(0))


@pytest.fixture
def batch():
    rng = np.random.default_rng(1)
    return rng.random((7, 784)), rng.integers(0, 10, size=7)


def test_the_lessons_architecture(network):
    assert network.sizes == SIZES == (784, 16, 16, 10)
    assert network.num_parameters == 13_002
    assert [w.shape for w in network.weights] == [(16, 784), (16, 16), (10, 16)]
    assert [b.shape for b in network.biases] == [(16,), (16,), (10,)]


def test_sigmoid_is_stable_and_exact():
    z = np.array([-1000.0, -5.0, 0.0, 5.0, 1000.0])
    np.testing.assert_allclose(sigmoid(z)[1:4], 1 / (1 + np.exp(-z[1:4])), rtol=1e-12)
    assert sigmoid(z)[0] == 0.0 and sigmoid(z)[-1] == 1.0


def naive_forward(network, x):
    """One neuron at a time, straight from a' = σ(Σ_k w_jk a_k + b_j)."""
    activations = [list(x)]
    for w, b in zip(network.weights, network.biases):
        previous = activations[-1]
        layer = []
        for j in range(w.shape[0]):
            z = b[j] + sum(w[j, k] * previous[k] for k in range(w.shape[1]))
            layer.append(1.0 / (1.0 + np.exp(-z)))
        activations.append(layer)
    return activations


def test_vectorized_forward_equals_naive_loop(network, batch):
    x, _ = batch
    vectorized = network.forward(x)
    for n in range(2):
        for got, expected in zip(vectorized, naive_forward(network, x[n])):
            np.testing.assert_allclose(got[n], expected, rtol=1e-10, atol=1e-12)


def test_forward_returns_every_layer_and_mutates_nothing(network, batch):
    x, _ = batch
    x_before = x.copy()
    weights_before = [w.copy() for w in network.weights]
    activations = network.forward(x)
    assert [a.shape for a in activations] == [(7, 784), (7, 16), (7, 16), (7, 10)]
    np.testing.assert_array_equal(x, x_before)
    for w, before in zip(network.weights, weights_before):
        np.testing.assert_array_equal(w, before)
    with pytest.raises(ValueError):
        network.weights[0][0, 0] = 1.0  # read-only


def test_single_input_gives_vectors(network, batch):
    x, _ = batch
    single = network.forward(x[0])
    assert [a.shape for a in single] == [(784,), (16,), (16,), (10,)]
    np.testing.assert_allclose(single[-1], network.forward(x)[-1][0])
    assert network.predict(x).shape == (7,)
    assert int(network.predict(x[0])) == int(network.predict(x)[0])


@pytest.mark.parametrize("shape", [(783,), (2, 785), (2, 28, 28)])
def test_forward_rejects_wrong_input_shape(network, shape):
    with pytest.raises(ValueError, match="expected input of shape"):
        network.forward(np.zeros(shape))


@pytest.mark.parametrize("cost", ["cross_entropy", "quadratic"])
def test_backprop_matches_finite_differences(network, batch, cost):
    x, labels = batch
    _, grad_w, grad_b = network.gradients(x, labels, cost)
    rng = np.random.default_rng(2)
    eps = 1e-6
    params = [np.array(p) for p in network.weights + network.biases]
    grads = grad_w + grad_b
    for p_index, (param, grad) in enumerate(zip(params, grads)):
        assert grad.shape == param.shape
        for flat in rng.choice(param.size, size=min(12, param.size), replace=False):
            idx = np.unravel_index(flat, param.shape)
            costs = []
            for sign in (+1, -1):
                shifted = [p.copy() for p in params]
                shifted[p_index][idx] += sign * eps
                costs.append(Network(tuple(shifted[:3]), tuple(shifted[3:])).gradients(x, labels, cost)[0])
            numeric = (costs[0] - costs[1]) / (2 * eps)
            assert grad[idx] == pytest.approx(numeric, rel=1e-5, abs=1e-8)


def test_module_functions_work_in_float32(network, batch):
    """Training runs in float32 through the same forward/backprop."""
    x, _ = batch
    w32 = [w.astype(np.float32) for w in network.weights]
    b32 = [b.astype(np.float32) for b in network.biases]
    activations = forward(w32, b32, x.astype(np.float32))
    assert all(a.dtype == np.float32 for a in activations)
    grad_w, grad_b = backprop(w32, activations, np.ones((7, 10), np.float32))
    assert [g.dtype for g in grad_w + grad_b] == [np.float32] * 6
    np.testing.assert_allclose(activations[-1], network.forward(x)[-1], atol=1e-5)


def test_npz_round_trip(network, tmp_path, batch):
    path = tmp_path / "w.npz"
    network.save(path)
    loaded = Network.load(path)
    with np.load(path, allow_pickle=False) as npz:
        assert sorted(npz.files) == ["b1", "b2", "b3", "w1", "w2", "w3"]
        assert npz["w1"].shape == (16, 784) and npz["w1"].dtype == np.float32
    # Saved as float32: equal to float32 precision, same answers.
    np.testing.assert_allclose(loaded.forward(batch[0])[-1], network.forward(batch[0])[-1], atol=1e-6)
    assert Network.load(io.BytesIO(path.read_bytes())).sizes == SIZES


def _npz(**arrays):
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _good_arrays():
    return Network.random(np.random.default_rng(3)).to_arrays()


def _with(**changes):
    arrays = {k: np.array(v) for k, v in _good_arrays().items()}
    arrays.update(changes)
    return {k: v for k, v in arrays.items() if v is not None}


BAD_FILES = [
    ("missing", None, "does not exist"),
    ("empty file", b"", "not a readable .npz"),
    ("not a zip", b"hello, weights", "not a readable .npz"),
    ("truncated", "truncate", "not a readable .npz"),
    ("wrong shape", _npz(**_with(w1=np.zeros((16, 783)))), "w1 has shape"),
    ("transposed", _npz(**_with(w2=np.zeros((16, 16)), w3=np.zeros((16, 10)))), "w3 has shape"),
    ("missing array", _npz(**_with(b3=None)), "missing"),
    ("extra array", _npz(**_with(w4=np.zeros(3))), "unexpected"),
    ("not finite", _npz(**_with(b2=np.full(16, np.nan))), "not all finite"),
    ("integers", _npz(**_with(b1=np.zeros(16, dtype=np.int64))), "dtype"),
    ("pickled objects", _npz(**_with(b1=np.array([object()] * 16, dtype=object))), "not a readable .npz"),
]


@pytest.mark.parametrize("content,expected", [c[1:] for c in BAD_FILES], ids=[c[0] for c in BAD_FILES])
def test_bad_weight_files_give_clear_errors(tmp_path, content, expected):
    path = tmp_path / "weights.npz"
    if content == "truncate":
        good = tmp_path / "good.npz"
        Network.random(np.random.default_rng(4)).save(good)
        content = good.read_bytes()[:2000]
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(WeightsError, match=expected) as info:
        Network.load(path)
    assert str(path) in str(info.value)


def test_a_directory_is_not_a_weights_file(tmp_path):
    with pytest.raises(WeightsError, match="directory"):
        Network.load(tmp_path)


def test_mismatched_layers_are_rejected():
    w = _good_arrays()
    with pytest.raises(WeightsError, match="do not fit"):
        Network((w["w1"], w["w2"]), (w["b1"], w["b1"][:3]))
    with pytest.raises(WeightsError, match="takes 16 inputs"):
        Network((np.zeros((8, 784)), w["w2"], w["w3"]), (np.zeros(8), w["b2"], w["b3"]))
