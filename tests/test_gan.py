"""GAN and perceptual losses against the papers' formulas computed by hand; adversarial training on TF and JAX."""
import keras
import numpy as np
import pytest

from srtwins import SrtwinsError, gan, train
from srtwins.perceptual import VGG_MEAN_BGR, PerceptualLoss, feature_extractor, vgg_preprocess

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


def _log_sigmoid(z):
    return -np.logaddexp(0.0, -z)


def _np_adversarial(real, fake, relativistic):
    """The papers' formulas with D = sigmoid(C), in float64."""
    if relativistic:
        d_real, d_fake = real - fake.mean(), fake - real.mean()  # D_Ra(x_r, x_f), D_Ra(x_f, x_r) before the sigmoid
        d_loss = -_log_sigmoid(d_real).mean() - np.log1p(-1 / (1 + np.exp(-d_fake))).mean()
        g_loss = -np.log1p(-1 / (1 + np.exp(-d_real))).mean() - _log_sigmoid(d_fake).mean()
        return d_loss, g_loss
    d_loss = -_log_sigmoid(real).mean() - np.log1p(-1 / (1 + np.exp(-fake))).mean()
    return d_loss, -_log_sigmoid(fake).mean()


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
    model = gan.AdversarialSR(upsample, critic, train.PIXEL_LOSSES[pixel],
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
    with pytest.raises(SrtwinsError, match="gan weights: unknown terms percept; known: content"):
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


@pytest.mark.parametrize("relativistic", [False, True])
def test_gan_step_updates_both_nets_and_logs_losses(relativistic):
    from srtwins import devices, nets, patches
    from tests.test_train import _pairs

    devices.setup(0)
    data = patches.PatchDataset(_pairs(), 2, 8, 4, 2, seed=0)
    gen = nets.build("srresnet", 2, n_blocks=1, n_feats=8)
    disc = nets.discriminator(n_feats=4)
    before_g, before_d = gen.get_weights()[0].copy(), disc.get_weights()[0].copy()
    model = gan.AdversarialSR(gen, disc, train.PIXEL_LOSSES["mse"], None,
                              weights={**SRGAN_WEIGHTS, "perceptual": 0.0}, relativistic=relativistic)
    model.compile(keras.optimizers.Adam(1e-4), keras.optimizers.Adam(1e-4))
    history = model.fit(data, epochs=1, verbose=0).history
    assert {"loss", "d_loss", "content", "adversarial", "tv", "perceptual"} <= set(history)
    assert not np.array_equal(before_g, gen.get_weights()[0])
    assert not np.array_equal(before_d, disc.get_weights()[0])
