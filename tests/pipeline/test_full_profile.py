"""profiles/full.yaml, in two parts.

Resolution (fast): every stage DVC generates from the profile, with its command and its params as DVC reads
them (every net, scale, GAN run, SR seed replica, arm kind and switch; 3 SR seeds x 3 classifier seeds),
and the stages an edit of one generator's params reruns in the shrunk profile below, without training anything.

Execution (slow): every stage DVC generates from the profile with one run per net (all nine nets, at x2, x3
and x4), one SR arm with its hr-sr twin, 2 classifier seeds, and steps, images, patches, widths and depths
shrunk, so that every kind of stage runs on 2 CPU cores. The data comes from the mirror (the profile downloads
the full CIFAR-10 and DIV2K, which the mirror does not hold). It runs in float32 without XLA: on the CPU those
switches only cost time here (a float16 epoch of a 128x128 classifier arm took 143 s against 2.4 s in
float32), and tests/test_switches.py and tests/sr/test_gan.py prove them on every net, the GANs and the classifier.

The stages' commands, as DVC resolves them, run in DVC's order in one Python process, and `dvc commit` records
them: 23 stage processes would spend about 8 s each importing TensorFlow. tests/pipeline/test_e2e.py runs the real
`dvc repro`, one process per stage.
"""
import json
import math
import shlex
import shutil

import networkx as nx
import numpy as np
import pytest
import yaml

from tests.conftest import ROOT
from tests.helpers import override, recompute_twins
from tests.pipeline.test_e2e import _sh, _tiny_repo

PROFILE = yaml.safe_load((ROOT / "profiles/full.yaml").read_text())


@pytest.fixture(scope="module")
def full_stages(tmp_path_factory):
    """{stage name: Stage} as DVC itself generates them from dvc.yaml and profiles/full.yaml."""
    from dvc.repo import Repo

    repo = tmp_path_factory.mktemp("full-index")
    shutil.copy(ROOT / "dvc.yaml", repo / "dvc.yaml")
    shutil.copy(ROOT / "profiles/full.yaml", repo / "params.yaml")
    Repo.init(str(repo), no_scm=True)
    return {s.name: s for s in Repo(str(repo)).index.stages}


def _params_of(stage):
    """The params a stage depends on, with the values DVC reads for it."""
    return {k: v for dep in stage.deps if hasattr(dep, "read_params") for k, v in dep.read_params().items()}


def test_every_run_of_the_profile_gets_its_stages_and_params(full_stages):
    runs, gan_runs = PROFILE["sr"]["runs"], PROFILE["sr"]["gan_runs"]
    assert {r["scale"] for r in runs.values()} == {2, 3, 4} and len(runs) == 34 and len(gan_runs) == 10
    for run, entry in {**runs, **gan_runs}.items():
        kinds = ("train_sr", "super_resolve") if run in runs else ("train_gan", "super_resolve_gan")
        table = "sr.runs" if run in runs else "sr.gan_runs"
        for kind in kinds:
            stage = full_stages[f"{kind}@{run}"]
            assert stage.cmd.endswith(f"--run {run}"), stage.cmd
            assert _params_of(stage)[f"{table}.{run}"] == entry
        train = _params_of(full_stages[f"{kinds[0]}@{run}"])
        assert train["sr.train"]["mixed_precision"] is True and train["sr.train"]["jit_compile"] is True
        assert train[f"sr.nets.{entry['net']}"] == PROFILE["sr"]["nets"][entry["net"]]
        if run in gan_runs:
            assert f"models/sr/{entry['generator']}.keras" in {str(d.def_path) for d in full_stages[
                f"train_gan@{run}"].deps}


