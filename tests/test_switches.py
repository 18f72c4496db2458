"""The GPU switches proven on the CPU: mixed precision, XLA and 2-replica data parallelism, on TensorFlow and
on JAX, for every PSNR-trained net and the classifier; the device check; the compute record."""
import importlib.util
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import keras
import numpy as np
import pytest

from srtwins import SrtwinsError, compute, config
from srtwins.config import devices
from srtwins.sr import nets
from tests.conftest import ROOT

PSNR_NETS = list(nets.SPECS)
TINY = {"srcnn": {"n1": 8, "n2": 4}, "fsrcnn": {"d": 8, "s": 4, "m": 1}, "espcn": {"n1": 8, "n2": 4},
        "compact": {}, "edsr": {"n_blocks": 1, "n_feats": 8}, "srresnet": {"n_blocks": 1, "n_feats": 8},
        "rrdb": {"n_blocks": 1, "n_feats": 8, "growth": 4}}

# One process per backend: the backend and the logical devices (two CPUs, for the replicas switch) are fixed
# when it starts; it runs every switch in turn, each outside the others' settings.
SCRIPT = r"""
import json, sys, tempfile
from pathlib import Path
switches, tiny = json.loads(sys.argv[1]), json.loads(sys.argv[2])
import keras
if keras.backend.backend() == "tensorflow":  # two logical CPUs, before TensorFlow initialises
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import numpy as np
from srtwins import compute
from srtwins.sr import nets, patches, train
from srtwins.config import twins
from srtwins.twins import training
from srtwins.data.imresize import degrade, imresize

rng = np.random.default_rng(0)
hrs = [np.clip(rng.normal(128, 40, (24, 24, 3)).cumsum(1) / 8 % 256, 0, 255).astype(np.uint8) for _ in range(3)]
pairs = patches.make_pairs(hrs, [degrade(h, 2) for h in hrs], 2)
out, reports = Path(tempfile.mkdtemp()), {}
for switch in switches:
    mixed, jit = switch == "mixed", True if switch == "xla" else "auto"
    report = reports[switch] = {}
    for name, options in tiny.items():
        compute.setup(0, mixed, jit)
        data = patches.PatchDataset(pairs, 2, 8, 2, 2, seed=0)
        val = patches.fixed_set(pairs, 4, 8, 2, seed=0)
        with compute.distribution_scope("cpu" if switch == "replicas" else "gpu"):
            model = compute.float32_output(nets.build(name, 2, global_residual=True, **options))
            before = {v.path: keras.ops.convert_to_numpy(v) for v in model.trainable_variables}
            loss = train.SRLoss("mse")
            stats, trained = train.fit(model, data, val, epochs=1, learning_rate=1e-3, loss=loss,
                                       out_path=out / f"{name}.keras", jit_compile=jit, name=name)
        after = {v.path: keras.ops.convert_to_numpy(v) for v in trained.trainable_variables}
        shape = trained.output.shape[1:]  # the loss of a float16 prediction, symbolically: no eager ops to compile
        half = loss.call(keras.Input(shape), keras.Input(shape, dtype="float16"))
        report[name] = {"changed": all(not np.array_equal(before[k], after[k]) for k in before),
                        "finite": all(np.isfinite(a).all() for a in after.values()),
                        "loss_dtype": half.dtype, "output_dtype": trained.output.dtype,
                        "compute_dtype": trained.layers[1].compute_dtype,
                        "loss_scaled": type(model.optimizer).__name__ == "LossScaleOptimizer",
                        "compute": stats["compute"]}
    if switch == "mixed":  # the classifier recipe, a few steps on tiny data
        rec = twins.Recipe(model="bn_cnn", width=8, epochs=1, batch_size=8, learning_rate=1e-3, label_smoothing=0.1,
                           warmup=0.2, augment=True, jit_compile="auto", mixed_precision=True)
        images = rng.integers(0, 256, (30, 32, 32, 3), dtype=np.uint8)
        model, history, _ = training.fit(images, np.arange(30) % 10, rec, seed=0)
        report["classifier"] = {"finite": bool(np.isfinite(history["loss"]).all()),
                                "loss_scaled": type(model.optimizer).__name__ == "LossScaleOptimizer",
                                "compute": compute.describe(model, rec.jit_compile)}
if keras.backend.backend() == "jax":  # every net at x2 and x4, and the bicubic layer, on JAX
    x = rng.random((2, 9, 11, 3)).astype(np.float32)
    shapes = {}
    for name in list(nets.SPECS):
        for s in (2, 4):
            y = np.asarray(nets.build(name, s, **tiny[name])(x))
            shapes[f"{name}_x{s}"] = [list(y.shape), bool(np.isfinite(y).all())]
    up = np.asarray(nets.BicubicUpsample(3)(x))
    error = float(np.abs(up[0] - imresize(x[0].astype(np.float64), 3)).max())
    reports["jax_nets"] = {"shapes": shapes, "bicubic_error": error}
print("REPORT " + json.dumps(reports))
"""


