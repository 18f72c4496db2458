"""CIFAR-10: binary batches, the JPEG export streamed and verified, the seeded study split, the fetch of both."""
import hashlib
import json
import tarfile

import numpy as np
import pytest

from srtwins import BadValue, SrtwinsError, paths
from srtwins.data import cifar, raw
from srtwins.data.fetch import pixels_sha256
from srtwins.io import atomic_dir, read_tsv
from tests.helpers import (
    CLASSES,
    cifar_records,
    cifar_tarball,
    jpeg_members,
    pin_jpeg_mirror,
    write_cifar_folder,
    write_jpeg_mirror,
)

FAST = dict(retries=2, timeout=5, backoff=0.01, progress=False)


# ---- official binary batches
def test_parse_cifar_batch_decodes_planes_and_labels(tmp_path):
    data, images, labels = cifar_records(7)
    (tmp_path / "b.bin").write_bytes(data)
    x, y = cifar.parse_cifar_batch(tmp_path / "b.bin")
    np.testing.assert_array_equal(x, images)
    np.testing.assert_array_equal(y, labels)


def test_truncated_cifar_batch_is_refused(tmp_path):
    data = cifar_records(3)[0]
    (tmp_path / "data_batch_1.bin").write_bytes(data[:-100])
    with pytest.raises(SrtwinsError, match=r"data_batch_1\.bin: truncated"):
        cifar.parse_cifar_batch(tmp_path / "data_batch_1.bin")


def test_read_binary_reads_every_image_with_its_official_split(tmp_path):
    write_cifar_folder(tmp_path, n_per_batch=20)
    x, y, official_train, classes = cifar.read_binary(tmp_path)
    assert x.shape == (120, 32, 32, 3) and classes[0] == "airplane"
    assert official_train[:100].all() and not official_train[100:].any()
    np.testing.assert_array_equal(x[20:40], cifar_records(20, seed=1)[1])
    np.testing.assert_array_equal(y[100:], cifar_records(20, seed=5)[2])  # the test batch last


def test_cifar10_download_path_end_to_end(http_server, tmp_path, monkeypatch):
    tarball = cifar_tarball(n_per_batch=4)
    http_server.route("/cifar.tgz", (200, tarball, {}))
    monkeypatch.setattr(cifar, "CIFAR10_URL", http_server.url("/cifar.tgz"))
    monkeypatch.setattr(cifar, "CIFAR10_MD5", hashlib.md5(tarball).hexdigest())
    pool = cifar.binary_pool(cifar.binary_folder_from_download(tmp_path, **FAST))
    assert pool.source == "official-binary" and len(pool.labels) == 24 and pool.official_train.sum() == 20
    assert pool.load(np.array([3, 21])).shape == (2, 32, 32, 3)


def test_corrupt_cifar10_archive_is_refused_before_unpacking(http_server, tmp_path, monkeypatch):
    tarball = cifar_tarball(n_per_batch=4)
    http_server.route("/cifar.tgz", (200, tarball[:-10] + b"0" * 10, {}))
    monkeypatch.setattr(cifar, "CIFAR10_URL", http_server.url("/cifar.tgz"))
    monkeypatch.setattr(cifar, "CIFAR10_MD5", hashlib.md5(tarball).hexdigest())
    with pytest.raises(SrtwinsError, match="cifar.tgz: download failed .* checksum mismatch"):
        cifar.binary_folder_from_download(tmp_path, **FAST)
    assert not (tmp_path / "cifar10").exists() and not list(tmp_path.glob("*.tar.gz*"))


# ---- the study split
def _pool_labels(n_train_per_class=50, n_test_per_class=10):
    y = np.repeat(np.arange(10), n_train_per_class + n_test_per_class)
    official_train = np.tile(np.arange(n_train_per_class + n_test_per_class) < n_train_per_class, 10)
    return y, official_train


def test_study_split_is_balanced_disjoint_sorted_and_seeded():
    y, official_train = _pool_labels()
    train, test = cifar.study_split(y, official_train, 95, 40)
    assert len(train) == 95 and len(test) == 40 and not set(train) & set(test)
    assert official_train[train].all() and (np.diff(train) > 0).all() and (np.diff(test) > 0).all()
    assert sorted(np.bincount(y[train], minlength=10)) == [9] * 5 + [10] * 5  # equal per class as far as possible
    assert (np.bincount(y[test], minlength=10) == 4).all()
    assert not official_train[test].all() and official_train[test].any()  # test draws from both kinds of rest
    again = cifar.study_split(y, official_train, 95, 40)
    assert all(np.array_equal(a, b) for a, b in zip((train, test), again))
    other = cifar.study_split(y, official_train, 95, 40, seed=1)
    assert not np.array_equal(train, other[0])


