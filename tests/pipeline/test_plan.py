"""The run plan (scripts/plan.py): DVC's stages, exact array bytes, model bytes against a
saved model, the time arithmetic, the cache and free-space check, one-line errors, and docs/plan.md current."""
import collections
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import yaml

from scripts import plan as runplan
from srtwins import SrtwinsError
from tests.conftest import ROOT

PROFILES = ["params.yaml", "profiles/full.yaml"]


def _params(name):
    return yaml.safe_load((ROOT / name).read_text())


@pytest.fixture(scope="module")
def stages():
    """{params file: runplan.dvc_stages} for both profiles."""
    return {name: runplan.dvc_stages(ROOT / name) for name in PROFILES}


@pytest.fixture(scope="module")
def plans():
    return {name: runplan.build(ROOT / name) for name in PROFILES}


def _stage(stages, name, stage):
    return next((sp, outs) for n, sp, outs in stages[name] if n == stage)


@pytest.mark.parametrize("name", PROFILES)
def test_stages_outputs_and_params_are_the_ones_dvc_generates(name, stages, tmp_path):
    from dvc.repo import Repo

    shutil.copy(ROOT / "dvc.yaml", tmp_path / "dvc.yaml")
    shutil.copy(ROOT / name, tmp_path / "params.yaml")
    Repo.init(str(tmp_path), no_scm=True)
    dvc = {s.name: [(str(o.def_path), o.use_cache) for o in s.outs] for s in Repo(str(tmp_path)).index.stages}
    assert {n: outs for n, _, outs in stages[name]} == dvc
    params = _params(name)
    expected = ({"fetch", "degrade", "evaluate", "evaluate_classify", "report", "train_classifier@lr",
                 "train_classifier@hr"}
                | {f"{g}@{run}" for run in params["sr"]["runs"] for g in ("train_sr", "super_resolve")}
                | {f"{g}@{run}" for run in params["sr"]["gan_runs"] for g in ("train_gan", "super_resolve_gan")}
                | {f"train_classifier_sr@{run}" for run in params["classify"]["sr_runs"]})
    assert set(dvc) == expected
    run, entry = next(iter(params["sr"]["gan_runs"].items()))
    sp, _ = _stage(stages, name, f"train_gan@{run}")
    assert sp[f"sr.gan_runs.{run}"] == entry and sp["sr.train"] == params["sr"]["train"]


@pytest.mark.parametrize("name", PROFILES)
def test_plan_has_a_row_per_stage_with_the_big_outputs_sized_and_timed(name, plans, stages):
    rows = {r[0]: r for r in plans[name].rows}
    assert list(rows) == [n for n, _, _ in stages[name]]
    sized = {n for n, cached, *_ in rows.values() if cached}
    assert sized == {n for n in rows if n.split("@")[0] in ("fetch", "degrade", "super_resolve", "super_resolve_gan",
                                                           "train_classifier", "train_classifier_sr")
                     or (n.startswith("train_") and name == "params.yaml")}  # its SR nets are in sr_nets.json
    timed = {n.split("@")[0] for n, _, _, t, _ in rows.values() if t}
    assert timed == {"train_sr", "train_gan", "super_resolve", "super_resolve_gan", "train_classifier",
                     "train_classifier_sr"}
    assert rows["evaluate"][2] == 6 and rows["report"][2] == 2  # cache: false outputs, in git
    text = runplan.table(plans[name])
    assert f"Run plan of {name}: {len(rows)} stages" in text and "Times from benchmarks/throughput-cpu.json" in text
    assert ("model not counted" in text) == (name != "params.yaml")


def test_array_bytes_are_exact_against_np_save(tmp_path):
    for shape, dtype in [((7, 5, 3), "u1"), ((3, 6102, 10), "f4"), ((6102,), "i8"), ((50_000, 128, 128, 3), "u1")]:
        np.lib.format.open_memmap(tmp_path / "a.npy", "w+", dtype, shape).flush()  # a sparse file: real size
        assert runplan.npy_bytes(shape, dtype) == os.path.getsize(tmp_path / "a.npy")
    np.save(tmp_path / "b.npy", np.zeros((10_000,), "u1"))
    assert runplan.npy_bytes((10_000,)) == os.path.getsize(tmp_path / "b.npy") == 10_128


