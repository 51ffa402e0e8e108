"""Data loaders of theorycheck.empirical: built-in sets, CIFAR pickles, MNIST IDX, augmentation.

The CIFAR and MNIST tests write small files in the official formats (python pickles of
dicts with bytes keys, uint8 rows of 3072 channel-major pixels; big-endian IDX headers)
and read them back; a malicious pickle must be refused before it can run anything.
"""

from __future__ import annotations

import gzip
import os
import pickle
import struct

import numpy as np
import pytest
import torch

from theorycheck import InvalidArgumentError
from theorycheck.empirical.data import (
    RandomCropFlip,
    UnsafePickleError,
    balance_classes,
    load_cifar,
    load_dataset,
    load_digits,
    load_mnist,
    make_gaussian,
    read_idx,
    restricted_pickle_load,
)


# -- built-in sets ------------------------------------------------------------------------

def test_digits_is_sklearns_set_scaled_to_unit_interval():
    data = load_digits()
    assert data.x.shape == (1797, 64) and data.x.dtype == np.float32
    assert data.num_classes == 10 and data.n == 1797
    assert data.x.min() == 0.0 and data.x.max() == 1.0
    assert data.class_counts.tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    assert not data.balanced
    images = load_digits(as_images=True)
    assert images.x.shape == (1797, 1, 8, 8)
    np.testing.assert_array_equal(images.x.reshape(1797, 64), data.x)


def test_balance_subsamples_every_class_to_the_smallest():
    data = load_dataset("digits", balance=True, seed=3)
    assert data.balanced and data.n == 1740 and set(data.class_counts.tolist()) == {174}
    # the samples kept are rows of the original set with their own labels
    full = load_digits()
    rows = {tuple(r) for r in full.x[full.y == 8]}
    assert all(tuple(r) in rows for r in data.x[data.y == 8])


def test_max_samples_gives_a_stratified_subset():
    data = load_dataset("digits", max_samples=100, seed=0)
    assert data.n == 100 and data.class_counts.tolist() == [10] * 10


def test_gaussian_mixture_is_balanced_and_seeded():
    a = make_gaussian(4, 7, 5, seed=2)
    b = make_gaussian(4, 7, 5, seed=2)
    c = make_gaussian(4, 7, 5, seed=3)
    assert a.x.shape == (20, 7) and a.balanced and a.num_classes == 4
    np.testing.assert_array_equal(a.x, b.x)
    assert not np.array_equal(a.x, c.x)
    big = load_dataset("gaussian", gaussian_classes=3, gaussian_dim=50, gaussian_per_class=400, seed=0)
    # classes are separated: nearest-class-mean accuracy far above chance (1/3)
    means = np.stack([big.x[big.y == k].mean(0) for k in range(3)])
    pred = np.argmin(((big.x[:, None, :] - means[None]) ** 2).sum(-1), axis=1)
    assert np.mean(pred == big.y) > 0.9


@pytest.mark.parametrize("spec, fragment", [
    ("imagenet", "one of 'digits'"),
    ("digits:/tmp", "without a path"),
    ("cifar10", "cifar10:PATH"),
    ("mnist:", "mnist:PATH"),
    ("cifar100:/definitely/not/here", "existing directory"),
    ("mnist:/definitely/not/here", "existing directory"),
])
def test_unknown_names_and_bad_paths_give_clear_errors(spec, fragment):
    with pytest.raises(InvalidArgumentError, match="data|path") as info:
        load_dataset(spec)
    assert fragment in str(info.value)


def test_data_name_must_be_a_string():
    with pytest.raises(InvalidArgumentError, match="`data` of `load_dataset`"):
        load_dataset(3)


# -- CIFAR --------------------------------------------------------------------------------

def _cifar_rows(rng, n):
    return rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)


def _write_cifar10(root, rng, per_batch=4, test=3):
    folder = root / "cifar-10-batches-py"
    folder.mkdir()
    everything = []
    for i in range(1, 6):
        data = _cifar_rows(rng, per_batch)
        labels = [int(v) for v in rng.integers(0, 10, per_batch)]
        everything.append((data, labels))
        batch = {b"batch_label": f"training batch {i} of 5".encode(), b"labels": labels, b"data": data,
                 b"filenames": [f"img_{i}_{j}.png".encode() for j in range(per_batch)]}
        with open(folder / f"data_batch_{i}", "wb") as fh:
            pickle.dump(batch, fh, protocol=2)
    data = _cifar_rows(rng, test)
    labels = [int(v) for v in rng.integers(0, 10, test)]
    with open(folder / "test_batch", "wb") as fh:
        pickle.dump({b"batch_label": b"testing batch 1 of 1", b"labels": labels, b"data": data,
                     b"filenames": [b"t.png"] * test}, fh, protocol=2)
    names = [n.encode() for n in ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                                  "ship", "truck")]
    with open(folder / "batches.meta", "wb") as fh:
        pickle.dump({b"num_cases_per_batch": per_batch, b"label_names": names, b"num_vis": 3072}, fh, protocol=2)
    return folder, everything, (data, labels)