def test_every_arm_of_the_profile_trains_with_its_seeds(full_stages):
    classify = PROFILE["classify"]
    sources = ["lr", "hr"] + classify["sr_runs"]
    for source in sources:
        name = f"train_classifier@{source}" if source in ("lr", "hr") else f"train_classifier_sr@{source}"
        got = _params_of(full_stages[name])
        assert full_stages[name].cmd.endswith(f"--source {source}")
        seeds = got["classify.seeds"] if source in ("lr", "hr") else got["classify.sr_classifier_seeds"]
        assert seeds == [0, 1, 2] and got["epochs"] == 40
        assert got["classify.recipe"] == classify["recipe"] and got["classify.scale"] == 4
        assert got["classify.hr_sr"] == ["edsr", "esrgan"]
    assert len(classify["sr_runs"]) == 27 and classify["sr_seeds"] == 3
    assert {n for n in full_stages if n.startswith("train_classifier")} == {
        f"train_classifier@{s}" for s in ("lr", "hr")} | {f"train_classifier_sr@{r}" for r in classify["sr_runs"]}
    assert _params_of(full_stages["evaluate_classify"])["classify"] == classify
    assert {"fetch", "degrade", "evaluate", "evaluate_classify", "report"} <= set(full_stages)


# --------------------------------------------------------------------------- execution
RUNS = ["srcnn_x3", "fsrcnn_x2", "espcn_x3", "compact_x2", "edsr_x2", "rrdb_x3", "srresnet_x4"]
GAN_RUNS = ["esrgan_x3", "srgan_x4"]
ARM_RUN = "srgan_x4"  # the one SR arm (and its hr-sr twin): a GAN, whose generator the edit check changes
SHRINK = {
    "epochs": 1,
    "fetch.source": "mirror",
    "fetch.div2k": False,
    "fetch.images_per_set": 4,
    "cifar.train_size": 160,
    "cifar.test_size": 40,
    "sr.train.data": ["t91"],
    "sr.train.epochs": 1,
    "sr.train.steps_per_epoch": 1,
    "sr.train.batch_size": 2,
    "sr.train.val_patches": 4,
    "sr.perceptual.vgg_weights": "none",
    "sr.train.mixed_precision": False,  # tests/test_switches.py and test_gan.py prove the switches on every net;
    "sr.train.jit_compile": "auto",  # here XLA compiling and float16 on the CPU only cost time
    "classify.sr_runs": [ARM_RUN],
    "classify.hr_sr": ["srgan"],
    "classify.sr_seeds": 1,
    "classify.seeds": [0, 1],
    "classify.sr_classifier_seeds": [0, 1],
    "classify.recipe.mixed_precision": False,  # float16 convolutions are ~60x slower on the CPU (docstring)
}
ARCH = {"srcnn": {"n1": 8, "n2": 4}, "fsrcnn": {"d": 8, "s": 4, "m": 1}, "espcn": {"n1": 8, "n2": 4},
        "edsr": {"n_blocks": 1, "n_feats": 8}, "srresnet": {"n_blocks": 1, "n_feats": 8},
        "rrdb": {"n_blocks": 1, "n_feats": 8, "growth": 4}}


def _shrunk(params):
    """The profile with one run per net, SHRINK applied and every net's width, depth and GAN budget cut."""
    params["sr"]["runs"] = {r: params["sr"]["runs"][r] for r in RUNS}
    params["sr"]["gan_runs"] = {r: params["sr"]["gan_runs"][r] for r in GAN_RUNS}
    params = override(params, SHRINK)
    for net, cfg in params["sr"]["nets"].items():
        cfg.pop("train", None) if net != "esrgan" else cfg["train"].update(epochs=1, steps_per_epoch=1)
        if net in ARCH:
            cfg["arch"] = {**cfg.get("arch", {}), **ARCH[net]}
        if "gan" in cfg:
            cfg["gan"].update(epochs=1, steps_per_epoch=1, discriminator={"n_feats": 4})
    return params


# Each command is `python -m stages.<stage> [args]`; this runs them in turn as `python -m` would, in the copy.
RUN_IN_ONE_PROCESS = r"""
import importlib, shlex, sys
import stages, keras  # stages first: it quiets TensorFlow's C++ logs
from srtwins import cli
for cmd in sys.argv[1:]:
    python, flag, module, *args = shlex.split(cmd)
    assert (python, flag) == ("python", "-m") and module.startswith("stages."), cmd
    print(f"Running stage command {cmd!r}", flush=True)
    sys.argv = [module.replace(".", "/") + ".py", *args]
    cli.run(importlib.import_module(module).main)
    keras.backend.clear_session()
"""