def test_stage_bytes_follow_the_shapes(stages):
    """hr_sr runs write the native images super-resolved as well; fetch writes CIFAR-10 (its exact subset by
    source), the sets and DIV2K."""
    full, rates = _params("profiles/full.yaml"), runplan.read_json(runplan.CPU_RATES)
    edsr, srresnet = (runplan._superres(_stage(stages, "profiles/full.yaml", f"super_resolve@{run}")[0], full, rates,
                                        run)[0] for run in ("edsr_x4", "srresnet_x4"))
    assert edsr - srresnet == 983_040_128 + 1_966_080_128  # hr_x_train, hr_x_test: N x 128 x 128 x 3
    sp, _ = _stage(stages, "profiles/full.yaml", "fetch")
    # train, test and exact (downloaded: all 10,000 official test images; from the mirror: its 1,017)
    cifar = 20_000 * 3072 + 128 + 20_128 + 40_000 * 3072 + 128 + 40_128 + 10_000 * 3072 + 128 + 10_128
    assert runplan.cifar(full)[2] == 10_000 and runplan.cifar(_params("params.yaml"))[2] == 1_017
    sets = runplan.image_bytes(("set5", "set14", "bsd100", "t91"))
    assert sets == 1_702_368 + 9_144_232 + 46_080_000 + 16_066_899  # the manifests' H x W x C
    assert runplan._data(sp, full, rates, "raw")[0] == cifar + sets + 3_530_603_713 + 925_390_592 + 427_847_282 \
        + 246_914_039  # DIV2K: the HR zip and the x2, x3, x4 zips


def test_model_bytes_match_a_saved_tiny_model(tmp_path):
    """The stored arrays of a small_cnn's .keras file, in float32 and under mixed precision, match model_bytes
    within 0.1% (Adam's step count and learning rate); the whole file within 15% (its HDF5 and config)."""
    import io
    import zipfile

    import h5py
    import keras

    from srtwins.twins.classifiers import build

    for policy in ("float32", "mixed_float16"):
        keras.mixed_precision.set_global_policy(policy)
        try:
            model = build("small_cnn", (32, 32, 3), augment=False)
            model.compile(keras.optimizers.Adam(1e-3), "mse")
            model.optimizer.build(model.trainable_variables)  # Adam's slots, as after training
            model.save(tmp_path / "m.keras")
        finally:
            keras.mixed_precision.set_global_policy("float32")
        assert model.count_params() == runplan.classifier_params({"model": "small_cnn", "width": 48})
        with zipfile.ZipFile(tmp_path / "m.keras") as z, h5py.File(io.BytesIO(z.read("model.weights.h5"))) as h5:
            stored = []
            h5.visititems(lambda _, obj: stored.append(obj.nbytes) if isinstance(obj, h5py.Dataset) else None)
        expected = runplan.model_bytes(model.count_params(), policy != "float32")
        assert sum(stored) == pytest.approx(expected, rel=1e-3)
        assert expected < os.path.getsize(tmp_path / "m.keras") < 1.15 * expected


def test_classifier_parameter_counts_are_the_built_models_and_unknown_models_are_none():
    from srtwins.twins.classifiers import build

    for width in (16, 32, 48):
        assert build("bn_cnn", (32, 32, 3), width=width).count_params() == runplan.classifier_params(
            {"model": "bn_cnn", "width": width})
    assert runplan.classifier_params({"model": "resnet", "width": 32}) is None


def test_sr_parameter_counts_come_from_sr_nets_json_for_the_same_net_scale_and_arch():
    known = json.loads(runplan.SR_NETS.read_text())
    params, full = _params("params.yaml"), _params("profiles/full.yaml")
    for run in {**params["sr"]["runs"], **params["sr"]["gan_runs"]}:
        assert runplan.sr_params(params, run)[0] == known[run]["params"]
    assert runplan.sr_params(params, "esrgan_x4")[1] == "rrdb"  # a GAN run is built, and timed, as its generator
    assert [runplan.sr_params(full, run)[0] for run in full["sr"]["runs"]] == [None] * len(full["sr"]["runs"])