HAS_JAX = importlib.util.find_spec("jax") is not None
BACKENDS = ["tensorflow", pytest.param("jax", marks=pytest.mark.skipif(not HAS_JAX, reason="jax not installed"))]


SWITCHES = ["mixed", "xla", "replicas"]
# On JAX, Keras compiles every step with XLA (jit_compile "auto" is XLA there): a separate XLA run would repeat
# the others' compiled steps, so the JAX process skips it and its xla test checks that the others ran under XLA.
RUN_ON = {"tensorflow": SWITCHES, "jax": ["mixed", "replicas"]}


def _run(backend):
    """One backend's process, every switch; its JSON report. JAX's non-partitionable threefry only speeds up
    compiling the weight initialisers on the CPU (8x); the switches are untouched."""
    env = {**os.environ, "KERAS_BACKEND": backend, "PYTHONPATH": str(ROOT), "JAX_PLATFORMS": "cpu",
           "JAX_THREEFRY_PARTITIONABLE": "0",  # LLVM at -O0: XLA compiles these tiny steps faster
           "XLA_FLAGS": "--xla_force_host_platform_device_count=2 --xla_backend_optimization_level=0"}
    r = subprocess.run([sys.executable, "-c", SCRIPT, json.dumps(RUN_ON[backend]), json.dumps(TINY)], env=env,
                       capture_output=True, text=True, cwd=ROOT)
    lines = [line for line in r.stdout.splitlines() if line.startswith("REPORT ")]
    assert r.returncode == 0 and lines, r.stderr[-4000:]
    return json.loads(lines[-1][len("REPORT "):])


@pytest.fixture(scope="module")
def switch_runs(request):
    """{backend: future of its report}: the selected backends' processes, side by side (each is mostly one busy
    thread)."""
    wanted = sorted({item.callspec.params["backend"] for item in request.session.items
                     if "switch_runs" in getattr(item, "fixturenames", ()) and "backend" in item.callspec.params
                     and (HAS_JAX or item.callspec.params["backend"] != "jax")})
    with ThreadPoolExecutor(2) as pool:
        yield {backend: pool.submit(_run, backend) for backend in wanted}


def _mixed(report):
    for name in PSNR_NETS:
        got = report[name]
        assert got["compute_dtype"] == "float16" and got["loss_scaled"], (name, got)
        assert got["loss_dtype"] == got["output_dtype"] == "float32", (name, got)
        assert got["compute"]["precision"] == "mixed_float16", (name, got)
    cls = report["classifier"]
    assert cls["finite"] and cls["loss_scaled"] and cls["compute"]["precision"] == "mixed_float16", cls


def _xla(report):
    for name in PSNR_NETS:
        compute = report[name]["compute"]
        assert compute["xla"] and compute["xla_off_because"] is None, (name, compute)
        assert compute["precision"] == "float32" and compute["replicas"] == 1, (name, compute)


def _replicas(report):
    for name in PSNR_NETS:
        assert report[name]["compute"]["replicas"] == 2, (name, report[name]["compute"])


@pytest.mark.slow
@pytest.mark.parametrize("switch", SWITCHES)
@pytest.mark.parametrize("backend", BACKENDS)
def test_switch_trains_every_psnr_net(backend, switch, switch_runs):
    """Two steps of every net through train.fit: the weights change and stay finite; the record says so."""
    if switch not in RUN_ON[backend]:  # JAX's xla: its other runs compiled with XLA
        for other in RUN_ON[backend]:
            assert all(switch_runs[backend].result()[other][n]["compute"]["xla"] for n in PSNR_NETS), other
        return
    report = switch_runs[backend].result()[switch]
    for name in PSNR_NETS:
        got = report[name]
        assert got["changed"] and got["finite"], (name, got)
        assert got["compute"]["backend"] == backend and got["compute"]["device"] == "cpu", (name, got)
    {"mixed": _mixed, "xla": _xla, "replicas": _replicas}[switch](report)


@pytest.mark.slow
@pytest.mark.skipif(not HAS_JAX, reason="jax not installed")
@pytest.mark.parametrize("backend", ["jax"])
def test_every_net_runs_on_jax_backend(backend, switch_runs):
    """Every PSNR net at x2 and x4 maps LR to its HR shape with finite values on JAX; the bicubic layer is
    MATLAB's imresize there too (from the JAX switch process)."""
    report = switch_runs[backend].result()["jax_nets"]
    for name in PSNR_NETS:
        for s in (2, 4):
            assert report["shapes"][f"{name}_x{s}"] == [[2, 9 * s, 11 * s, 3], True], (name, s)
    assert report["bicubic_error"] < 1e-5


GPU_PARAMS = {"sr": {"train": {"mixed_precision": True}}}