def _in_dvc_order(dst):
    """{name: command} of every stage DVC generates in ``dst``, each after the stages it depends on."""
    from dvc.repo import Repo

    graph = Repo(str(dst)).index.graph  # edges point from a stage to the stages it depends on
    return {s.name: s.cmd for s in reversed(list(nx.topological_sort(graph)))}


@pytest.fixture(scope="module")
def full(tmp_path_factory):
    dst = tmp_path_factory.mktemp("full") / "srtwins"
    env = _tiny_repo(dst, profile=ROOT / "profiles/full.yaml", shrink=_shrunk)
    stages = _in_dvc_order(dst)
    log = _sh(f"python -c {shlex.quote(RUN_IN_ONE_PROCESS)} {shlex.join(stages.values())}", dst, env)
    _sh("dvc commit --force", dst, env)  # dvc.lock: every stage's deps and outs, as `dvc repro` records them
    yield dst, yaml.safe_load((dst / "params.yaml").read_text()), stages, log, env
    shutil.rmtree(dst.parent, ignore_errors=True)


@pytest.mark.slow
def test_every_stage_ran_and_dvc_records_all_as_up_to_date(full):
    dst, _, stages, log, env = full
    assert [line.split("'")[1] for line in log.splitlines() if line.startswith("Running stage command")] == list(
        stages.values())
    assert "up to date" in _sh("dvc status", dst, env)  # every out there, every dep as the stages read it


@pytest.mark.slow
def test_shrunk_profile_runs_every_net_and_every_kind_of_stage(full):
    """What the stages wrote: a model of every net with its finite training record and finite scores in every
    cell of its scale, and each classifier arm's models and finite test probabilities."""
    dst, _, stages, _, _ = full
    assert {g.split("@")[0] for g in stages} == {
        "fetch", "degrade", "train_sr", "train_gan", "super_resolve", "super_resolve_gan", "evaluate",
        "train_classifier", "train_classifier_sr", "evaluate_classify", "report"}
    nets = json.loads((dst / "metrics/sr_nets.json").read_text())
    sr = json.loads((dst / "metrics/sr.json").read_text())
    assert {entry["net"] for entry in nets.values()} == {
        "srcnn", "fsrcnn", "espcn", "compact", "edsr", "srresnet", "rrdb", "srgan", "esrgan"}
    for run, entry in nets.items():
        assert (dst / "models/sr" / f"{run}.keras").stat().st_size > 0, run
        assert entry["params"] > 0 and 0 < entry["gflops_per_output_mpx"] < math.inf, run
        phase = entry["training"]["gan" if entry["generator"] else "train"]
        last = phase["last_epoch"].values() if entry["generator"] else [phase["best_val_loss"]]
        assert phase["epochs_run"] == 1 and all(map(math.isfinite, last)), (run, phase)
        for dataset in ("set5", "set14", "bsd100", "cifar10"):
            cell = sr[dataset][f"x{entry['scale']}"][entry["net"]]
            assert len(cell) == 5 and all(map(math.isfinite, cell.values())), (run, dataset, cell)
    arms = {"lr": {"lr", "bicubic"}, "hr": {"hr", "hr-bicubic"}, ARM_RUN: {"sr-srgan", "hr-sr-srgan"}}
    test_images = len(np.load(dst / "data/raw/cifar10/y_test.npy"))
    for source, names in arms.items():
        assert {p.name for p in (dst / "models/cls" / source).iterdir()} == names, source
        for name in names:
            folder = dst / "models/cls" / source / name
            probs = np.load(folder / "probs.npy")
            assert probs.shape == (2, test_images, 10) and np.allclose(probs.sum(-1), 1), (source, name)
            assert all((folder / f"model-s{seed}.keras").stat().st_size > 0 for seed in (0, 1)), (source, name)