def test_study_split_test_size_none_takes_every_other_image():
    y, official_train = _pool_labels()
    train, test = cifar.study_split(y, official_train, 100, None)
    assert len(test) == len(y) - 100 and np.array_equal(np.sort(np.concatenate([train, test])), np.arange(len(y)))


def test_study_split_fills_up_from_classes_with_spare_images():
    y = np.repeat(np.arange(10), [4] + [22] * 9)
    official_train = np.concatenate([np.arange(n) >= 2 for n in [4] + [22] * 9])  # each class's first 2: test
    train, test = cifar.study_split(y, official_train, 50, 20)
    counts = np.bincount(y[train], minlength=10)
    assert counts[0] == 2 and sorted(counts[1:]) == [5] * 6 + [6] * 3
    assert (np.bincount(y[test], minlength=10) == 2).all()


@pytest.mark.parametrize("train_size, test_size, key, needle", [
    (501, 10, "train_size", "= 501 but the pool holds only 500 official training images"),
    (100, 501, "test_size", "= 501 but only 500 images are left"),
    (100, 9, "test_size", "= 9 leaves class"),
])
def test_study_split_bad_sizes_name_their_value(train_size, test_size, key, needle):
    y, official_train = _pool_labels()
    with pytest.raises(BadValue, match=needle) as e:
        cifar.study_split(y, official_train, train_size, test_size)
    assert e.value.name == key


def test_a_class_used_up_by_training_is_a_test_size_error():
    y = np.repeat(np.arange(10), 5)
    with pytest.raises(BadValue, match=r"^test_size = None leaves class \d without a test image") as e:
        cifar.study_split(y, np.ones(len(y), bool), 45, None)
    assert e.value.name == "test_size"


# ---- the JPEG export
def _jpeg_mirror(tmp_path, monkeypatch, members=None, **kw):
    mirror = tmp_path / "mirror"
    pixels = write_jpeg_mirror(mirror, members or jpeg_members(), **kw)
    pin_jpeg_mirror(monkeypatch, mirror)
    return mirror, pixels


def test_jpeg_pool_reads_labels_split_and_the_wanted_images(tmp_path, monkeypatch):
    mirror, pixels = _jpeg_mirror(tmp_path, monkeypatch)
    pool = cifar.jpeg_pool(mirror)
    assert pool.source == "jpeg-mirror" and pool.classes == CLASSES and len(pool.labels) == 50
    assert pool.official_train.sum() == 30 and list(pool.labels[:3]) == [0, 0, 0]
    rows = cifar.read_jpeg_manifest(mirror / "cifar-10-jpeg/MANIFEST.tsv")
    got = pool.load(np.array([40, 2]))  # the order asked for
    np.testing.assert_array_equal(got[0], pixels[rows[40].path])
    np.testing.assert_array_equal(got[1], pixels[rows[2].path])


def test_jpeg_pool_is_refused_unless_both_files_match_their_pins(tmp_path, monkeypatch):
    mirror, _ = _jpeg_mirror(tmp_path, monkeypatch)
    monkeypatch.setattr(cifar, "JPEG_SHA256", "0" * 64)
    with pytest.raises(SrtwinsError, match=r"cifar-10-jpeg\.tar\.gz: checksum mismatch against the pinned"):
        cifar.jpeg_pool(mirror)
    monkeypatch.setattr(cifar, "JPEG_MANIFEST_SHA256", "0" * 64)
    with pytest.raises(SrtwinsError, match=r"MANIFEST\.tsv: checksum mismatch against the pinned"):
        cifar.jpeg_pool(mirror)


def _wrong_pixels(rows):
    rows[3]["pixels_sha256"] = "0" * 64


def test_member_with_other_pixels_is_named_and_nothing_is_written(tmp_path, monkeypatch):
    mirror, _ = _jpeg_mirror(tmp_path, monkeypatch, manifest_edit=_wrong_pixels)
    pool = cifar.jpeg_pool(mirror)
    with pytest.raises(SrtwinsError, match=r"cifar-10-jpeg\.tar\.gz: train/automobile/0000\.jpg: decoded pixels do "
                                           r"not match MANIFEST\.tsv \(pixels_sha256\)$"):
        with atomic_dir(tmp_path / "raw") as tmp:
            raw.put_study(tmp / paths.CIFAR, pool, *cifar.study_split(pool.labels, pool.official_train, 30, None))
    assert not (tmp_path / "raw").exists()
    assert len(pool.load(np.array([0, 1, 2, 4]))) == 4  # only the members asked for are decoded


