"""GAN and perceptual losses against the papers' formulas computed by hand; adversarial training on TF and JAX."""
import contextlib
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import keras
import numpy as np
import pytest

from srtwins import SrtwinsError
from srtwins.sr import gan, losses, train
from srtwins.sr.perceptual import VGG_MEAN_BGR, PerceptualLoss, feature_extractor, vgg_preprocess

ROOT = Path(__file__).resolve().parents[2]

RTOL = 1e-5
SRGAN_WEIGHTS = {"content": 1.0, "adversarial": 1e-3, "perceptual": 0.006, "tv": 2e-3}
ESRGAN_WEIGHTS = {"content": 0.01, "adversarial": 0.005, "perceptual": 1.0, "tv": 0.0}


def _images(shape=(2, 16, 16, 3), seed=0):
    rng = np.random.default_rng(seed)
    return rng.random(shape, dtype=np.float32), rng.random(shape, dtype=np.float32)


def _np_preprocess(x):
    return x[..., ::-1] * 255.0 - np.array(VGG_MEAN_BGR, np.float32)


def _linear_extractor(seed=1, features=4):
    """A 1x1-conv 'VGG' with known weights: features = preprocessed pixels @ kernel + bias."""
    rng = np.random.default_rng(seed)
    kernel, bias = rng.normal(0, 0.05, (1, 1, 3, features)), rng.normal(0, 1, features)
    inp = keras.Input((None, None, 3))
    model = keras.Model(inp, keras.layers.Conv2D(features, 1, name="f")(inp))
    model.set_weights([kernel.astype(np.float32), bias.astype(np.float32)])
    return model, lambda x: _np_preprocess(x) @ kernel[0, 0] + bias


def _linear_critic(seed=2):
    """A discriminator with known weights: logit = mean pixel @ w + b, so the logits are exact by hand."""
    rng = np.random.default_rng(seed)
    w, b = rng.normal(0, 3, (3, 1)), rng.normal(0, 1, 1)
    inp = keras.Input((None, None, 3))
    model = keras.Model(inp, keras.layers.Dense(1)(keras.layers.GlobalAveragePooling2D()(inp)))
    model.set_weights([w.astype(np.float32), b.astype(np.float32)])
    return model, lambda x: x.mean(axis=(1, 2)) @ w + b


def _np_adversarial(real, fake, relativistic):
    """The papers' formulas, literally: D = sigmoid(C), D_Ra(a, b) = sigmoid(C(a) - E[C(b)]); float64."""
    def sigmoid(z):
        return 1 / (1 + np.exp(-z))

    if relativistic:
        d_rf, d_fr = sigmoid(real - fake.mean()), sigmoid(fake - real.mean())  # D_Ra(x_r, x_f), D_Ra(x_f, x_r)
        return (-np.log(d_rf).mean() - np.log(1 - d_fr).mean(), -np.log(1 - d_rf).mean() - np.log(d_fr).mean())
    d_real, d_fake = sigmoid(real), sigmoid(fake)
    return -np.log(d_real).mean() - np.log(1 - d_fake).mean(), -np.log(d_fake).mean()


def test_vgg_preprocess_is_caffe_style_as_keras_vgg19_expects():
    x, _ = _images()
    expected = keras.applications.vgg19.preprocess_input(x.astype(np.float64) * 255.0)
    np.testing.assert_allclose(np.asarray(vgg_preprocess(x)), expected, rtol=RTOL, atol=1e-4)
    np.testing.assert_allclose(np.asarray(vgg_preprocess(x)), _np_preprocess(x), rtol=RTOL, atol=1e-4)


@pytest.mark.parametrize("distance", ["mse", "l1"])
def test_perceptual_distance_is_the_plain_feature_distance(distance):
    hr, sr = _images()
    extractor, features = _linear_extractor()
    diff = features(hr) - features(sr)
    expected = np.mean(diff**2) if distance == "mse" else np.mean(np.abs(diff))
    np.testing.assert_allclose(float(PerceptualLoss(extractor, distance)(hr, sr)), expected, rtol=RTOL)


