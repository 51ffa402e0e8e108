"""Hostile files for the data loaders: what a file declares never decides what is allocated.

Each test writes a small file (at most ~2 MB) that declares, or inflates to, gigabytes,
and checks that the loader refuses it with an error naming the argument, quickly, and
with a small peak of traced memory (numpy and Python buffers are both seen by
tracemalloc, so a 3 GB ``np.ndarray`` or a 4 GB inflated buffer would show).
"""

from __future__ import annotations

import gzip
import pickle
import struct
import time
import tracemalloc

import numpy as np
import pytest

from theorycheck import InvalidArgumentError
from theorycheck.empirical.data import (
    MAX_LOAD_BYTES,
    UnsafePickleError,
    load_cifar,
    load_mnist,
    read_idx,
    restricted_pickle_load,
)

PEAK_LIMIT = 32 << 20  # bytes of traced allocation any refusal below may cost


class _Call:
    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return (self.func, self.args)


def _refused(call, exc_type, match):
    """Run ``call``; it must raise ``exc_type`` matching ``match`` within 5 s and PEAK_LIMIT."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(exc_type, match=match) as info:
            call()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    elapsed = time.perf_counter() - start
    assert elapsed < 5.0, f"refusal took {elapsed:.1f} s"
    assert peak < PEAK_LIMIT, f"refusal allocated {peak / 2**20:.0f} MiB"
    return info.value


def _idx_header(shape, code=0x08) -> bytes:
    return bytes([0, 0, code, len(shape)]) + struct.pack(f">{len(shape)}I", *shape)


# -- IDX ------------------------------------------------------------------------------------

def test_idx_dimension_product_does_not_overflow(tmp_path):
    # (2^31, 2^31, 4) is 2^64 values: in int64 the product wraps to 0, which matched the
    # empty data of this 16-byte file and crashed in reshape with a raw ValueError
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(_idx_header((2**31, 2**31, 4)))
    err = _refused(lambda: read_idx(path), InvalidArgumentError, r"declares shape \(2147483648, 2147483648, 4\)")
    assert err.param == "path" and str(2**64) in str(err)


def test_idx_larger_than_max_bytes_is_refused_before_reading(tmp_path):
    path = tmp_path / "x-idx1-ubyte"
    path.write_bytes(_idx_header((4096,)) + bytes(4096))
    assert read_idx(path).shape == (4096,)  # the default limit is far above this
    _refused(lambda: read_idx(path, max_bytes=1000), InvalidArgumentError, "at most max_bytes = 1000 bytes")
    with pytest.raises(InvalidArgumentError, match="`max_bytes` of `read_idx`"):
        read_idx(path, max_bytes=0)
    assert MAX_LOAD_BYTES >= 200 << 20  # CIFAR (150 MB) and MNIST (47 MB) must fit


def test_idx_trailing_data_is_refused(tmp_path):
    path = tmp_path / "x-idx1-ubyte"
    path.write_bytes(_idx_header((8,)) + bytes(9))
    _refused(lambda: read_idx(path), InvalidArgumentError, "8 values")


def _gzip_bomb(path, header: bytes, inflated_mb: int) -> int:
    """A .gz file: ``header``, then ``inflated_mb`` MiB of zeros, written as repeated gzip
    members (multi-member .gz is valid and gzip.open reads on through them), so building a
    2 MB bomb of 2 GiB costs one 1 MiB compression. Returns the file size."""
    member = gzip.compress(bytes(1 << 20), compresslevel=9)
    with open(path, "wb") as fh:
        fh.write(gzip.compress(header))
        for _ in range(inflated_mb):
            fh.write(member)
    return path.stat().st_size


def test_gzip_bomb_with_a_small_declared_shape_is_inflated_no_further(tmp_path):
    path = tmp_path / "train-labels-idx1-ubyte.gz"
    size = _gzip_bomb(path, _idx_header((784,)), inflated_mb=2048)  # ~2 MB on disk, 2 GiB inflated
    assert size < 3 << 20
    _refused(lambda: read_idx(path), InvalidArgumentError, r"784 values .*785\+ data bytes")


def test_gzip_declaring_more_than_deflate_can_hold_is_refused_unread(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(_idx_header((60000, 28, 28)) + bytes(1000)))
    _refused(lambda: read_idx(path), InvalidArgumentError, "fits in its compressed size")


def test_gzip_bomb_above_max_bytes_is_refused(tmp_path):
    # honest about its size (4 MiB of zeros), but above the caller's cap
    path = tmp_path / "train-images-idx3-ubyte.gz"
    _gzip_bomb(path, _idx_header((4, 1024, 1024)), inflated_mb=4)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(_idx_header((4,)) + bytes(4))
    assert read_idx(path).shape == (4, 1024, 1024)
    _refused(lambda: load_mnist(tmp_path, max_bytes=1 << 20), InvalidArgumentError, "at most max_bytes")


# -- CIFAR pickles ------------------------------------------------------------------------------

def _write(tmp_path, obj, name="data_batch_1"):
    path = tmp_path / name
    path.write_bytes(pickle.dumps(obj, protocol=2))
    return path


def test_pickle_calling_ndarray_with_a_huge_shape_is_refused(tmp_path):
    # the 115-byte bomb of the issue: numpy.ndarray((1000000, 3072), 'u1') is 3 GB uninitialised
    path = _write(tmp_path, {b"data": _Call(np.ndarray, (1000000, 3072), "u1"), b"labels": [0]})
    assert path.stat().st_size < 200
    _refused(lambda: restricted_pickle_load(path), UnsafePickleError, r"declares an array of shape \(1000000, 3072\)")


def test_pickle_reconstruct_with_a_huge_shape_is_refused(tmp_path):
    from numpy._core.multiarray import _reconstruct

    path = _write(tmp_path, _Call(_reconstruct, np.ndarray, (1000000, 3072), b"b"))
    _refused(lambda: restricted_pickle_load(path), UnsafePickleError, "declares an array")


def test_pickle_huge_subarray_dtype_is_refused(tmp_path):
    # one element of ('u1', (10000, 3072)) is itself 30 MB, more than this file holds
    path = _write(tmp_path, {b"data": np.dtype(("u1", (10000, 3072)))})
    _refused(lambda: restricted_pickle_load(path), UnsafePickleError, "byte elements")


def test_pickle_array_state_must_carry_its_data(tmp_path):
    # an honest-looking array whose state declares more rows than its bytes hold
    arr = np.zeros((2, 3072), np.uint8)
    raw = pickle.dumps({b"data": arr, b"labels": [0, 1]}, protocol=2)
    assert raw.count(struct.pack("<H", 3072)) >= 1
    path = tmp_path / "data_batch_1"
    hostile = raw.replace(b"K\x02M\x00\x0c", b"J\x40\x42\x0f\x00M\x00\x0c", 1)  # 2 rows -> 1000000
    assert hostile != raw
    path.write_bytes(hostile)
    _refused(lambda: restricted_pickle_load(path), InvalidArgumentError, "readable pickle")


def test_cifar_file_above_max_bytes_is_refused_unread(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    for name in [f"data_batch_{i}" for i in range(1, 6)]:
        _write(folder, {b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 1]}, name)
    assert load_cifar(tmp_path).n == 10
    _refused(lambda: load_cifar(tmp_path, max_bytes=4096), InvalidArgumentError, "at most max_bytes = 4096")
