import hashlib
import io
import tarfile

import cv2
import numpy as np
import pytest

from srtwins import SrtwinsError
from srtwins.data import fetch
from tests.helpers import cifar_records, cifar_tarball, write_cifar_folder

FAST = dict(retries=2, timeout=5, backoff=0.01, progress=False)


# ---- CIFAR-10 binary records
def test_parse_cifar_batch_decodes_planes_and_labels(tmp_path):
    data, images, labels = cifar_records(7)
    (tmp_path / "b.bin").write_bytes(data)
    x, y = fetch.parse_cifar_batch(tmp_path / "b.bin")
    np.testing.assert_array_equal(x, images)
    np.testing.assert_array_equal(y, labels)
    x3, _ = fetch.parse_cifar_batch(tmp_path / "b.bin", limit=3)
    assert x3.shape == (3, 32, 32, 3)


def test_truncated_cifar_batch_is_refused(tmp_path):
    data = cifar_records(3)[0]
    (tmp_path / "data_batch_1.bin").write_bytes(data[:-100])
    with pytest.raises(SrtwinsError, match=r"data_batch_1\.bin: truncated"):
        fetch.parse_cifar_batch(tmp_path / "data_batch_1.bin")


def test_load_cifar10_takes_subsets_in_order_and_refuses_too_many(tmp_path):
    write_cifar_folder(tmp_path, n_per_batch=20)
    x, y, xt, yt, classes = fetch.load_cifar10(tmp_path, 45, 5)
    assert x.shape == (45, 32, 32, 3) and xt.shape == (5, 32, 32, 3) and classes[0] == "airplane"
    np.testing.assert_array_equal(x[20:40], cifar_records(20, seed=1)[1])
    with pytest.raises(SrtwinsError, match=r"^train_size = 101 .* holds only 100"):
        fetch.load_cifar10(tmp_path, 101, 5)
    with pytest.raises(SrtwinsError, match=r"^test_size = 21"):
        fetch.load_cifar10(tmp_path, 10, 21)


# ---- downloads against a loopback server
def test_download_verifies_checksum(http_server, tmp_path):
    body = b"x" * 5000
    http_server.route("/f", (200, body, {}))
    out = fetch.download(http_server.url("/f"), tmp_path / "f", sha256=hashlib.sha256(body).hexdigest(), **FAST)
    assert out.read_bytes() == body


def test_download_retries_server_errors(http_server, tmp_path):
    http_server.route("/f", (500, b"", {}), (200, b"ok", {}))
    fetch.download(http_server.url("/f"), tmp_path / "f", md5=hashlib.md5(b"ok").hexdigest(), **FAST)
    assert http_server.hits["/f"] == 2


def test_download_checksum_mismatch_leaves_nothing(http_server, tmp_path):
    http_server.route("/f", (200, b"corrupt", {}))
    with pytest.raises(SrtwinsError, match="checksum mismatch"):
        fetch.download(http_server.url("/f"), tmp_path / "f", md5="0" * 32, **FAST)
    assert list(tmp_path.iterdir()) == []
    assert http_server.hits["/f"] == 3  # first try + 2 retries


def test_download_truncated_transfer_is_an_error(http_server, tmp_path):
    http_server.route("/f", (200, b"short", {"declared_length": 50}))
    with pytest.raises(SrtwinsError, match="download failed"):
        fetch.download(http_server.url("/f"), tmp_path / "f", **FAST)
    assert list(tmp_path.iterdir()) == []


def test_download_404_is_not_retried(http_server, tmp_path):
    with pytest.raises(SrtwinsError, match="HTTP 404"):
        fetch.download(http_server.url("/missing"), tmp_path / "f", **FAST)
    assert http_server.hits["/missing"] == 1


def test_cifar10_download_path_end_to_end(http_server, tmp_path, monkeypatch):
    tarball = cifar_tarball(n_per_batch=4)
    http_server.route("/cifar.tgz", (200, tarball, {}))
    monkeypatch.setattr(fetch, "CIFAR10_URL", http_server.url("/cifar.tgz"))
    monkeypatch.setattr(fetch, "CIFAR10_MD5", hashlib.md5(tarball).hexdigest())
    folder = fetch.cifar10_folder_from_download(tmp_path, **FAST)
    x, y, xt, yt, _ = fetch.load_cifar10(folder, 20, 4)
    assert x.shape == (20, 32, 32, 3) and len(yt) == 4