def test_gpu_switch_without_a_gpu_is_refused_by_name():
    if compute.gpus():
        pytest.skip("a GPU is visible: nothing to refuse")
    backend = keras.backend.backend()
    with pytest.raises(SrtwinsError, match=rf"^params: 'sr.train.mixed_precision' is true but no GPU is visible to "
                                           rf"keras \({backend} backend\); set 'allow_cpu: true' to run on the CPU"):
        devices.check(GPU_PARAMS, {"sr.train.jit_compile": "auto", "sr.train.mixed_precision": True})
    with pytest.raises(SrtwinsError, match="'classify.recipe.jit_compile' is true"):
        devices.check({}, {"classify.recipe.mixed_precision": False, "classify.recipe.jit_compile": True})


def test_cpu_on_purpose_or_no_gpu_switch_passes_the_check():
    devices.check({**GPU_PARAMS, "allow_cpu": True}, {"sr.train.mixed_precision": True})
    devices.check({}, {"sr.train.mixed_precision": False, "sr.train.jit_compile": "auto"})
    with pytest.raises(SrtwinsError, match="'allow_cpu' must be true or false"):
        devices.check({"allow_cpu": "yes"}, {"sr.train.mixed_precision": True})


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="Keras turns XLA off on TensorFlow only")
def test_compute_record_says_why_tensorflow_did_not_use_xla():
    compute.setup(0)  # TensorFlow's op determinism on
    model = nets.build("espcn", 2, n1=4, n2=4)
    with pytest.warns(UserWarning, match="support `jit_compile=True`"):
        model.compile(optimizer="adam", loss="mse", jit_compile=True)
    record = compute.describe(model, True)
    assert {k: record[k] for k in ("device", "backend", "precision", "replicas", "xla", "deterministic_ops")} == {
        "device": "cpu", "backend": "tensorflow", "precision": "float32", "replicas": 1, "xla": False,
        "deterministic_ops": True}
    assert "op determinism" in record["xla_off_because"]
    model.compile(optimizer="adam", loss="mse", jit_compile="auto")
    assert "only with a GPU" in compute.describe(model, "auto")["xla_off_because"]
    np.testing.assert_equal(json.loads(json.dumps(record)), record)  # goes into a JSON summary as it is


def test_sr_and_classifier_checks_name_the_key_where_the_switch_is_set():
    if compute.gpus():
        pytest.skip("a GPU is visible: nothing to refuse")
    import yaml

    from srtwins.config import sr, twins

    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["sr"]["nets"]["espcn"]["train"]["mixed_precision"] = True
    sr.training(params, "srcnn_x4", adversarial=False)  # srcnn keeps the CPU default
    with pytest.raises(SrtwinsError, match=r"^params: 'sr.nets.espcn.train.mixed_precision' is true"):
        sr.training(params, "espcn_x4", adversarial=False)
    params["sr"]["train"]["jit_compile"] = True
    with pytest.raises(SrtwinsError, match=r"^params: 'sr.train.jit_compile' is true"):
        sr.training(params, "srcnn_x4", adversarial=False)
    params["classify"]["recipe"]["mixed_precision"] = True
    with pytest.raises(SrtwinsError, match=r"^params: 'classify.recipe.mixed_precision' is true"):
        devices.check(params, twins.training(params, "lr")[2])
    params["allow_cpu"] = True
    devices.check(params, twins.training(params, "lr")[2])
    sr.training(params, "espcn_x4", adversarial=False)


def test_batches_jax_cannot_split_over_the_replicas_are_refused_before_training():
    from srtwins.sr.train import check_even_batches

    check_even_batches(16, 512, 4, "edsr_x2")
    check_even_batches(3, 5, 1, "edsr_x2")
    with pytest.raises(SrtwinsError, match=r"^batch_size gives edsr_x2 batches of 6, which JAX cannot "
                                           r"split over 4 replicas"):
        check_even_batches(6, 512, 4, "edsr_x2")
    with pytest.raises(SrtwinsError, match=r"^params: 'sr.nets.edsr.train.val_patches' gives edsr_x2 batches of 2, "
                                           r".* over 4 replicas"):
        with config.naming({"val_patches": "sr.nets.edsr.train.val_patches"}):
            check_even_batches(16, 66, 4, "edsr_x2")


def test_classifier_summary_records_the_compute():
    from srtwins.config import twins
    from srtwins.twins import training

    rec = twins.Recipe(model="small_cnn", width=32, epochs=1, batch_size=8, learning_rate=1e-3, label_smoothing=0.0,
                       warmup=0.0, augment=False, jit_compile="auto", mixed_precision=False)
    x = np.random.default_rng(0).integers(0, 256, (20, 32, 32, 3), dtype=np.uint8)
    probs, _, summary = training.train_seeds((x, np.arange(20) % 10), (x[:6], np.arange(6) % 10), [0], rec)
    assert probs.shape == (1, 6, 10) and summary["test_images"] == 6
    assert summary["compute"]["device"] == "cpu" and summary["compute"]["precision"] == "float32"
    assert summary["compute"]["replicas"] == 1 and summary["compute"]["backend"] == keras.backend.backend()