@pytest.mark.parametrize("relativistic", [False, True])
def test_adversarial_losses_follow_the_papers(relativistic):
    rng = np.random.default_rng(3)
    real, fake = rng.normal(0, 2, (4, 1)), rng.normal(0, 2, (4, 1))
    d_loss, g_loss = gan.adversarial_losses(real.astype(np.float32), fake.astype(np.float32), relativistic)
    expected = _np_adversarial(real, fake, relativistic)
    np.testing.assert_allclose([float(d_loss), float(g_loss)], expected, rtol=RTOL)


def test_adversarial_losses_stay_finite_for_confident_logits_in_float16():
    real, fake = np.full((2, 1), 60.0, np.float16), np.full((2, 1), -60.0, np.float16)
    for relativistic in (False, True):
        d_loss, g_loss = gan.adversarial_losses(real, fake, relativistic)
        assert np.isfinite(float(d_loss)) and float(g_loss) > 50


@pytest.mark.parametrize("paper", ["srgan", "esrgan"])
def test_generator_and_discriminator_totals_by_hand(paper):
    """SRGAN: mse + 0.006 VGG mse + 1e-3 (-log D(G(z))) [+ tv]; ESRGAN: 0.01 l1 + 1 VGG l1 + 0.005 L_G^Ra."""
    relativistic, weights, pixel = (False, SRGAN_WEIGHTS, "mse") if paper == "srgan" else (True, ESRGAN_WEIGHTS, "l1")
    rng = np.random.default_rng(4)
    lr, hr = rng.random((2, 8, 8, 3), dtype=np.float32), rng.random((2, 16, 16, 3), dtype=np.float32)
    upsample = keras.Sequential([keras.Input((None, None, 3)), keras.layers.UpSampling2D(2)])
    extractor, features = _linear_extractor()
    critic, logits = _linear_critic()
    model = gan.adversarial_model(upsample, critic, losses.DISTANCES[pixel],
                                  PerceptualLoss(extractor, "mse" if paper == "srgan" else "l1"),
                                  weights=weights, relativistic=relativistic)
    g_loss, d_loss, parts = model.compute_losses(lr, hr, training=False)

    sr = lr.repeat(2, axis=1).repeat(2, axis=2).astype(np.float64)
    diff, fdiff = hr - sr, features(hr) - features(sr)
    content = np.mean(diff**2) if pixel == "mse" else np.mean(np.abs(diff))
    perceptual = np.mean(fdiff**2) if paper == "srgan" else np.mean(np.abs(fdiff))
    tv = np.mean(np.abs(np.diff(sr, axis=1))) + np.mean(np.abs(np.diff(sr, axis=2)))
    d_expected, adversarial = _np_adversarial(logits(hr), logits(sr), relativistic)
    expected = {"content": content, "adversarial": adversarial, "perceptual": perceptual, "tv": tv}
    for term, value in expected.items():
        np.testing.assert_allclose(float(parts[term]), value, rtol=RTOL, err_msg=term)
    np.testing.assert_allclose(float(g_loss), sum(weights[k] * v for k, v in expected.items()), rtol=RTOL)
    np.testing.assert_allclose(float(d_loss), d_expected, rtol=RTOL)


def test_unknown_loss_term_is_refused():
    with pytest.raises(SrtwinsError, match="^weights has unknown terms percept; known: content"):
        gan.check_weights({"content": 1.0, "percept": 0.006})


def test_pre_activation_features_are_the_conv_output_before_its_relu():
    x, _ = _images((1, 16, 16, 3))
    pre, pre_description = feature_extractor("none", layer="block1_conv2", pre_activation=True, seed=0)
    post, _ = feature_extractor("none", layer="block1_conv2", seed=0)
    conv1, conv2 = pre.get_layer("block1_conv1"), pre.get_layer("block1_conv2")
    h = np.maximum(keras.ops.convert_to_numpy(conv1(vgg_preprocess(x))), 0)  # block1_conv1 keeps its ReLU
    kernel, bias = conv2.get_weights()
    by_hand = keras.ops.convert_to_numpy(keras.ops.conv(h, kernel, padding="same")) + bias
    got = keras.ops.convert_to_numpy(pre(vgg_preprocess(x)))
    np.testing.assert_allclose(got, by_hand, rtol=1e-4, atol=1e-3)
    assert got.min() < 0 and "pre-activation" in pre_description
    np.testing.assert_allclose(keras.ops.convert_to_numpy(post(vgg_preprocess(x))), np.maximum(by_hand, 0),
                               rtol=1e-4, atol=1e-3)


