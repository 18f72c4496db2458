"""Speed and memory benchmarks (not tests): prints the figures quoted in notes.

    python -m benchmarks.bench nets      # training and inference images/s per SR net, this machine
    python -m benchmarks.bench classifiers  # twin classifier training images/s per input size
    python -m benchmarks.bench superres  # 50,000 synthetic 32x32 images super-resolved x4, peak RSS

``--json FILE`` (nets, classifiers) also records the figures in FILE, the throughput file that
``scripts/plan.py --rates FILE`` reads to estimate stage times on this machine.
"""
import argparse
import json
import os
import platform
import resource
import tempfile
import time

import numpy as np


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def record(path, section, figures):
    """Merge one benchmark's figures into the throughput file ``path`` (see scripts/plan.py)."""
    import keras

    if path is None:
        return
    data = json.loads(open(path).read()) if os.path.exists(path) else {}
    gpus = []
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        gpus = [d.name for d in tf.config.list_physical_devices("GPU")]
    data["machine"] = (f"{platform.machine()}, {os.cpu_count()} CPUs, GPUs: {len(gpus) or 'none'}, "
                       f"{keras.backend.backend()} (benchmarks.bench)")
    data[section] = figures
    with open(path, "w") as f:
        f.write(json.dumps(data, indent=2) + "\n")


def bench_nets(scale, lr_patch, batch, steps, out=None):
    import keras

    from srtwins import compute
    from srtwins.sr import nets

    compute.setup(0)
    rng = np.random.default_rng(0)
    x = rng.random((batch * steps, lr_patch, lr_patch, 3), dtype=np.float32)
    y = rng.random((batch * steps, lr_patch * scale, lr_patch * scale, 3), dtype=np.float32)
    print(f"backend {keras.backend.backend()}, x{scale}, LR patches {lr_patch}x{lr_patch}, batch {batch}")
    print(f"{'net':>9} {'params':>11} {'train patches/s':>16} {'infer CIFAR img/s':>18}")
    cifar_lr = rng.random((512, 32 // scale, 32 // scale, 3), dtype=np.float32)
    train_rates, infer_rates = {}, {}
    for name in [n for n, spec in nets.SPECS.items() if spec.gan is None]:
        model = nets.build(name, scale)
        model.compile(optimizer=keras.optimizers.Adam(1e-4), loss="mse")
        model.fit(x[:batch], y[:batch], batch_size=batch, verbose=0)  # compile/warm up
        t = time.perf_counter()
        model.fit(x, y, batch_size=batch, verbose=0)
        train_rate = len(x) / (time.perf_counter() - t)
        model.predict(cifar_lr[:64], batch_size=256, verbose=0)
        t = time.perf_counter()
        model.predict(cifar_lr, batch_size=256, verbose=0)
        infer_rate = len(cifar_lr) / (time.perf_counter() - t)
        print(f"{name:>9} {model.count_params():>11,} {train_rate:>16.1f} {infer_rate:>18.1f}", flush=True)
        train_rates[name], infer_rates[name] = round(train_rate, 1), round(infer_rate, 1)
    record(out, "nets", {"scale": scale, "lr_patch": lr_patch, "batch_size": batch, "train_patches_per_s": train_rates,
                         "infer_lr_side": 32 // scale, "infer_images_per_s": infer_rates})


def bench_classifiers(sizes, n, epochs, out=None):
    """Training images/s of the twin classifier (the recipe in params.yaml) at each input size."""
    from dataclasses import replace

    import yaml

    from srtwins.config import data, twins
    from srtwins.twins import training

    params = yaml.safe_load(open("params.yaml"))
    rec, n_train = twins.recipe(params), data.fetch(params).train_size  # the default's classifier budget
    rng = np.random.default_rng(0)
    print(f"{'input':>7} {'params':>8} {'train images/s':>15} {f's per {rec.epochs} epochs of {n_train:,} images':>32}")
    rates = {}
    for size in sizes:
        x = rng.integers(0, 256, (n, size, size, 3), dtype=np.uint8)
        y = rng.integers(0, 10, n)
        training.fit(x[:128], y[:128], replace(rec, epochs=1), 0)  # trace and warm up
        t = time.perf_counter()
        model, _, _ = training.fit(x, y, replace(rec, epochs=epochs), 0)
        rate = n * epochs / (time.perf_counter() - t)
        print(f"{size:>5}px {model.count_params():>8,} {rate:>15.1f} {n_train * rec.epochs / rate:>32.1f}", flush=True)
        rates[str(size)] = round(rate, 1)
    record(out, "classifiers", {"model": rec.model, "width": rec.width, "batch_size": rec.batch_size,
                                "mixed_precision": rec.mixed_precision, "train_images_per_s": rates})


def bench_superres(n, net, scale, batch):
    from srtwins.sr import nets
    from srtwins.sr.superres import super_resolve_array

    model = nets.build(net, scale)
    with tempfile.TemporaryDirectory(dir=".") as tmp:
        rng = np.random.default_rng(0)
        with open(f"{tmp}/lr.npy", "wb") as f:  # synthetic input, written in chunks
            np.lib.format.write_array_header_1_0(f, {"descr": "|u1", "fortran_order": False, "shape": (n, 32, 32, 3)})
            for i in range(0, n, 5000):
                f.write(rng.integers(0, 256, (min(5000, n - i), 32, 32, 3), dtype=np.uint8).tobytes())
        lr = np.load(f"{tmp}/lr.npy", mmap_mode="r")
        before = peak_rss_mb()
        rate = super_resolve_array(model, lr, scale, f"{tmp}/sr.npy", batch_size=batch)
        out = np.load(f"{tmp}/sr.npy", mmap_mode="r")
        print(f"{net} x{scale}: {n} images 32x32 -> {out.shape[1]}x{out.shape[2]}, "
              f"output {os.path.getsize(f'{tmp}/sr.npy') / 1e9:.2f} GB")
        print(f"images/s: {rate:.1f}")
        print(f"peak RSS: {peak_rss_mb():.0f} MB (before super-resolving: {before:.0f} MB)")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="what", required=True)
    a = sub.add_parser("nets")
    a.add_argument("--scale", type=int, default=2)
    a.add_argument("--lr-patch", type=int, default=16)
    a.add_argument("--batch", type=int, default=32)
    a.add_argument("--steps", type=int, default=8)
    a.add_argument("--json", help="record the figures in this throughput file")
    c = sub.add_parser("classifiers")
    c.add_argument("--sizes", type=int, nargs="+", default=[16, 32, 64])
    c.add_argument("--n", type=int, default=2048)
    c.add_argument("--epochs", type=int, default=2)
    c.add_argument("--json", help="record the figures in this throughput file")
    b = sub.add_parser("superres")
    b.add_argument("--n", type=int, default=50_000)
    b.add_argument("--net", default="espcn")
    b.add_argument("--scale", type=int, default=4)
    b.add_argument("--batch", type=int, default=256)
    args = p.parse_args()
    if args.what == "nets":
        bench_nets(args.scale, args.lr_patch, args.batch, args.steps, args.json)
    elif args.what == "classifiers":
        bench_classifiers(args.sizes, args.n, args.epochs, args.json)
    else:
        bench_superres(args.n, args.net, args.scale, args.batch)


if __name__ == "__main__":
    main()
