"""The twin classifiers' training: one seed gives every arm the same start and batches, a diverging seed leaves
nothing behind, and the one-cycle schedule against its formula."""
import math

import keras
import numpy as np
import pytest

from srtwins import SrtwinsError
from srtwins.config import twins
from srtwins.io import atomic_dir
from srtwins.twins import training

N, BATCH = 44, 8  # 6 batches, the last one short
REC = twins.Recipe(model="bn_cnn", width=8, epochs=1, batch_size=BATCH, learning_rate=0.01, label_smoothing=0.0,
                   warmup=0.5, augment=True, jit_compile="auto", mixed_precision=False)
Y = np.arange(N) % 10


def _recording(model, log):
    """``model`` run eagerly, each step recording its batch's first pixels and its learning rate in ``log``
    (a closure: Keras would copy a dict set as an attribute)."""

    class Recorder(keras.Model):
        def compile(self, **kwargs):
            super().compile(**{**kwargs, "run_eagerly": True, "jit_compile": False})

        def train_step(self, data):
            log["batches"].append(keras.ops.convert_to_numpy(data[0])[:, 0, 0, 0].astype(int))
            log["rates"].append(float(keras.ops.convert_to_numpy(self.optimizer.learning_rate)))
            return super().train_step(data)

    return Recorder(model.input, model.output)


@pytest.fixture
def recorded(monkeypatch):
    """``record(x, seed)``: fit the recipe on ``x``; the initial weights, the batches' first pixels, the rates."""
    build_for = training.build_for

    def record(x, seed):
        log = {"batches": [], "rates": []}

        def recording(rec, input_shape, seed=0):
            model = build_for(rec, input_shape, seed)
            log["weights"] = model.get_weights()
            return _recording(model, log)

        with monkeypatch.context() as m:
            m.setattr(training, "build_for", recording)
            training.fit(x, Y, REC, seed)
        return log

    return record


def _images(first_pixels):
    """One flat 16x16 image per value: a batch's first pixels tell which images it holds."""
    return np.broadcast_to(np.asarray(first_pixels, np.uint8)[:, None, None, None], (N, 16, 16, 3)).copy()


def test_one_seed_gives_every_arm_the_same_start_and_batches(recorded):
    """Two arms (different pixels, one shape) start from the same weights and see the images in the same order;
    another seed changes both."""
    index = np.arange(N)
    arm, twin, other = recorded(_images(index), 3), recorded(_images(255 - index), 3), recorded(_images(index), 4)
    order = [np.concatenate(arm["batches"]), 255 - np.concatenate(twin["batches"]), np.concatenate(other["batches"])]
    assert sorted(order[0]) == index.tolist() and not np.array_equal(order[0], index)  # shuffled, every image once
    np.testing.assert_array_equal(order[1], order[0])
    assert all(np.array_equal(a, b) for a, b in zip(arm["weights"], twin["weights"]))
    assert not np.array_equal(order[2], order[0])
    assert not all(np.array_equal(a, b) for a, b in zip(arm["weights"], other["weights"]))


def test_fit_runs_the_one_cycle_over_its_steps(recorded):
    """A linear warm-up over int(0.5 x 6) = 3 steps from 0, then a cosine to 0 over the other 3: the rate each
    of the 6 steps (ceil(44 / 8)) used, against the formula."""
    steps, warm, peak = math.ceil(N / BATCH), 3, REC.learning_rate
    want = [peak * k / warm if k < warm else peak * (1 + math.cos(math.pi * (k - warm) / (steps - warm))) / 2
            for k in range(steps)]
    np.testing.assert_allclose(recorded(_images(np.arange(N)), 0)["rates"], want, rtol=1e-5, atol=1e-9)


@pytest.mark.parametrize("warmup", [0.1, 0.25])
def test_schedule_is_zero_then_peak_then_zero(warmup):
    rec = twins.Recipe(**{**vars(REC), "warmup": warmup})
    lr = training.schedule(rec, 200)
    rate = [float(keras.ops.convert_to_numpy(lr(k))) for k in range(201)]
    warm = int(warmup * 200)
    assert rate[0] == 0 and rate[warm] == pytest.approx(rec.learning_rate, rel=1e-6)
    assert max(rate) == rate[warm] and rate[warm // 2] == pytest.approx(rec.learning_rate / 2, rel=1e-5)
    assert rate[-1] < 1e-9


def test_a_diverging_seed_is_one_error_naming_it_and_leaves_nothing(tmp_path, monkeypatch, capsys):
    """Seed 1's model starts with NaN weights: the error names seed 1 only, and seed 0's saved model goes too."""
    build_for = training.build_for

    def diverging(rec, input_shape, seed=0):
        model = build_for(rec, input_shape, seed)
        if seed == 1:
            model.get_layer("logits").kernel.assign(np.full(model.get_layer("logits").kernel.shape, np.nan))
        return _recording(model, {"batches": [], "rates": []})  # eager: no tracing, half the time

    monkeypatch.setattr(training, "build_for", diverging)
    x = _images(np.arange(N))
    with pytest.raises(SrtwinsError) as error, atomic_dir(tmp_path / "cls" / "lr") as out:
        training.train_arms(out, {"lr": (x, x[:6])}, (Y, Y[:6]), [0, 1], REC)
    assert str(error.value) == "classifier (seed 1): loss became NaN/inf; no model written"
    assert not list((tmp_path / "cls").iterdir())
    assert "seed 0: train accuracy" in capsys.readouterr().out  # seed 0 trained (and was saved) first
