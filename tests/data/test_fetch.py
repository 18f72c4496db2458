import hashlib
import io
import tarfile

import cv2
import numpy as np
import pytest

from srtwins import SrtwinsError
from srtwins.data import fetch

FAST = dict(retries=2, timeout=5, backoff=0.01, progress=False)


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
