"""The run plan (scripts/plan.py): every stage DVC generates, exact array bytes, the cache by link type,
the free-space check, one-line errors, and the time model's arithmetic."""
import collections
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import yaml

from srtwins import SrtwinsError, budget, runplan, stagegraph, throughput
from srtwins.budget import ModelFacts, OutSize
from tests.conftest import ROOT

PROFILES = ["params.yaml", "profiles/full.yaml"]
FAKE = ModelFacts(params=1000, trainable=1000, weights=4, trainable_weights=4, layers=3, flops_per_px=1e4)


def _params(name):
    return yaml.safe_load((ROOT / name).read_text())


@pytest.fixture(scope="module")
def dvc_stages(tmp_path_factory):
    """{params file: {stage name: ((out path, cached), ...)}} as DVC itself generates them from dvc.yaml."""
    from dvc.repo import Repo

    found = {}
    for name in PROFILES:
        repo = tmp_path_factory.mktemp("dvc")
        shutil.copy(ROOT / "dvc.yaml", repo / "dvc.yaml")
        shutil.copy(ROOT / name, repo / "params.yaml")
        Repo.init(str(repo), no_scm=True)
        found[name] = {s.name: tuple((str(o.def_path), o.use_cache) for o in s.outs)
                       for s in Repo(str(repo)).index.stages}
    return found


@pytest.fixture
def fast_nets(monkeypatch):
    """Fixed model facts instead of building every net (the full profile builds three 23-block RRDBs)."""
    monkeypatch.setattr(budget, "_built_facts", lambda net, scale, arch: FAKE)
    monkeypatch.setattr(throughput, "_discriminator_flops", lambda side: 1e6)
    monkeypatch.setattr(throughput, "_vgg_flops", lambda side, layer: 1e7)


@pytest.mark.parametrize("name", PROFILES)
def test_stages_and_outputs_are_the_ones_dvc_generates(name, dvc_stages):
    params = _params(name)
    ours = {s.name: tuple((o.path, o.cached) for o in s.outs) for s in stagegraph.stages(params, ROOT / "dvc.yaml")}
    assert ours == dvc_stages[name]
    expected = ({"fetch", "degrade", "evaluate", "evaluate_classify", "report"}
                | {"train_classifier@lr", "train_classifier@hr"}
                | {f"{g}@{run}" for run in params["sr"]["runs"] for g in ("train_sr", "super_resolve")}
                | {f"{g}@{run}" for run in params["sr"]["gan_runs"] for g in ("train_gan", "super_resolve_gan")}
                | {f"train_classifier_sr@{run}" for run in params["classify"]["sr_runs"]})
    assert set(ours) == expected


@pytest.mark.parametrize("name", PROFILES)
def test_plan_sizes_and_times_every_stage(name, dvc_stages, fast_nets, tmp_path):
    rates = throughput.load_rates(runplan.CPU_RATES)
    plan = runplan.build(_params(name), ROOT / "dvc.yaml", rates, tmp_path)
    assert sorted(r.stage for r in plan.rows) == sorted(dvc_stages[name])
    assert all(r.cached > 0 for r in plan.rows if r.stage != "report")
    timed = {r.stage.split("@")[0] for r in plan.rows if r.estimate.seconds}
    assert timed == {"train_sr", "train_gan", "super_resolve", "super_resolve_gan", "train_classifier",
                     "train_classifier_sr"}
    text = runplan.table(plan, name, tmp_path)
    assert "benchmarks/throughput-cpu.json (the default: this project's CPU figures)" in text
    assert all(r.stage in text for r in plan.rows)