def test_corrupt_cifar10_archive_is_refused_before_unpacking(http_server, tmp_path, monkeypatch):
    tarball = cifar_tarball(n_per_batch=4)
    http_server.route("/cifar.tgz", (200, tarball[:-10] + b"0" * 10, {}))
    monkeypatch.setattr(fetch, "CIFAR10_URL", http_server.url("/cifar.tgz"))
    monkeypatch.setattr(fetch, "CIFAR10_MD5", hashlib.md5(tarball).hexdigest())
    with pytest.raises(SrtwinsError, match="cifar.tgz: download failed .* checksum mismatch"):
        fetch.cifar10_folder_from_download(tmp_path, **FAST)
    assert not (tmp_path / "cifar10").exists() and not list(tmp_path.glob("*.tar.gz*"))


# ---- archives
def _tar(tmp_path, *members):
    path = tmp_path / "a.tar"
    with tarfile.open(path, "w") as tar:
        for info in members:
            tar.addfile(info, io.BytesIO(b"data") if info.isfile() else None)
    return path


def _file(name):
    info = tarfile.TarInfo(name)
    info.size = 4
    return info


@pytest.mark.parametrize("member", ["../escape.txt", "/abs/escape.txt", "ok/../../escape.txt"])
def test_safe_extract_refuses_escaping_members(tmp_path, member):
    archive = _tar(tmp_path, _file("fine.txt"), _file(member))
    with pytest.raises(SrtwinsError, match="outside"):
        fetch.safe_extract(archive, tmp_path / "out")
    assert not (tmp_path / "escape.txt").exists() and not (tmp_path / "out" / "fine.txt").exists()


def test_safe_extract_refuses_links(tmp_path):
    link = tarfile.TarInfo("link")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    with pytest.raises(SrtwinsError, match="not a regular file"):
        fetch.safe_extract(_tar(tmp_path, link), tmp_path / "out")


def test_safe_extract_unpacks_regular_members(tmp_path):
    fetch.safe_extract(_tar(tmp_path, _file("d/f.txt")), tmp_path / "out")
    assert (tmp_path / "out" / "d" / "f.txt").read_bytes() == b"data"


# ---- SR image sets
def _png(img):
    return cv2.imencode(".png", img)[1].tobytes()


def _manifest(tmp_path, images):
    lines = ["path\tarray_shape\tpixels_sha256"]
    for name, img in images.items():
        lines.append(f"{name}\t{'x'.join(map(str, img.shape))}\t{fetch.pixels_sha256(img)}")
    (tmp_path / "m.tsv").write_text("\n".join(lines) + "\n")
    return tmp_path / "m.tsv"


def test_image_set_verified_by_decoded_pixels(tmp_path):
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (9, 7, 3), dtype=np.uint8)
    grey = rng.integers(0, 256, (6, 5), dtype=np.uint8)
    manifest = _manifest(tmp_path, {"a.png": rgb, "g.png": grey})
    files = {"a.png": _png(rgb[..., ::-1]), "g.png": _png(grey)}  # PNG stores BGR
    got = fetch.load_image_set("toy", files.__getitem__, manifest)
    np.testing.assert_array_equal(got["a"], rgb)
    assert got["g"].ndim == 2  # grayscale stays single-channel


def test_image_that_does_not_decode_is_named(tmp_path):
    img = np.zeros((4, 4, 3), np.uint8)
    manifest = _manifest(tmp_path, {"bad.png": img})
    with pytest.raises(SrtwinsError, match=r"toy/bad\.png: image does not decode"):
        fetch.load_image_set("toy", lambda name: b"\x89PNG garbage", manifest)


def test_image_with_other_pixels_is_refused(tmp_path):
    img = np.zeros((4, 4, 3), np.uint8)
    manifest = _manifest(tmp_path, {"a.png": img})
    with pytest.raises(SrtwinsError, match="pixel checksum mismatch"):
        fetch.load_image_set("toy", lambda name: _png(img + 1), manifest)


def test_sr_set_download_reader(http_server, tmp_path, monkeypatch):
    img = np.full((5, 5, 3), 9, np.uint8)
    http_server.route("/set/a.png", (200, _png(img), {}))
    monkeypatch.setitem(fetch.IMAGE_SET_URLS, "toy", http_server.url("/set"))
    reader = fetch.download_reader(tmp_path, "toy", **FAST)
    got = fetch.load_image_set("toy", reader, _manifest(tmp_path, {"a.png": img}))
    assert got["a"].shape == (5, 5, 3)


def test_pinned_manifests_cover_every_set():
    for name, count in [("set5", 5), ("set14", 14), ("bsd100", 100), ("t91", 91)]:
        rows = fetch.read_manifest(fetch.MANIFESTS / f"{name}.tsv")
        assert len(rows) == count and all(len(r.pixels_sha256) == 64 for r in rows)
