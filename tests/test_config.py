"""srtwins.config: the key-naming errors, the frozen values it resolves, and profiles/full.yaml as a valid profile."""
import numpy as np
import pytest
import yaml

from srtwins import BadValue, SrtwinsError, config
from srtwins.config import data, run_names, sr, twins
from srtwins.sr import patches
from tests.conftest import ROOT


def _keys(node, prefix=""):
    """Dotted keys of nested mappings, leaves included; the runs and sr.nets entries are the profile's choice."""
    if not isinstance(node, dict) or prefix in ("sr.runs.", "sr.gan_runs.", "sr.nets."):
        return {prefix.rstrip(".")}
    return {k for key, value in node.items() for k in _keys(value, f"{prefix}{key}.")}


def test_full_profile_has_the_keys_of_params():
    base = yaml.safe_load((ROOT / "params.yaml").read_text())
    full = yaml.safe_load((ROOT / "profiles/full.yaml").read_text())
    assert _keys(full) == _keys(base)


def test_full_profile_resolves():
    full = yaml.safe_load((ROOT / "profiles/full.yaml").read_text())
    runs = [sr.run(full, name) for name in run_names(full)]
    assert {r.scale for r in runs} == {2, 3, 4} and {r.net for r in runs} >= {"srgan", "esrgan", "edsr", "rrdb"}
    study_arms, pairs = twins.study(full)
    assert {"hr-bicubic", "hr-sr-esrgan", "sr-esrgan", "lr", "bicubic", "hr"} <= {a.name for a in study_arms}
    nets = twins.sr_runs(full)  # 9 nets, 3 SR seeds each
    assert len(nets) == 9 and {len(r) for r in nets.values()} == {3}
    assert len(pairs) == 2 * len(nets) + len(full["classify"]["hr_sr"])
    assert twins.recipe(full).model == "resnet" and twins.sr_classifier_seeds(full) == [0, 1, 2]


def _base():
    return yaml.safe_load((ROOT / "params.yaml").read_text())


def test_naming_turns_a_library_value_error_into_one_that_names_the_key():
    with pytest.raises(SrtwinsError, match=r"^params: 'cifar.train_size' = 9 is too many$"):
        with config.naming(data.KEYS):
            raise BadValue("train_size", "= 9 is too many")
    with pytest.raises(BadValue, match=r"^grid = 3 does not divide$"):  # a value config does not know passes through
        with config.naming(data.KEYS):
            raise BadValue("grid", "= 3 does not divide")


def test_an_sr_value_is_named_where_it_was_set():
    """lr_patch set in sr.nets.<net>.train is named there; the shared one in sr.train."""
    params = _base()
    params["sr"]["nets"]["fsrcnn"]["train"]["lr_patch"] = 12
    run = sr.run(params, "fsrcnn_x4")
    assert run.train.lr_patch == 12 and run.keys["lr_patch"] == "sr.nets.fsrcnn.train.lr_patch"
    assert sr.run(params, "espcn_x4").keys["lr_patch"] == "sr.train.lr_patch"
    pairs = [(np.zeros((10, 10, 3), np.uint8), np.zeros((20, 20, 3), np.uint8))]
    with pytest.raises(SrtwinsError, match=r"^params: 'sr.nets.fsrcnn.train.lr_patch' = 12 is larger than training"):
        with config.naming(run.keys):
            patches.check_patch_size(pairs, run.train.lr_patch, ["t91/a"])


def test_resolved_values_are_frozen_and_gan_runs_carry_their_recipe():
    params = _base()
    run, gan_run = sr.run(params, "srcnn_x4"), sr.run(params, "esrgan_x4")
    with pytest.raises(AttributeError):
        run.train.epochs = 1
    assert run.gan is None and gan_run.generator == "rrdb_x4" and gan_run.arch == sr.run(params, "rrdb_x4").arch
    assert (gan_run.gan.recipe.relativistic, gan_run.gan.recipe.feature_distance) == (True, "l1")
    assert twins.KEYS["epochs"] == "epochs" and twins.recipe(params).epochs == params["epochs"]


def test_a_bool_is_no_number_but_passes_where_a_bool_is_allowed():
    assert config.get({"a": True}, "a", (bool, str)) is True
    with pytest.raises(SrtwinsError, match="'a' must be an integer or a number, got True"):
        config.get({"a": True}, "a", (int, float))


def test_an_sr_run_trained_by_the_wrong_stage_is_refused():
    with pytest.raises(SrtwinsError, match="srgan_x4 is a GAN run; train_gan trains it"):
        sr.training(_base(), "srgan_x4", adversarial=False)
    with pytest.raises(SrtwinsError, match=r"srcnn_x4 is not a GAN run \(sr.gan_runs\); train_sr trains it"):
        sr.training(_base(), "srcnn_x4", adversarial=True)