def test_cifar10_official_layout_round_trips(tmp_path):
    rng = np.random.default_rng(0)
    folder, batches, (test_data, test_labels) = _write_cifar10(tmp_path, rng)
    data = load_cifar(tmp_path, num_classes=10)  # the parent directory works too
    assert data.x.shape == (20, 3, 32, 32) and data.x.dtype == np.uint8 and data.num_classes == 10
    rows = np.concatenate([d for d, _ in batches])
    np.testing.assert_array_equal(data.y, np.concatenate([l for _, l in batches]))
    # a row is 1024 red, then 1024 green, then 1024 blue values, each row-major 32x32
    np.testing.assert_array_equal(data.x[5, 1, 2, 7], rows[5, 1024 + 2 * 32 + 7])
    np.testing.assert_array_equal(data.x[:, 2].reshape(20, 1024), rows[:, 2048:])
    assert data.class_names[0] == "airplane" and data.class_names[9] == "truck"
    test = load_dataset(f"cifar10:{folder}", train=False)
    np.testing.assert_array_equal(test.x.reshape(3, 3072), test_data)
    np.testing.assert_array_equal(test.y, test_labels)
    # images are standardised per channel when a batch is prepared
    batch = data.prepare(torch.from_numpy(data.x[:2]))
    assert batch.dtype == torch.float32
    expected = (data.x[0, 0, 0, 0] / 255.0 - 0.4914) / 0.2470
    assert abs(float(batch[0, 0, 0, 0]) - expected) < 1e-5


def test_cifar100_uses_fine_labels(tmp_path):
    rng = np.random.default_rng(1)
    folder = tmp_path / "cifar-100-python"
    folder.mkdir()
    data = _cifar_rows(rng, 6)
    fine = [99, 0, 17, 42, 5, 63]
    with open(folder / "train", "wb") as fh:
        pickle.dump({b"data": data, b"fine_labels": fine, b"coarse_labels": [1] * 6, b"filenames": [b"x"] * 6,
                     b"batch_label": b"training batch 1 of 1"}, fh, protocol=2)
    loaded = load_dataset(f"cifar100:{folder}")
    assert loaded.num_classes == 100
    np.testing.assert_array_equal(loaded.y, fine)
    np.testing.assert_array_equal(loaded.x.reshape(6, 3072), data)


def test_numpy1_module_names_of_the_official_files_load(tmp_path):
    # the official files were written by numpy 1 under Python 2: the array is rebuilt by
    # numpy.core.multiarray._reconstruct, a name numpy 2 moved
    arr = np.arange(3072, dtype=np.uint8).reshape(1, 3072)
    raw = pickle.dumps({b"data": arr, b"labels": [3]}, protocol=2)
    raw = raw.replace(b"numpy._core.multiarray", b"numpy.core.multiarray")
    assert b"numpy.core.multiarray\n_reconstruct" in raw
    path = tmp_path / "batch"
    path.write_bytes(raw)
    obj = restricted_pickle_load(path)
    np.testing.assert_array_equal(obj[b"data"], arr)


class _Exploit:
    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return (self.func, self.args)


@pytest.mark.parametrize("func", [os.system, eval, __import__])
def test_malicious_cifar_pickle_is_refused_before_running(tmp_path, func):
    folder, _, _ = _write_cifar10(tmp_path, np.random.default_rng(2))
    marker = tmp_path / "pwned"
    payload = f"touch {marker}" if func is os.system else "os"
    with open(folder / "data_batch_3", "wb") as fh:
        pickle.dump({b"data": _Exploit(func, payload), b"labels": [0]}, fh, protocol=2)
    with pytest.raises(UnsafePickleError, match="refusing to load .*data_batch_3.*asks for the global"):
        load_cifar(folder)
    assert not marker.exists()


def test_codecs_shim_only_accepts_latin1(tmp_path):
    import codecs

    # Python 3 writes bytes into protocol-2 pickles as _codecs.encode(text, "latin1"); that
    # call is allowed, any other codec (whose machinery could be steered) is not
    good, evil = tmp_path / "good", tmp_path / "evil"
    good.write_bytes(pickle.dumps(_Exploit(codecs.encode, "abc", "latin1"), protocol=2))
    assert restricted_pickle_load(good) == b"abc"
    evil.write_bytes(pickle.dumps(_Exploit(codecs.encode, "abc", "rot13"), protocol=2))
    with pytest.raises(UnsafePickleError, match="latin1"):
        restricted_pickle_load(evil)