def test_array_bytes_are_exact_and_hr_sr_arrays_only_for_hr_sr_runs(tmp_path):
    assert budget.npy_bytes((50_000, 128, 128, 3)) == 2_457_600_000 + 128
    for shape, dtype in [((7, 5, 3), "u1"), ((3, 6102, 10), "f4"), ((6102,), "i8")]:
        np.save(tmp_path / "a.npy", np.zeros(shape, dtype))
        assert budget.npy_bytes(shape, dtype) == os.path.getsize(tmp_path / "a.npy")
    full = _params("profiles/full.yaml")
    stages = {s.name: s for s in stagegraph.stages(full, ROOT / "dvc.yaml")}
    edsr = budget.stage_files(full, stages["super_resolve@edsr_x4"])
    assert edsr["data/sr/edsr_x4/cifar10/hr_x_train.npy"] == 2_457_600_128  # 50,000 x 128 x 128 x 3
    assert edsr["data/sr/edsr_x4/cifar10/x_test.npy"] == 10_000 * 32 * 32 * 3 + 128
    srresnet = budget.stage_files(full, stages["super_resolve@srresnet_x4"])  # feeds no hr-sr arm
    assert not [p for p in srresnet if "hr_x" in p]
    raw = budget.stage_files(full, stages["fetch"])
    assert raw["data/raw/cifar10/x_train.npy"] == 50_000 * 3072 + 128 and raw["data/raw/cifar10/y_test.npy"] == 10_128


def test_keras_bytes_match_saved_models(tmp_path):
    """The .keras estimate against real saves: an SR net in float32, a classifier under mixed precision."""
    import keras

    from srtwins.sr import nets
    from srtwins.twins.classifiers import build

    model = nets.build("espcn", 2)
    model.compile(keras.optimizers.Adam(1e-3), "mse")
    model.optimizer.build(model.trainable_variables)  # Adam's slots, as after training
    model.save(tmp_path / "sr.keras")
    assert budget.keras_bytes(budget.net_facts("espcn", 2, {}), False) == pytest.approx(
        os.path.getsize(tmp_path / "sr.keras"), rel=0.03)
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        cls = build("small_cnn", (8, 8, 3), grid=2)
        cls.compile(keras.optimizers.Adam(1e-3), "mse")
        cls.optimizer.build(cls.trainable_variables)
        cls.save(tmp_path / "cls.keras")
    finally:
        keras.mixed_precision.set_global_policy("float32")
    facts = budget.model_facts(build("small_cnn", (8, 8, 3), grid=2), (8, 8, 3))
    assert budget.keras_bytes(facts, True) == pytest.approx(os.path.getsize(tmp_path / "cls.keras"), rel=0.03)


def test_cache_extra_follows_the_link_type():
    sizes = [OutSize("data/sr/run", True, 1000, True), OutSize("models/sr/run.keras", True, 100, False),
             OutSize("metrics/sr.json", False, 10, False)]
    links = {"copy", "hardlink", "symlink"}
    assert budget.cache_extra(sizes, ("hardlink", "symlink", "copy"), links) == (0, "hardlink")
    assert budget.cache_extra(sizes, ("reflink", "copy"), links) == (1100, "copy")
    assert budget.cache_extra(sizes, ("reflink", "hardlink", "symlink", "copy"), links) == (1000, "hardlink")
    assert budget.cache_extra(sizes, ("hardlink", "symlink", "copy"), {"copy", "symlink"}) == (1000, "symlink")
    assert budget.cache_extra(sizes, ("reflink", "copy"), links | {"reflink"}) == (0, "reflink")
    with pytest.raises(SrtwinsError, match="none of these link types"):
        budget.cache_extra(sizes, ("hardlink",), {"copy"})
    assert budget.cache_types(ROOT / ".dvc") == ("hardlink", "symlink", "copy")  # the committed .dvc/config


def test_free_space_warning_and_check(monkeypatch, fast_nets, tmp_path, capsys):
    usage = collections.namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**6, 10**6 - 500, 500))
    args = [str(ROOT / "params.yaml"), "--dvc-yaml", str(ROOT / "dvc.yaml"), "--target", str(tmp_path)]
    runplan.main(args)
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("warning: the plan needs") and err[0].endswith("has 500 B free")
    with pytest.raises(SystemExit) as stop:
        runplan.main([*args, "--check"])
    assert stop.value.code == 2


