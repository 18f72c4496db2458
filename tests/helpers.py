"""Test helpers: tiny synthetic datasets, params overrides, and the code deps of each DVC stage."""
import ast
import hashlib
import io
import json
import re
import tarfile
from pathlib import Path

import cv2
import numpy as np
import yaml

from srtwins.data.cifar import CIFAR10_FOLDER, CIFAR10_MIRROR, CIFAR10_TEST, CIFAR10_TRAIN, JPEG_ARCHIVE, JPEG_MIRROR
from srtwins.io import decode_image

CLASSES = "airplane automobile bird cat deer dog frog horse ship truck".split()


def cifar_records(n, seed=0):
    """``n`` CIFAR-10 binary records and the (images, labels) they encode."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n, dtype=np.uint8)
    images = rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
    planes = images.transpose(0, 3, 1, 2).reshape(n, -1)
    return np.concatenate([labels[:, None], planes], axis=1).tobytes(), images, labels


def write_cifar_folder(folder, n_per_batch=20):
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate([*CIFAR10_TRAIN, CIFAR10_TEST]):
        (folder / name).write_bytes(cifar_records(n_per_batch, seed=i)[0])
    (folder / "batches.meta.txt").write_text("\n".join(CLASSES) + "\n")
    return folder


def write_cifar_mirror(mirror, n_per_batch=20, rewrite_manifest_only=False):
    """A mirror's cifar-10/ folder with a MANIFEST.tsv, like ../shared/datasets."""
    root = Path(mirror) / "cifar-10"
    folder = root / CIFAR10_FOLDER
    if not rewrite_manifest_only:
        write_cifar_folder(folder, n_per_batch)
    lines = ["path\tbytes\tsha256\tarray_shape\tpixels_sha256"]
    for p in sorted(folder.iterdir()):
        lines.append(f"{CIFAR10_FOLDER}/{p.name}\t{p.stat().st_size}\t{hashlib.sha256(p.read_bytes()).hexdigest()}\t-\t-")
    (root / "MANIFEST.tsv").write_text("\n".join(lines) + "\n")
    return root


def cifar_tarball(n_per_batch=20):
    """Bytes of a .tar.gz laid out like cifar-10-binary.tar.gz."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for i, name in enumerate([*CIFAR10_TRAIN, CIFAR10_TEST, "batches.meta.txt"]):
            meta = ("\n".join(CLASSES) + "\n").encode()
            data = cifar_records(n_per_batch, seed=i)[0] if name.endswith(".bin") else meta
            info = tarfile.TarInfo(f"{CIFAR10_FOLDER}/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def jpeg_members(train_per_class=3, test_per_class=2, seed=0):
    """{path: JPEG bytes} laid out like the mirror's JPEG export (``train/<class>/NNNN.jpg``), random images."""
    rng = np.random.default_rng(seed)
    members = {}
    for split, n in [("train", train_per_class), ("test", test_per_class)]:
        for name in CLASSES:
            for i in range(n):
                bgr = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
                members[f"{split}/{name}/{i:04d}.jpg"] = cv2.imencode(".jpg", bgr)[1].tobytes()
    return members


def write_jpeg_mirror(mirror, members, extra=(), manifest_edit=None):
    """A mirror's cifar-10-jpeg/ folder: the tar.gz of ``members`` ({path: bytes}, under their folders, then the
    ``extra`` (TarInfo, bytes or None) members) and its MANIFEST.tsv; ``manifest_edit(rows)`` may alter the
    rows first. Returns {path: decoded RGB pixels}. Tests pin it with ``pin_jpeg_mirror``."""
    root = Path(mirror) / JPEG_MIRROR
    root.mkdir(parents=True, exist_ok=True)
    pixels = {path: decode_image(data, path) for path, data in members.items()}
    rows = [dict(path=p, label=CLASSES.index(p.split("/")[1]), bytes=len(d), sha256=hashlib.sha256(d).hexdigest(),
                 pixels_sha256=hashlib.sha256(pixels[p].tobytes()).hexdigest()) for p, d in members.items()]
    if manifest_edit:
        manifest_edit(rows)
    lines = ["path\tlabel\tbytes\tsha256\tpixels_sha256"] + ["\t".join(map(str, r.values())) for r in rows]
    (root / "MANIFEST.tsv").write_text("\n".join(lines) + "\n")
    folders = sorted({str(Path(p).parents[i]) for p in members for i in (0, 1)})
    with tarfile.open(root / JPEG_ARCHIVE, "w:gz") as tar:
        for name in folders:
            info = tarfile.TarInfo(name)
            info.type = tarfile.DIRTYPE
            tar.addfile(info)
        for path, data in members.items():
            info = tarfile.TarInfo(path)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for info, data in extra:
            tar.addfile(info, None if data is None else io.BytesIO(data))
    return pixels


def pin_jpeg_mirror(monkeypatch, mirror):
    """Pin the code's JPEG-export checksums to a synthetic mirror's files."""
    from srtwins.data import cifar

    root = Path(mirror) / JPEG_MIRROR
    monkeypatch.setattr(cifar, "JPEG_SHA256", hashlib.sha256((root / JPEG_ARCHIVE).read_bytes()).hexdigest())
    monkeypatch.setattr(cifar, "JPEG_MANIFEST_SHA256", hashlib.sha256((root / "MANIFEST.tsv").read_bytes()).hexdigest())