def test_perceptual_spec_builds_the_papers_losses():
    loss = PerceptualLoss.from_spec({"vgg_weights": "none", "layer": "block1_conv2", "pre_activation": True,
                                     "distance": "l1", "seed": 3})
    assert loss.distance == "l1" and "seed3" in loss.description and "pre-activation" in loss.description
    with pytest.raises(SrtwinsError, match="perceptual spec: unknown keys feature_scale"):
        PerceptualLoss.from_spec({"vgg_weights": "none", "feature_scale": 12.75})
    with pytest.raises(SrtwinsError, match="unknown perceptual distance 'l2'"):
        PerceptualLoss(None, "l2")


def test_sr_loss_adds_the_weighted_perceptual_term():
    hr, sr = _images((2, 16, 16, 3))
    spec = {"vgg_weights": "none", "layer": "block1_conv2", "distance": "mse", "seed": 0}
    loss = train.SRLoss("l1", 0.5, spec)
    expected = np.mean(np.abs(hr - sr)) + 0.5 * float(loss.perceptual(hr, sr))
    np.testing.assert_allclose(float(loss(hr, sr)), expected, rtol=RTOL)


def test_missing_vgg_weights_file_is_an_error(tmp_path):
    with pytest.raises(SrtwinsError, match="perceptual.vgg_weights: file .*nope.h5 not found"):
        feature_extractor(tmp_path / "nope.h5")


def test_vgg_fallback_is_declared_and_loss_is_usable(capsys):
    extractor, description = feature_extractor("none", layer="block2_conv2", seed=0)
    assert "fallback" in description and "fallback" in capsys.readouterr().out
    loss = PerceptualLoss(extractor)
    x = np.random.default_rng(0).random((2, 32, 32, 3)).astype(np.float32)
    assert float(loss(x, x)) == 0.0 and float(loss(x, 1 - x)) > 0


# --------------------------------------------------------------------------- adversarial training
class _Recorder:
    """Stands in for a dvclive Live: keeps what LiveLogger logs."""

    def __init__(self):
        self.metrics, self.steps = {}, 0

    def log_metric(self, key, value):
        self.metrics.setdefault(key, []).append(value)

    def next_step(self):
        self.steps += 1


def _kernels(net):
    """Every conv/dense kernel (biases can be exactly idle: RaGAN's logit bias cancels in C(a) - E[C(b)])."""
    return [v.numpy() for v in net.trainable_weights if v.path.endswith("kernel")]


def _changed_and_finite(before, after):
    return (all(not np.array_equal(b, a) for b, a in zip(before, after)),
            all(np.isfinite(a).all() for a in after))


