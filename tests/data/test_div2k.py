"""DIV2K: the real download and unpacking code against a loopback server, the mirror route, the training pairs."""
import hashlib
import io
import json
import stat
import zipfile

import cv2
import numpy as np
import pytest

from srtwins import SrtwinsError
from srtwins.data import div2k
from srtwins.sr import trainsets
from tests.conftest import run_stage
from tests.helpers import write_cifar_mirror
from tests.pipeline.test_stages import _assert_clean_failure, _params

FAST = dict(retries=1, timeout=5, backoff=0.01, progress=False)
HR, X2 = "DIV2K_train_HR.zip", "DIV2K_train_LR_bicubic_X2.zip"


def _images(n=3):
    """``n`` 8x8 HR images and their 4x4 'LR' (any pixels: the pairing only checks the sizes)."""
    rng = np.random.default_rng(0)
    return [(rng.integers(0, 256, (8, 8, 3), np.uint8), rng.integers(0, 256, (4, 4, 3), np.uint8)) for _ in range(n)]


def _png(img):
    return cv2.imencode(".png", img[..., ::-1])[1].tobytes()


def _zip(members):
    """Zip bytes; ``members`` maps a name to bytes, or to ``None`` for a symlink member."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in members.items():
            if data is None:
                info = zipfile.ZipInfo(name)
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
                z.writestr(info, "/etc/passwd")
            else:
                z.writestr(name, data)
    return buf.getvalue()


def _archives(images):
    hr = {"DIV2K_train_HR/": b"", **{f"DIV2K_train_HR/{i:04d}.png": _png(h) for i, (h, _) in enumerate(images, 1)}}
    lr = {f"DIV2K_train_LR_bicubic/X2/{i:04d}x2.png": _png(lo) for i, (_, lo) in enumerate(images, 1)}
    return {HR: _zip(hr), X2: _zip(lr)}


def _pin(monkeypatch, tmp_path, sums, n=3):
    """A manifest of the HR and x2 archives, ``n`` images each, with the sha256 ``sums`` (archive -> hex)."""
    rows = ["# test manifest", "archive\tscale\tfolder\timages\tbytes\tsha256",
            f"{HR}\t-\tDIV2K_train_HR\t{n}\t-\t{sums[HR]}", f"{X2}\t2\tDIV2K_train_LR_bicubic/X2\t{n}\t-\t{sums[X2]}"]
    (tmp_path / "div2k.tsv").write_text("\n".join(rows) + "\n")
    monkeypatch.setattr(div2k, "MANIFEST", tmp_path / "div2k.tsv")


def _serve(http_server, monkeypatch, tmp_path, zips, sha256=None):
    """Serve ``zips`` and pin a manifest of their sha256 (``sha256`` overrides some)."""
    for name, body in zips.items():
        http_server.route(f"/div2k/{name}", (200, body, {}))
    digests = {name: hashlib.sha256(body).hexdigest() for name, body in zips.items()}
    _pin(monkeypatch, tmp_path, digests | (sha256 or {}))
    monkeypatch.setattr(div2k, "BASE_URL", http_server.url("/div2k"))


def test_download_unpacks_to_the_layout(http_server, monkeypatch, tmp_path):
    images = _images()
    _serve(http_server, monkeypatch, tmp_path, _archives(images))
    dest = tmp_path / "raw/div2k"
    div2k.from_download(tmp_path / "dl", [2], **FAST)(dest)
    assert sorted(p.name for p in dest.iterdir()) == ["hr", "index.json", "x2"]  # no scratch left
    assert sorted(p.name for p in (dest / "x2").iterdir()) == ["0001x2.png", "0002x2.png", "0003x2.png"]
    np.testing.assert_array_equal(cv2.imread(str(dest / "hr/0003.png"))[..., ::-1], images[2][0])
    assert json.loads((dest / "index.json").read_text()) == {"images": 3, "scales": [2]}
    div2k.from_download(tmp_path / "dl", [2], **FAST)  # verified copies in the cache: not downloaded again
    assert http_server.hits[f"/div2k/{HR}"] == 1


def test_wrong_checksum_is_refused_before_unpacking(http_server, monkeypatch, tmp_path):
    _serve(http_server, monkeypatch, tmp_path, _archives(_images()), sha256={X2: "0" * 64})
    with pytest.raises(SrtwinsError, match=f"{X2}: download failed .* checksum mismatch"):
        div2k.from_download(tmp_path / "dl", [2], **FAST)
    assert sorted(p.name for p in (tmp_path / "dl/div2k").iterdir()) == [HR]  # the good one, verified; no .part
    assert not list(tmp_path.rglob("*.png"))


@pytest.mark.parametrize("member, needle", [
    ("DIV2K_train_HR/../../x.png", "would land outside"),
    ("/tmp/x.png", "would land outside"),
    ("DIV2K_train_HR/0004.png", "not a regular file"),  # a symlink
])
def test_unsafe_zip_member_is_refused(http_server, monkeypatch, tmp_path, member, needle):
    zips = _archives(_images())
    hr = zipfile.ZipFile(io.BytesIO(zips[HR]))
    zips[HR] = _zip({**{n: hr.read(n) for n in hr.namelist()}, member: None if "0004" in member else b"x"})
    _serve(http_server, monkeypatch, tmp_path, zips)
    put = div2k.from_download(tmp_path / "dl", [2], **FAST)
    with pytest.raises(SrtwinsError, match=f"{HR}: member '{member}' .*{needle}"):
        put(tmp_path / "raw/div2k")
    assert not (tmp_path / "x.png").exists() and not list((tmp_path / "raw").rglob("*.png"))


def test_unreachable_server_is_one_error_line(monkeypatch, tmp_path):
    monkeypatch.setattr(div2k, "BASE_URL", "http://127.0.0.1:9/cvl/DIV2K")  # the discard port: refused
    with pytest.raises(SrtwinsError, match=r"DIV2K_train_HR\.zip: download failed after 2 attempt") as e:
        div2k.from_download(tmp_path / "dl", [2], **FAST)
    assert "\n" not in str(e.value)
    assert not list(tmp_path.rglob("*.*"))


def _mirror(tmp_path, images):
    root = tmp_path / "mirror/div2k"
    files = {f"DIV2K_train_HR/{i:04d}.png": _png(h) for i, (h, _) in enumerate(images, 1)}
    files |= {f"DIV2K_train_LR_bicubic/X2/{i:04d}x2.png": _png(lo) for i, (_, lo) in enumerate(images, 1)}
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    lines = ["path\tbytes\tsha256"] + [f"{rel}\t{len(d)}\t{hashlib.sha256(d).hexdigest()}" for rel, d in files.items()]
    (root / "MANIFEST.tsv").write_text("\n".join(lines) + "\n")
    return root.parent


def test_mirror_folder_is_verified_and_copied(monkeypatch, tmp_path):
    images = _images()
    _pin(monkeypatch, tmp_path, {HR: "-", X2: "-"})  # the mirror is checked against its own MANIFEST.tsv
    mirror = _mirror(tmp_path, images)
    div2k.from_mirror(mirror, [2])(tmp_path / "raw/div2k")
    np.testing.assert_array_equal(cv2.imread(str(tmp_path / "raw/div2k/x2/0003x2.png"))[..., ::-1], images[2][1])
    assert json.loads((tmp_path / "raw/div2k/index.json").read_text()) == {"images": 3, "scales": [2]}
    (mirror / "div2k/DIV2K_train_LR_bicubic/X2/0002x2.png").write_bytes(_png(images[0][1]))
    with pytest.raises(SrtwinsError, match=r"X2/0002x2\.png: checksum mismatch against .*MANIFEST\.tsv"):
        div2k.from_mirror(mirror, [2])


def test_mirror_without_div2k_is_one_line_naming_the_key(tmp_path):
    write_cifar_mirror(tmp_path / "mirror")
    _params(tmp_path, **{"fetch.div2k": True})
    r = run_stage("fetch", tmp_path, env={"SRTWINS_MIRROR": str(tmp_path / "mirror")})
    _assert_clean_failure(r, "'fetch.div2k' is true", "has no div2k/ folder", out=tmp_path / "data/raw")


def test_pinned_manifest_has_every_scale():
    found = div2k.archives([2, 3, 4])
    assert [a.name for a in found] == [HR, X2, "DIV2K_train_LR_bicubic_X3.zip", "DIV2K_train_LR_bicubic_X4.zip"]
    assert all(a.images == 800 and len(a.sha256) == 64 for a in found) and div2k.archives([]) == []


def test_load_pairs_gives_aligned_div2k_pairs(monkeypatch, tmp_path):
    images = _images()
    monkeypatch.chdir(tmp_path)
    for i, (h, lo) in enumerate(images, 1):
        for folder, name, img in [("hr", f"{i:04d}.png", h), ("x2", f"{i:04d}x2.png", lo)]:
            (tmp_path / "data/raw/div2k" / folder).mkdir(parents=True, exist_ok=True)
            (tmp_path / "data/raw/div2k" / folder / name).write_bytes(_png(img))
    (tmp_path / "data/raw/div2k/index.json").write_text(json.dumps({"images": 3, "scales": [2]}))
    pairs, names = trainsets.load_pairs(["div2k"], 2)
    assert names == ["div2k/0001", "div2k/0002", "div2k/0003"]
    for (lo, hi), (h, lr) in zip(pairs, images):
        np.testing.assert_array_equal(lo, lr)
        np.testing.assert_array_equal(hi, h)
    with pytest.raises(SrtwinsError, match=r"index\.json: no DIV2K x3 images fetched.*fetch DIV2K at that scale"):
        trainsets.load_pairs(["div2k"], 3)