@pytest.mark.parametrize("content, message", [(None, "params file not found"), ("a: [1,\n", "not valid YAML")])
def test_bad_params_file_is_one_line_naming_it(tmp_path, content, message):
    path = tmp_path / "p.yaml"
    if content is not None:
        path.write_text(content)
    r = subprocess.run([sys.executable, str(ROOT / "scripts/plan.py"), str(path)], capture_output=True, text=True)
    assert r.returncode == 1
    assert r.stderr.strip().splitlines() == [r.stderr.strip()] and f"{path}: {message}" in r.stderr


def test_new_stage_groups_are_enumerated_and_refused_until_sized(tmp_path):
    """A new dvc.yaml group over a params dict is listed; the plan asks for its size model by name."""
    (tmp_path / "dvc.yaml").write_text(yaml.safe_dump({"stages": {"distill": {
        "foreach": "${sr.gan_runs}", "do": {"cmd": "x", "outs": ["models/sr/${key}-small.keras"]}}}}))
    with pytest.raises(SrtwinsError, match="missing key 'sr.gan_runs'"):
        stagegraph.stages({"sr": {}}, tmp_path / "dvc.yaml")
    params = {"sr": {"gan_runs": {"srgan_x4": {"net": "srgan", "scale": 4, "generator": "srresnet_x4"}}}}
    (stage,) = stagegraph.stages(params, tmp_path / "dvc.yaml")
    assert (stage.name, stage.outs) == ("distill@srgan_x4", (stagegraph.Out("models/sr/srgan_x4-small.keras", True),))
    with pytest.raises(SrtwinsError, match="no size model for 'distill'"):
        budget.out_sizes(params, stage)


def test_sr_flops_scale_with_pixels_and_train_time_follows_the_benchmark():
    from srtwins.sr import nets
    from srtwins.sr.flops import model_flops

    model = nets.build("espcn", 2)
    assert model_flops(model, (16, 16, 3))[0] == 4 * model_flops(model, (8, 8, 3))[0]
    params = _params("params.yaml")
    params["sr"]["nets"]["espcn"] = {"train": {"epochs": 10, "steps_per_epoch": 60}}  # the benchmark's arch and patch
    stage = next(s for s in stagegraph.stages(params, ROOT / "dvc.yaml") if s.name == "train_sr@espcn_x2")
    rates = throughput.load_rates(runplan.CPU_RATES)
    expected = 10 * (60 * 32 + 512 / 3) / 1182.4  # epochs x (steps x batch + validation) / measured patches/s
    assert throughput.stage_estimate(params, stage, rates).seconds == pytest.approx(expected)


def test_classifier_rate_between_and_beyond_measured_sizes():
    rates = throughput.Rates("r.json", "m", {}, {"train_images_per_s": {"32": 715.0, "128": 24.0}})
    assert throughput.classifier_rate(rates, 32) == (715.0, "")
    assert throughput.classifier_rate(rates, 64)[0] == pytest.approx((715 * 24) ** 0.5)
    assert throughput.classifier_rate(rates, 8) == (715.0, "8 px at the 32 px rate")
    assert throughput.classifier_rate(rates, 256)[0] == pytest.approx(6.0)


def test_benchmark_json_round_trips_into_rates(tmp_path):
    from benchmarks.bench import record

    path = tmp_path / "gpu.json"
    record(path, "nets", {"scale": 2, "lr_patch": 16, "train_patches_per_s": {"espcn": 5e4}})
    record(path, "classifiers", {"train_images_per_s": {"8": 9e4}})
    rates = throughput.load_rates(path)
    assert rates.nets["train_patches_per_s"] == {"espcn": 5e4} and rates.classifiers["train_images_per_s"] == {"8": 9e4}
    path.write_text(json.dumps([1]))
    with pytest.raises(SrtwinsError, match="not a throughput file"):
        throughput.load_rates(path)