def test_time_arithmetic_of_sr_training_gan_and_classifiers(stages):
    params, rates = _params("params.yaml"), runplan.read_json(runplan.CPU_RATES)
    sp, _ = _stage(stages, "params.yaml", "train_sr@espcn_x4")
    _, seconds, note = runplan._train(sp, params, rates, "espcn_x4")
    assert seconds == pytest.approx(10 * (60 * 32 + 512 / 3) / 1182.4)
    assert note == ["x2 rate", "at most (early stopping)"]
    sp, _ = _stage(stages, "params.yaml", "train_gan@srgan_x4")
    gan = runplan._train(sp, params, rates, "srgan_x4")
    assert gan[1:] == (pytest.approx(2 * 10 * 32 / 35.3), ["x2 rate", "at least"])
    sp, _ = _stage(stages, "params.yaml", "train_classifier@lr")  # arms lr and bicubic, both 32 px
    images = 3 * 8 * 10000  # classifier seeds x epochs x training images
    one_size = {"classifiers": {"train_images_per_s": {"32": 715.0}}}
    assert runplan._classifier(sp, params, one_size, "lr")[1:] == (pytest.approx(2 * images / 715), [])
    small = {"classifiers": {"train_images_per_s": {"8": 1000.0}}}  # above the sizes measured: time by pixels
    assert runplan._classifier(sp, params, small, "lr")[1] == pytest.approx(2 * images * 16 / 1000)


def test_cache_link_decides_what_the_dvc_cache_adds(plans, monkeypatch):
    from dvc_objects.fs import generic

    plan = plans["params.yaml"]
    cached = sum(r[1] for r in plan.rows)
    for works, total in [(["hardlink", "symlink"], cached), (["symlink"], 2 * cached), ([], 2 * cached)]:
        monkeypatch.setattr(generic, "test_links", lambda *args, works=works: works)
        assert runplan.disk(plan)[0] == total  # .dvc/config: hardlink,symlink,copy


def test_check_exits_2_when_the_plan_does_not_fit(monkeypatch, capsys):
    usage = collections.namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**6, 10**6 - 500, 500))
    runplan.main([str(ROOT / "params.yaml")])
    out, err = capsys.readouterr()
    assert "free 500 B" in out.splitlines()[-1]
    assert len(err.strip().splitlines()) == 1 and err.startswith("warning: the plan needs") and "500 B free" in err
    with pytest.raises(SystemExit) as stop:
        runplan.main([str(ROOT / "params.yaml"), "--check"])
    assert stop.value.code == 2


@pytest.mark.parametrize("content, message", [(None, "params file not found"), ("a: [1,\n", "not valid YAML"),
                                              ("epochs: 3\n", "DVC cannot generate the stages")])
def test_bad_params_file_is_one_line_naming_it(tmp_path, content, message):
    path = tmp_path / "p.yaml"
    if content is not None:
        path.write_text(content)
    r = subprocess.run([sys.executable, str(ROOT / "scripts/plan.py"), str(path)], capture_output=True, text=True)
    assert r.returncode == 1
    assert r.stderr.strip().splitlines() == [r.stderr.strip()] and f"{path}: {message}" in r.stderr


def test_a_file_that_is_not_a_throughput_file_is_one_error(tmp_path):
    (tmp_path / "r.json").write_text(json.dumps([1]))
    with pytest.raises(SrtwinsError, match="not a throughput file"):
        runplan.build(ROOT / "params.yaml", tmp_path / "r.json")


def test_the_plan_loads_neither_keras_nor_tensorflow():
    code = ("import sys; from scripts import plan; plan.main(['params.yaml']); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('keras', 'tensorflow')))")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert r.stdout.strip().splitlines()[-1] == "[]"


def test_docs_plan_md_is_what_the_command_writes_now(tmp_path):
    """docs/plan.md's table is generated: `python scripts/plan.py profiles/full.yaml --markdown docs/plan.md`."""
    page = tmp_path / "plan.md"
    shutil.copy(ROOT / "docs/plan.md", page)
    runplan.main([str(ROOT / "profiles/full.yaml"), "--markdown", str(page)])
    assert page.read_text() == (ROOT / "docs/plan.md").read_text(), "rerun the command above"