def _pairs(n=4, size=32):
    """Random LR/HR image pairs (2x2 means): the GAN step needs pixels, not a faithful degradation."""
    from srtwins.sr import patches

    hrs = np.random.default_rng(0).integers(0, 256, (n, size, size, 3)).astype(np.uint8)
    lrs = hrs.reshape(n, size // 2, 2, size // 2, 2, 3).mean(axis=(2, 4)).astype(np.uint8)
    return patches.make_pairs(list(hrs), list(lrs), 2)


def _replicas(variable):
    """How many devices hold a copy of ``variable`` (MirroredStrategy or a JAX sharding)."""
    if keras.backend.backend() == "jax":
        return len(variable.value.sharding.device_set)
    import tensorflow as tf

    return len(tf.distribute.get_strategy().experimental_local_results(variable.value))


def _reload(model, folder, x):
    """Save with train.save_model, load in safe mode: (same outputs, warnings raised while loading)."""
    path = Path(folder) / "generator.keras"
    train.save_model(model, path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        again = keras.saving.load_model(path, safe_mode=True)
    same = np.allclose(keras.ops.convert_to_numpy(again(x)), keras.ops.convert_to_numpy(model(x)), atol=1e-3)
    return bool(same), [str(w.message) for w in caught]


def train_case(relativistic, mixed, parallel=None, jit="auto", reload_in=None):
    """Six adversarial steps of a tiny SRResNet against a tiny discriminator, in ``parallel`` (a distribution
    scope) if given; a JSON-able report. Six, not two: dynamic loss scaling starts at 2**15 and skips
    the first float16 steps whose gradients overflow, halving the scale each time."""
    from srtwins.sr import nets, patches

    keras.utils.set_random_seed(0)
    keras.mixed_precision.set_global_policy("mixed_float16" if mixed else "float32")
    try:
        with parallel or contextlib.nullcontext():
            pairs = _pairs()
            data, val = patches.PatchDataset(pairs, 2, 8, 4, 6, seed=0), patches.fixed_set(pairs, 4, 8, 2, seed=0)
            gen = nets.build("srresnet", 2, n_blocks=1, n_feats=8)  # float16 output under mixed precision
            disc = nets.discriminator(n_feats=4)
            weights, pixel = (ESRGAN_WEIGHTS, "l1") if relativistic else ({**SRGAN_WEIGHTS, "perceptual": 0.1}, "mse")
            before, replicas, live = (_kernels(gen), _kernels(disc)), _replicas(gen.trainable_weights[0]), _Recorder()
            stats, trained = gan.fit_adversarial(
                gen, disc, data, val, content_loss=losses.DISTANCES[pixel],
                perceptual=PerceptualLoss(_linear_extractor()[0], pixel), weights=weights,
                relativistic=relativistic, epochs=1, learning_rate=1e-3, live=live, jit_compile=jit, name="toy")
        (g_changed, g_finite), (d_changed, d_finite) = (_changed_and_finite(b, _kernels(net))
                                                        for b, net in zip(before, (gen, disc)))
        reloads, load_warnings = _reload(trained, reload_in, val[0][:2]) if reload_in else (None, [])
        return {"replicas": replicas, "g_changed": g_changed, "g_finite": g_finite, "d_changed": d_changed,
                "d_finite": d_finite, "logged": sorted(live.metrics), "epochs_logged": live.steps, "stats": stats,
                "reloads": reloads, "load_warnings": load_warnings}
    finally:
        keras.mixed_precision.set_global_policy("float32")


TRAIN_TERMS = {"loss", "d_loss", *gan.TERMS}


def _check_case(report, replicas=1, jit_compile=None):
    assert report["replicas"] == replicas
    assert report["g_changed"] and report["d_changed"], "every kernel of both nets moves"
    assert report["g_finite"] and report["d_finite"]
    expected = TRAIN_TERMS | {f"val_{k}" for k in TRAIN_TERMS} | {"learning_rate"}
    assert set(report["logged"]) == expected and report["epochs_logged"] == 1
    assert report["stats"]["epochs_run"] == 1 and np.isfinite(report["stats"]["last_epoch"]["loss"])
    assert jit_compile is None or report["stats"]["compute"]["xla"] == jit_compile
    assert report["stats"]["compute"]["replicas"] == replicas
    assert report["reloads"] in (None, True) and not report["load_warnings"]


def replica_cases(cases, folder):
    """In a fresh process: split the CPU into two devices, then ``train_case(**case)`` for each case, in
    MirroredStrategy (TF) or DataParallel (JAX) where ``case["parallel"]``; the first case saves and reloads."""
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

        def parallel():
            return tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]).scope()
    else:
        def parallel():
            return keras.distribution.DataParallel().scope()
    return [train_case(**{**case, "parallel": parallel() if case["parallel"] else None,
                          "reload_in": folder if i == 0 else None}) for i, case in enumerate(cases)]


FRESH_CASES = {  # each backend meets both GANs and both precisions; the in-process test adds TF float32 SRGAN
    "tensorflow": [{"relativistic": True, "mixed": True, "parallel": False, "jit": True},
                   {"relativistic": False, "mixed": True, "parallel": True, "jit": False}],
    "jax": [{"relativistic": False, "mixed": True, "parallel": True, "jit": True},
            {"relativistic": True, "mixed": False, "parallel": False, "jit": True}],
}