def test_member_with_other_bytes_is_named(tmp_path, monkeypatch):
    mirror, _ = _jpeg_mirror(tmp_path, monkeypatch, manifest_edit=lambda rows: rows[5].update(sha256="0" * 64))
    with pytest.raises(SrtwinsError, match=r"train/automobile/0002\.jpg: file bytes do not match MANIFEST\.tsv"):
        cifar.jpeg_pool(mirror).load(np.array([5]))


def _member(name, kind=tarfile.REGTYPE, data=b"x"):
    info = tarfile.TarInfo(name)
    info.type, info.size = kind, len(data) if kind == tarfile.REGTYPE else 0
    if kind == tarfile.SYMTYPE:
        info.linkname = "/etc/passwd"
    return info, data if kind == tarfile.REGTYPE else None


@pytest.mark.parametrize("extra, needle", [
    ([_member("../escape.jpg")], r"member '\.\./escape\.jpg' would land outside"),
    ([_member("/abs/escape.jpg")], r"member '/abs/escape\.jpg' would land outside"),
    ([_member("train/cat/../../../x.jpg")], r"member 'train/cat/\.\./\.\./\.\./x\.jpg' would land outside"),
    ([_member("train/cat/9999.jpg")], r"member 'train/cat/9999\.jpg' is not in MANIFEST\.tsv"),
    ([_member("train/cat/link.jpg", tarfile.SYMTYPE)], r"member 'train/cat/link\.jpg' is not a regular file"),
    ([_member("other", tarfile.DIRTYPE)], r"member 'other' is not a regular file"),
])
def test_unexpected_members_are_refused_by_name(tmp_path, monkeypatch, extra, needle):
    mirror, _ = _jpeg_mirror(tmp_path, monkeypatch, extra=extra)
    pool = cifar.jpeg_pool(mirror)
    with pytest.raises(SrtwinsError, match=r"cifar-10-jpeg\.tar\.gz: " + needle):
        pool.load(np.array([0]))


MISSING = "test/airplane/0099.jpg"


def test_every_manifest_entry_must_be_in_the_archive_once(tmp_path, monkeypatch):
    members = jpeg_members()
    data = members["train/cat/0001.jpg"]
    mirror, _ = _jpeg_mirror(tmp_path, monkeypatch, members, extra=[_member("train/cat/0001.jpg", data=data)])
    with pytest.raises(SrtwinsError, match=r"member 'train/cat/0001\.jpg' appears twice"):
        cifar.jpeg_pool(mirror).load(np.array([0]))
    write_jpeg_mirror(mirror, members, manifest_edit=lambda rows: rows.append({**rows[0], "path": MISSING}))
    pin_jpeg_mirror(monkeypatch, mirror)
    with pytest.raises(SrtwinsError, match=r"1 MANIFEST\.tsv entries are not in the archive \(" + MISSING):
        cifar.jpeg_pool(mirror).load(np.array([0]))


# ---- the real mirror
def test_real_mirror_small_split_matches_the_manifest(mirror, tmp_path):
    pool = cifar.jpeg_pool(mirror)
    assert len(pool.labels) == 60000 and pool.official_train.sum() == 50000
    train, test = cifar.study_split(pool.labels, pool.official_train, 100, 50)
    with atomic_dir(tmp_path / paths.CIFAR) as tmp:
        raw.put_study(tmp, pool, train, test)
    rows = read_tsv(mirror / cifar.JPEG_MIRROR / "MANIFEST.tsv")
    for split, idx in [("train", train), ("test", test)]:
        x, y = np.load(tmp_path / f"cifar10/x_{split}.npy"), np.load(tmp_path / f"cifar10/y_{split}.npy")
        assert [pixels_sha256(img) for img in x] == [rows[i]["pixels_sha256"] for i in idx]
        assert list(y) == [int(rows[i]["label"]) for i in idx]
    assert all(rows[i]["path"].startswith("train/") for i in train)
    assert np.bincount(pool.labels[train]).tolist() == [10] * 10
    assert json.loads((tmp_path / "cifar10/source.json").read_text()) == {
        "source": "jpeg-mirror", "pool": 60000, "train": 100, "test": 50, "seed": 0}
    assert (tmp_path / "cifar10/classes.txt").read_text().split() == CLASSES


def test_real_mirror_exact_subset_is_the_binary_test_batch(mirror, tmp_path):
    raw.put_exact(tmp_path / "exact", cifar.binary_folder_from_mirror(mirror))
    x, y = np.load(tmp_path / "exact/x_test.npy"), np.load(tmp_path / "exact/y_test.npy")
    assert x.shape == (1017, 32, 32, 3) and list(y[:10]) == [3, 8, 8, 0, 6, 6, 1, 6, 3, 1]
