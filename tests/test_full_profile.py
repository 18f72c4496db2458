"""The real `dvc repro` on profiles/full.yaml with only its sizes shrunk.

Every net, scale, GAN run, arm, fold and seed count, hr_sr, and the SR nets' mixed precision and XLA are kept;
steps, images, patches, widths and depths are shrunk so it runs on 2 CPU cores, and the data comes from the
mirror (the profile downloads the full CIFAR-10 and DIV2K, which the mirror does not hold). The classifiers
run in float32: on the CPU a float16 epoch of the 128x128 arms took 143 s against 2.4 s in float32, and
tests/test_switches.py trains the classifier under mixed precision."""
import json
import shutil

import pytest
import yaml

from srtwins.params import run_names
from tests.conftest import ROOT
from tests.helpers import override
from tests.test_e2e import _sh, _tiny_repo, ran_stages

pytestmark = pytest.mark.slow

SHRINK = {
    "epochs": 1,
    "allow_cpu": True,  # the profile asks for mixed precision and XLA: on purpose on the CPU here
    "fetch.source": "mirror",
    "fetch.div2k": False,
    "cifar.train_size": 160,
    "cifar.test_size": 40,
    "sr.train.data": ["t91"],
    "sr.train.epochs": 1,
    "sr.train.steps_per_epoch": 1,
    "sr.train.batch_size": 2,
    "sr.train.val_patches": 4,
    "sr.perceptual.vgg_weights": "none",
    "classify.decision.bootstrap": 100,
    "classify.recipe.mixed_precision": False,  # float16 convolutions are ~60x slower on the CPU (docstring)
}
ARCH = {"srcnn": {"n1": 8, "n2": 4}, "fsrcnn": {"d": 8, "s": 4, "m": 1}, "espcn": {"n1": 8, "n2": 4},
        "edsr": {"n_blocks": 1, "n_feats": 8}, "srresnet": {"n_blocks": 1, "n_feats": 8},
        "rrdb": {"n_blocks": 1, "n_feats": 8, "growth": 4}}


def _shrunk(params):
    """The profile with SHRINK applied and every net's width, depth and GAN budget cut; all else kept."""
    params = override(params, SHRINK)
    for net, cfg in params["sr"]["nets"].items():
        cfg.pop("train", None) if net != "esrgan" else cfg["train"].update(epochs=1, steps_per_epoch=1)
        if net in ARCH:
            cfg["arch"] = {**cfg.get("arch", {}), **ARCH[net]}
        if "gan" in cfg:
            cfg["gan"].update(epochs=1, steps_per_epoch=1, discriminator={"n_feats": 4})
    return params


@pytest.fixture(scope="module")
def full(tmp_path_factory):
    dst = tmp_path_factory.mktemp("full") / "srtwins"
    env = _tiny_repo(dst, profile=ROOT / "profiles/full.yaml", shrink=_shrunk)
    log = _sh("dvc repro", dst, env)
    yield dst, yaml.safe_load((dst / "params.yaml").read_text()), log, env
    shutil.rmtree(dst.parent, ignore_errors=True)


def test_full_profile_keeps_every_net_scale_arm_and_switch(full):
    _, params, _, _ = full
    profile = yaml.safe_load((ROOT / "profiles/full.yaml").read_text())
    assert run_names(params) == run_names(profile)
    shrunk = {"decision": params["classify"]["decision"], "recipe": params["classify"]["recipe"]}
    assert params["classify"] == {**profile["classify"], **shrunk}
    assert params["classify"]["recipe"] == {**profile["classify"]["recipe"], "mixed_precision": False}
    assert params["sr"]["train"]["mixed_precision"] and params["sr"]["train"]["jit_compile"] is True


def test_full_profile_scores_every_run_at_its_scale(full):
    dst, params, _, _ = full
    sr = json.loads((dst / "metrics/sr.json").read_text())
    nets = json.loads((dst / "metrics/sr_nets.json").read_text())
    assert set(nets) == set(run_names(params))
    for run, entry in nets.items():
        for dataset in ("set5", "set14", "bsd100", "cifar10"):
            assert entry["net"] in sr[dataset][f"x{entry['scale']}"], (run, dataset)
    assert nets["srgan_x4"]["generator"] == "srresnet_x4" and nets["esrgan_x4"]["generator"] == "rrdb_x4"


def test_full_profile_decides_every_twin_pair(full):
    dst, params, _, _ = full
    cls = json.loads((dst / "metrics/classify.json").read_text())
    sr_arms = {f"sr-{params['sr'].get('runs', {}).get(r, params['sr']['gan_runs'].get(r))['net']}"
               for r in params["classify"]["sr_runs"]}
    assert sr_arms | {"lr", "bicubic", "hr", "hr-bicubic", "hr-sr-edsr", "hr-sr-esrgan"} == set(cls["arms"])
    assert len(cls["twins"]) == 2 * len(params["classify"]["sr_runs"]) + 2 * len(params["classify"]["hr_sr"])
    assert cls["design"]["models_per_arm"] == 15 and len({a["params"] for a in cls["arms"].values()}) == 1
    for t in cls["twins"].values():
        assert 0 <= t["p_value"] <= t["p_adjusted"] <= 1 and t["verdict"]


def test_editing_one_generator_reruns_it_its_gan_and_their_dependents_only(full):
    """A change to sr.nets.srresnet reruns every srresnet run, the SRGAN runs that fine-tune them, and what
    reads their outputs (super-resolving, scoring, their classifier arms, the study's evaluation), nothing else.

    Runs last: it leaves the edited params in the shared workspace."""
    dst, params, _, env = full
    params["sr"]["nets"]["srresnet"]["arch"]["n_feats"] += 4
    (dst / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    out = _sh("dvc repro", dst, env)
    ran = ran_stages(out)
    generators = [r for r, entry in params["sr"]["runs"].items() if entry["net"] == "srresnet"]
    gans = [r for r, entry in params["sr"]["gan_runs"].items() if entry["generator"] in generators]
    expected = {f"train_sr@{r}" for r in generators} | {f"super_resolve@{r}" for r in generators} | {
        f"train_gan@{r}" for r in gans} | {f"super_resolve_gan@{r}" for r in gans} | {
        f"train_classifier_sr@{r}" for r in params["classify"]["sr_runs"] if r in generators + gans} | {
        "evaluate", "evaluate_classify", "report"}
    assert ran == expected, f"ran {sorted(ran - expected)} beyond, missed {sorted(expected - ran)}"