@pytest.mark.slow
def test_shrunk_profile_scores_every_run_at_its_scale(full):
    dst, *_ = full
    sr = json.loads((dst / "metrics/sr.json").read_text())
    nets = json.loads((dst / "metrics/sr_nets.json").read_text())
    assert set(nets) == set(RUNS + GAN_RUNS)
    for run, entry in nets.items():
        for dataset in ("set5", "set14", "bsd100", "cifar10"):
            assert entry["net"] in sr[dataset][f"x{entry['scale']}"], (run, dataset)
    assert nets["srgan_x4"]["generator"] == "srresnet_x4" and nets["esrgan_x3"]["generator"] == "rrdb_x3"


@pytest.mark.slow
def test_shrunk_profile_decides_every_kind_of_twin_pair(full):
    dst, *_ = full
    cls = json.loads((dst / "metrics/classify.json").read_text())
    assert set(cls["arms"]) == {"lr", "bicubic", "hr", "hr-bicubic", "sr-srgan", "hr-sr-srgan"}
    assert set(cls["twins"]) == {"sr-srgan_vs_lr", "sr-srgan_vs_bicubic", "hr-sr-srgan_vs_hr-bicubic"}
    assert {a["runs"] for a in cls["arms"].values()} == {2}
    assert len({a["params"] for a in cls["arms"].values()}) == 1  # global pooling: one size for 32 and 128 px
    hr_sr = json.loads((dst / f"models/cls/{ARM_RUN}/hr-sr-srgan/train.json").read_text())
    assert hr_sr["input_shape"] == [128, 128, 3]  # the native 32x32 images super-resolved x4
    recompute_twins(dst)
    for t in cls["twins"].values():
        assert t["runs"] == [2, 2] and set(t["pairing"]) >= {"seeds", "paired"}


def _stage_params(folder, params):
    """({stage name: the params DVC reads for it}, DVC's stage graph) of dvc.yaml in ``folder`` with ``params``."""
    from dvc.repo import Repo

    (folder / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    index = Repo(str(folder)).index
    return {s.name: _params_of(s) for s in index.stages}, index.graph


def test_editing_one_generator_reruns_it_its_gan_and_their_dependents_only(tmp_path):
    """A change to sr.nets.srresnet of the shrunk profile makes DVC rerun the srresnet run, the SRGAN run that
    fine-tunes it, and what reads their outputs (super-resolving, scoring, their classifier arms, the study's
    evaluation).

    From DVC's index alone, nothing built: the stages whose params, as DVC reads them, change are those `dvc
    status` would name against a lock of the unedited run, and DVC's stage graph adds everything downstream of
    them, which `dvc repro` reruns because a saved Keras model never hashes the same twice (its file holds a
    timestamp)."""
    from dvc.repo import Repo

    shutil.copy(ROOT / "dvc.yaml", tmp_path / "dvc.yaml")
    Repo.init(str(tmp_path), no_scm=True)
    params = _shrunk(yaml.safe_load((ROOT / "profiles/full.yaml").read_text()))
    before, _ = _stage_params(tmp_path, params)
    params["sr"]["nets"]["srresnet"]["arch"]["n_feats"] += 4
    after, graph = _stage_params(tmp_path, params)
    assert set(after) == set(before)
    changed = {name for name in after if after[name] != before[name]}
    assert changed == {"train_sr@srresnet_x4"}, changed
    start = [s for s in graph if s.name in changed]
    rerun = changed | {d.name for s in start for d in nx.ancestors(graph, s)}  # edges point to deps
    expected = {"train_sr@srresnet_x4", "super_resolve@srresnet_x4", "train_gan@srgan_x4",
                "super_resolve_gan@srgan_x4", f"train_classifier_sr@{ARM_RUN}", "evaluate", "evaluate_classify",
                "report"}
    assert rerun == expected, f"reruns {sorted(rerun - expected)} beyond, misses {sorted(expected - rerun)}"
