
import keras
import numpy as np
import pytest

from srtwins import SrtwinsError
from srtwins.data.imresize import imresize
from srtwins.flops import flops_per_output_mpx
from srtwins.sr import nets
from srtwins.sr.infer import load_model
from srtwins.sr.train import save_model
from tests.conftest import ROOT

GENERATORS = list(nets.SPECS)  # the GAN runs fine-tune these nets (srtwins/sr/gan_recipes.py)
SMALL = {"edsr": {"n_blocks": 2}, "srresnet": {"n_blocks": 2}, "rrdb": {"n_blocks": 1}}


@pytest.mark.parametrize("net, scale, expected", [
    ("srcnn", 2, 20_099),        # 9-1-5 on RGB
    ("compact", 2, 225_027),
    ("fsrcnn", 2, 24_683),       # d=56, s=12, m=4, RGB, 9x9 deconvolution
    ("espcn", 3, 31_131),        # 5x5x3x64 + 3x3x64x32 + 3x3x32x27, with biases
    ("edsr", 2, 1_369_859),      # EDSR-baseline x2
    ("srresnet", 4, 1_554_883),  # SRGAN's generator, x4
])
def test_parameter_counts(net, scale, expected):
    assert nets.build(net, scale).count_params() == expected


def test_rrdb_paper_size():
    # ESRGAN's RRDBNet (23 blocks, 64 features, growth 32) at x4 has 16,697,987 parameters
    assert nets.build("rrdb", 4, n_blocks=23).count_params() == 16_697_987


@pytest.mark.parametrize("net", GENERATORS)
@pytest.mark.parametrize("scale", [2, 4])
def test_every_net_upscales(net, scale):
    model = nets.build(net, scale, **SMALL.get(net, {}))
    out = model(np.random.default_rng(0).random((2, 10, 12, 3), dtype=np.float32))
    assert tuple(out.shape) == (2, 10 * scale, 12 * scale, 3)


def test_scale_a_net_cannot_do_and_unknown_names():
    with pytest.raises(SrtwinsError, match="compact cannot do x3"):
        nets.build("compact", 3)
    with pytest.raises(SrtwinsError, match="unknown SR net 'vdsr'"):
        nets.build("vdsr", 2)
    with pytest.raises(SrtwinsError, match="bad architecture option"):
        nets.build("srcnn", 2, depth=9)


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_bicubic_layer_is_matlab_imresize(scale):
    x = np.random.default_rng(scale).random((1, 13, 9, 3)).astype(np.float32)
    got = np.asarray(nets.BicubicUpsample(scale)(x))[0]
    np.testing.assert_allclose(got, imresize(x[0].astype(np.float64), scale), atol=1e-5)


def test_global_residual_starts_near_bicubic():
    x = np.random.default_rng(0).random((1, 8, 8, 3)).astype(np.float32)
    model = nets.build("espcn", 2, global_residual=True)
    for w in model.weights:  # zero the learned branch: the output is bicubic exactly
        w.assign(np.zeros(w.shape))
    np.testing.assert_allclose(np.asarray(model(x))[0], imresize(x[0].astype(np.float64), 2), atol=1e-5)


def test_flops_of_srcnn():
    per_hr_pixel = 2 * (9 * 9 * 3 * 64 + 64 * 32 + 5 * 5 * 32 * 3) + 2 * 25 * 3 * 3 * 4 / 4
    assert flops_per_output_mpx(nets.build("srcnn", 2)) == pytest.approx(per_hr_pixel * 1e6)


@pytest.mark.parametrize("net", GENERATORS)
def test_safe_mode_reload_reproduces_outputs_without_warnings(net, tmp_path):
    """Each net saves compiled with its named loss and loads back compiled in safe mode, silently."""
    import warnings

    from srtwins.sr.train import SRLoss

    model = nets.build(net, 2, **SMALL.get(net, {}))
    model.compile(optimizer="adam", loss=SRLoss("l1"))
    model.optimizer.build(model.trainable_variables)  # as after training: its state is saved and restored
    x = np.random.default_rng(1).random((1, 8, 8, 3)).astype(np.float32)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        save_model(model, tmp_path / f"{net}.keras")
        again = keras.saving.load_model(tmp_path / f"{net}.keras", safe_mode=True)
        plain = load_model(tmp_path / f"{net}.keras")
    # what a user would see: Python prints every category but DeprecationWarning (Keras on NumPy 2.4
    # raises one inside its own variable conversion, which no user sees unless they ask for it)
    shown = [f"{w.category.__name__}: {w.message}" for w in caught if not issubclass(w.category, DeprecationWarning)]
    assert not shown, shown
    assert isinstance(again.loss, SRLoss)
    np.testing.assert_allclose(np.asarray(plain(x)), np.asarray(model(x)), atol=1e-6)


def test_discriminator_takes_any_patch_size():
    d = nets.discriminator(n_feats=8)
    assert tuple(d(np.zeros((2, 24, 40, 3), np.float32)).shape) == (2, 1)


def test_a_new_net_is_one_builder_and_one_spec_entry(monkeypatch):
    """A reader adds a net by writing a builder and registering it; params and stages resolve it by name."""
    import yaml

    from srtwins.config import sr

    def tiny(scale, channels=3):
        lr = keras.Input((None, None, channels))
        return keras.Model(lr, nets.PixelShuffle(scale)(nets.conv(channels * scale * scale, 3)(lr)))

    monkeypatch.setitem(nets.SPECS, "tiny", nets.NetSpec(tiny, scales=(2,)))
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["sr"]["runs"] = {"tiny_x2": {"net": "tiny", "scale": 2}}
    run = sr.run(params, "tiny_x2")
    assert (run.net, run.scale, run.gan) == ("tiny", 2, None)
    assert nets.build(run.net, run.scale).output_shape == (None, None, None, 3)
    with pytest.raises(SrtwinsError, match="tiny cannot do x3"):
        nets.build("tiny", 3)
