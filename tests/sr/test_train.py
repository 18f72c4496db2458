import numpy as np
import pytest
from keras import ops

from srtwins import SrtwinsError, compute
from srtwins.data.imresize import degrade
from srtwins.sr import nets, patches, train
from srtwins.sr.infer import load_model


def _pairs(n=4, size=40, scale=2, seed=0):
    rng = np.random.default_rng(seed)
    hrs = [np.clip(rng.normal(128, 40, (size, size, 3)).cumsum(1) / 8 % 256, 0, 255).astype(np.uint8) for _ in range(n)]
    return patches.make_pairs(hrs, [degrade(h, scale) for h in hrs], scale)


def _fit(tmp_path, loss=None, name="m.keras", epochs=2):
    compute.setup(0)
    pairs = _pairs()
    data = patches.PatchDataset(pairs, 2, 8, 8, 3, seed=0)
    val = patches.fixed_set(pairs, 16, 8, 2, seed=0)
    model = nets.build("espcn", 2, global_residual=True)
    return train.fit(model, data, val, epochs=epochs, learning_rate=1e-3, loss=loss or train.SRLoss("mse"),
                     out_path=tmp_path / name, patience=3, reduce_lr_patience=1, name="toy")


def test_patches_are_aligned_and_reproducible():
    pairs = _pairs(scale=3)
    a_lo, a_hi = patches.sample(pairs, 5, 6, 3, np.random.default_rng(1))
    b_lo, b_hi = patches.sample(pairs, 5, 6, 3, np.random.default_rng(1))
    np.testing.assert_array_equal(a_lo, b_lo)
    assert a_hi.shape == (5, 18, 18, 3)
    # every LR patch is the degraded HR patch up to border effects: check the centre
    lo, hi = patches.sample(pairs, 3, 10, 3, np.random.default_rng(2), augment=False)
    for low, high in zip(lo, hi):
        assert np.abs(degrade(high, 3)[3:-3, 3:-3].astype(int) - low[3:-3, 3:-3]).mean() < 3


def test_patch_larger_than_training_image_is_refused():
    pairs = _pairs(size=20)  # LR 10x10
    with pytest.raises(SrtwinsError, match=r"^lr_patch = 12 is larger than training image t91/a \(LR 10x10\)"):
        patches.check_patch_size(pairs, 12, ["t91/a"] * len(pairs))


def test_fit_saves_best_model_that_reloads_safely(tmp_path):
    stats, model = _fit(tmp_path)
    assert stats["epochs_run"] == 2 and np.isfinite(stats["best_val_loss"])
    again = load_model(tmp_path / "m.keras")
    x = np.random.default_rng(0).random((1, 8, 8, 3)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(again(x)), np.asarray(model(x)), atol=1e-6)


def test_training_is_deterministic_on_cpu(tmp_path):
    _, a = _fit(tmp_path, name="a.keras")
    _, b = _fit(tmp_path, name="b.keras")
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)


def test_nan_loss_stops_with_a_clear_error_and_writes_nothing(tmp_path):
    def bad_loss(y, p):
        return ops.mean(ops.square(y - p)) * np.nan

    with pytest.raises(SrtwinsError, match="toy: training stopped, loss became NaN"):
        _fit(tmp_path, loss=bad_loss)
    assert not list(tmp_path.iterdir())


def test_unknown_pixel_loss():
    with pytest.raises(SrtwinsError, match="unknown pixel loss 'l3'"):
        train.SRLoss("l3")


def test_trained_model_saves_and_loads_compiled_in_safe_mode_without_warnings(tmp_path, recwarn):
    import keras

    _fit(tmp_path, loss=train.SRLoss("l1"), epochs=1)
    model = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)  # compiled: the loss deserializes
    assert isinstance(model.loss, train.SRLoss) and model.loss.pixel == "l1"
    train.save_model(model, tmp_path / "again.keras")
    keras.saving.load_model(tmp_path / "again.keras", safe_mode=True)
    assert not [str(w.message) for w in recwarn.list if "lambda" in str(w.message).lower()]