@pytest.fixture(scope="module")
def fresh_reports(tmp_path_factory):
    """``replica_cases`` per backend, each in its own process (a process fixes its backend and device count
    at start-up); the two run side by side."""
    env = {**os.environ, "PYTHONPATH": str(ROOT),  # LLVM at -O0: XLA compiles these tiny steps 3x faster
           "XLA_FLAGS": "--xla_force_host_platform_device_count=2 --xla_backend_optimization_level=0"}
    code = ("import json, sys; from tests.sr.test_gan import replica_cases; "
            "print('REPORT', json.dumps(replica_cases(json.loads(sys.argv[1]), sys.argv[2])))")
    running = {backend: subprocess.Popen(
        [sys.executable, "-c", code, json.dumps(cases), str(tmp_path_factory.mktemp(backend))], cwd=ROOT,
        env={**env, "KERAS_BACKEND": backend}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for backend, cases in FRESH_CASES.items()}
    reports = {}
    for backend, process in running.items():
        out, err = process.communicate(timeout=600)
        lines = [line for line in out.splitlines() if line.startswith("REPORT ")]
        reports[backend] = json.loads(lines[-1][len("REPORT "):]) if process.returncode == 0 and lines else err[-3000:]
    return reports


def test_adversarial_training_on_tensorflow(tmp_path):
    _check_case(train_case(False, False, reload_in=tmp_path))


@pytest.mark.slow
def test_adversarial_training_on_tensorflow_with_xla_and_on_two_replicas(fresh_reports):
    """XLA on one device (op determinism, which turns XLA off, is never enabled in that process); two
    replicas without XLA, which TensorFlow refuses on logical CPU devices (it works on GPUs)."""
    xla, mirrored = fresh_reports["tensorflow"]
    _check_case(xla, jit_compile=True)
    _check_case(mirrored, replicas=2, jit_compile=False)


@pytest.mark.slow
def test_adversarial_training_on_jax_and_with_jax_data_parallel(fresh_reports):
    parallel, single = fresh_reports["jax"]
    _check_case(parallel, replicas=2, jit_compile=True)
    _check_case(single, jit_compile=True)


def test_non_finite_loss_stops_adversarial_training_with_a_clear_error():
    """Tiny nets (an upsampling generator, a linear critic): only the NaN guard is under test."""
    from srtwins.sr import patches

    pairs = _pairs()
    upsample = keras.Sequential([keras.Input((None, None, 3)), keras.layers.Conv2D(3, 1),
                                 keras.layers.UpSampling2D(2)])

    def nan_content(y, p):
        return losses.mse(y, p) * np.nan

    stopped = "toy: adversarial training stopped, loss became NaN/inf at epoch 1, batch 0; no model written"
    with pytest.raises(SrtwinsError, match=stopped):
        gan.fit_adversarial(upsample, _linear_critic()[0], patches.PatchDataset(pairs, 2, 8, 4, 2, seed=0),
                            patches.fixed_set(pairs, 4, 8, 2, seed=0), content_loss=nan_content, perceptual=None,
                            weights={"content": 1.0, "adversarial": 1e-3}, relativistic=False, epochs=2,
                            learning_rate=1e-3, name="toy")


def test_mixed_precision_gives_each_net_its_own_loss_scale():
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        model = gan.adversarial_model(_linear_critic()[0], _linear_critic()[0], losses.mse, None,
                                      {"content": 1.0}, relativistic=False)
        model.compile(keras.optimizers.Adam(), keras.optimizers.Adam())
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    assert isinstance(model.d_optimizer, keras.optimizers.LossScaleOptimizer)
    assert model.optimizer.dynamic_scale is not model.d_optimizer.dynamic_scale


def test_a_loaded_generator_computes_in_the_current_policy(tmp_path):
    """A float32-trained model fine-tuned under mixed precision is rebuilt to compute in float16, weights kept."""
    import keras

    from srtwins import compute
    from srtwins.sr import nets
    from srtwins.sr.infer import load_model
    from srtwins.sr.train import save_model

    compute.setup(0)
    model = nets.build("srresnet", 2, n_blocks=1, n_feats=8, global_residual=True)
    save_model(model, tmp_path / "g.keras")
    try:
        keras.mixed_precision.set_global_policy("mixed_float16")
        loaded = compute.float32_output(compute.under_policy(load_model(tmp_path / "g.keras")))
        assert {layer.dtype_policy.name for layer in loaded.layers[1:-1]} == {"mixed_float16"}
        assert loaded.layers[-1].name == "to_float32" and loaded.output.dtype == "float32"
        assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), loaded.get_weights()))
        assert compute.float32_output(loaded) is loaded
    finally:
        keras.mixed_precision.set_global_policy("float32")