@pytest.mark.parametrize("content, fragment", [
    (lambda: pickle.dumps([1, 2, 3], protocol=2), "a pickled dict"),
    (lambda: pickle.dumps({b"data": np.zeros((2, 10), np.uint8), b"labels": [0, 1]}, protocol=2), "(n, 3072)"),
    (lambda: pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0]}, protocol=2), "one integer"),
    (lambda: pickle.dumps({b"labels": [0]}, protocol=2), "key 'data'"),
    (lambda: pickle.dumps({b"data": np.zeros((1, 3072), np.uint8), b"labels": [0]}, protocol=2)[:40], "readable"),
])
def test_malformed_cifar_files_give_clear_errors(tmp_path, content, fragment):
    folder, _, _ = _write_cifar10(tmp_path, np.random.default_rng(4))
    (folder / "data_batch_2").write_bytes(content())
    with pytest.raises(InvalidArgumentError) as info:
        load_cifar(folder)
    assert fragment in str(info.value)


def test_cifar_missing_batches_are_named(tmp_path):
    folder, _, _ = _write_cifar10(tmp_path, np.random.default_rng(5))
    (folder / "data_batch_4").unlink()
    with pytest.raises(InvalidArgumentError, match="missing: data_batch_4"):
        load_cifar(folder)


# -- MNIST ----------------------------------------------------------------------------------

def _idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


@pytest.mark.parametrize("compressed", [False, True])
def test_mnist_idx_round_trip(tmp_path, compressed):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(7, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=7).astype(np.uint8)
    for name, arr in (("train-images-idx3-ubyte", images), ("train-labels-idx1-ubyte", labels)):
        raw = _idx_bytes(arr)
        if compressed:
            with gzip.open(tmp_path / (name + ".gz"), "wb") as fh:
                fh.write(raw)
        else:
            (tmp_path / name).write_bytes(raw)
    assert _idx_bytes(images)[:4] == b"\x00\x00\x08\x03"  # magic 2051, as in the official files
    data = load_dataset(f"mnist:{tmp_path}")
    assert data.x.shape == (7, 1, 28, 28) and data.num_classes == 10
    np.testing.assert_array_equal(data.x[:, 0], images)
    np.testing.assert_array_equal(data.y, labels)


def test_mnist_bad_files_give_clear_errors(tmp_path):
    with pytest.raises(InvalidArgumentError, match="train-images-idx3-ubyte"):
        load_mnist(tmp_path)
    images = np.zeros((3, 4, 4), np.uint8)
    (tmp_path / "train-images-idx3-ubyte").write_bytes(_idx_bytes(images)[:-5])
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(_idx_bytes(np.zeros(3, np.uint8)))
    with pytest.raises(InvalidArgumentError, match="48 values"):
        load_mnist(tmp_path)
    (tmp_path / "train-images-idx3-ubyte").write_bytes(b"PK\x03\x04garbage")
    with pytest.raises(InvalidArgumentError, match="magic bytes"):
        read_idx(tmp_path / "train-images-idx3-ubyte")
    (tmp_path / "train-images-idx3-ubyte").write_bytes(_idx_bytes(images))
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(_idx_bytes(np.zeros(2, np.uint8)))
    with pytest.raises(InvalidArgumentError, match="one label per image"):
        load_mnist(tmp_path)


# -- augmentation -----------------------------------------------------------------------------

def test_crop_and_flip_without_randomness_is_the_identity():
    batch = torch.arange(2 * 3 * 5 * 5, dtype=torch.float32).reshape(2, 3, 5, 5)
    out = RandomCropFlip(padding=0, flip=False)(batch, torch.Generator().manual_seed(0))
    assert torch.equal(out, batch)


def test_every_augmented_image_is_a_window_of_the_padded_image_or_its_mirror():
    gen = torch.Generator().manual_seed(7)
    batch = torch.rand(16, 2, 6, 6, generator=gen) + 1.0  # no zeros: padding is recognisable
    aug = RandomCropFlip(padding=2, flip=True)
    out = aug(batch, torch.Generator().manual_seed(1))
    assert out.shape == batch.shape
    padded = torch.nn.functional.pad(batch, (2, 2, 2, 2))
    flips = shifts = 0
    for i in range(16):
        matches = [(dy, dx, f) for dy in range(5) for dx in range(5) for f in (False, True)
                   if torch.equal(out[i], (padded[i, :, dy:dy + 6, dx:dx + 6].flip(-1) if f
                                           else padded[i, :, dy:dy + 6, dx:dx + 6]))]
        assert matches, f"image {i} is not a crop of its padded original"
        flips += any(f for _, _, f in matches) and not any(not f for _, _, f in matches)
        shifts += all((dy, dx) != (2, 2) for dy, dx, _ in matches)
    assert 0 < flips < 16 and shifts > 0  # both transformations actually happen
    again = aug(batch, torch.Generator().manual_seed(1))
    assert torch.equal(out, again)  # seeded


def test_balance_classes_rejects_empty_classes():
    data = make_gaussian(3, 2, 4, seed=0)
    data = data.with_labels(np.where(data.y == 2, 0, data.y))
    with pytest.raises(InvalidArgumentError, match="every class has a sample"):
        balance_classes(data)