def override(params, overrides):
    """Set dotted keys (``"sr.train.epochs"``) in a nested params dict, in place; returns it."""
    for key, value in overrides.items():
        node = params
        *parents, last = key.split(".")
        for p in parents:
            node = node[p]
        node[last] = value
    return params


REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("stages", "srtwins")  # the repo's own packages; everything else is third-party


def _module_file(name, root):
    """The .py file of dotted module ``name`` (module or package), relative to ``root``, or None.

    Lets an import name be told apart from a name defined inside a module."""
    base = root.joinpath(*name.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path.relative_to(root).as_posix()
    return None


def _imported_modules(path, name, root):
    """Dotted names of the repo modules the file ``path`` (module ``name``) imports, anywhere in it.

    Walks the whole tree, so lazy imports inside functions count like top-level ones."""
    package = name if path.endswith("__init__.py") else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse((root / path).read_text(), filename=path)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module
            if node.level:  # relative: `from . import x`, `from .x import f`, `from .. import y`
                base = ".".join(filter(None, [package.rsplit(".", node.level - 1)[0], node.module]))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names if _module_file(f"{base}.{alias.name}", root))
    return {m for m in found if m.split(".")[0] in PACKAGES}


def module_closure(module_name, root=REPO):
    """Repo-relative .py paths that running ``module_name`` executes: its repo imports, transitively.

    Found with ``ast`` (nothing is imported); a package's ``__init__.py`` counts once any submodule does."""
    todo, seen, files = [module_name], set(), set()
    while todo:
        name = todo.pop()
        parts = name.split(".")
        for i in range(1, len(parts) + 1):  # the module and every package above it
            dotted = ".".join(parts[:i])
            path = _module_file(dotted, root)
            if path and dotted not in seen:
                seen.add(dotted)
                files.add(path)
                todo.extend(_imported_modules(path, dotted, root))
    return files


def stage_code_deps(dvc_yaml=REPO / "dvc.yaml"):
    """``{stage: (module in its cmd, set of .py deps)}`` for every stage in ``dvc.yaml``.

    Reads the template of foreach/do and matrix stages as written, without expanding ``${...}``."""
    stages = yaml.safe_load(Path(dvc_yaml).read_text())["stages"]
    result = {}
    for stage, block in stages.items():
        body = block.get("do", block)
        module = re.search(r"python3?\s+-m\s+(\S+)", body["cmd"]).group(1)
        deps = [next(iter(d)) if isinstance(d, dict) else d for d in body.get("deps", [])]
        result[stage] = module, {d for d in deps if d.endswith(".py")}
    return result


def recompute_twins(dst):
    """Every arm's accuracy and every pair's (unpaired) difference of a finished run, recomputed in NumPy from
    models/cls/<source>/<arm>/probs.npy and the test labels, checked against its metrics/classify.json."""
    cls = json.loads((dst / "metrics/classify.json").read_text())
    y = np.load(dst / "data/raw/cifar10/y_test.npy")
    correct = {}
    for name, arm in cls["arms"].items():
        sources = arm["sr_runs"] or ["hr" if name.startswith("hr") else "lr"]
        probs = np.stack([np.load(dst / "models/cls" / s / name / "probs.npy") for s in sources])
        correct[name] = probs.argmax(-1) == y
        per_run = correct[name].reshape(-1, len(y)).mean(1)
        assert arm["accuracy_per_run"] == per_run.tolist(), name  # exact: a count over N
        assert abs(arm["accuracy"] - correct[name].mean()) < 1e-12, name
    for key, t in cls["twins"].items():
        unpaired = t if t["analysis"] == "unpaired" else t["sensitivity"]
        diff = correct[t["arm"]].mean() - correct[t["baseline"]].mean()
        assert abs(unpaired["delta_accuracy"] - diff) < 1e-12, key  # one image is 1 / N: 1e-5 at most N here
    return cls


def small_mirror(real, dst, records=64):
    """A mirror at ``dst`` that is ``real`` (linked) except its binary CIFAR-10 folder, whose batches keep their
    first ``records`` records under a manifest of their own: the pixel-exact subset the SR table scores shrinks
    from 1,017 images to ``records`` for pipeline tests."""
    dst.mkdir(parents=True, exist_ok=True)
    for entry in Path(real).iterdir():
        if entry.name != CIFAR10_MIRROR:
            (dst / entry.name).symlink_to(entry)
    src, out = Path(real) / CIFAR10_MIRROR / CIFAR10_FOLDER, dst / CIFAR10_MIRROR / CIFAR10_FOLDER
    out.mkdir(parents=True)
    rows = ["path\tbytes\tsha256\tarray_shape\tpixels_sha256"]
    for f in sorted(src.iterdir()):
        data = f.read_bytes()
        data = data[:records * 3073] if f.suffix == ".bin" else data  # a record: 1 label byte + 32 x 32 x 3
        (out / f.name).write_bytes(data)
        rows.append(f"{CIFAR10_FOLDER}/{f.name}\t{len(data)}\t{hashlib.sha256(data).hexdigest()}\t-\t-")
    (dst / CIFAR10_MIRROR / "MANIFEST.tsv").write_text("\n".join(rows) + "\n")
    return dst
