"""Write a ``.npy`` file piece by piece, so that an array larger than memory allows is never whole."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import numpy as np


@contextmanager
def npy_writer(path: Path, dtype: type, shape: tuple[int, ...]) -> Iterator[BinaryIO]:
    """A ``.npy`` file of ``shape``; the caller writes the values in order (``array.tofile(f)``).
    ``np.load(path, mmap_mode="r")`` reads it back."""
    with path.open("wb") as f:
        header = {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)), "fortran_order": False}
        np.lib.format.write_array_header_1_0(f, {**header, "shape": shape})
        start = f.tell()
        yield f
        written = f.tell() - start
    expected = math.prod(shape) * np.dtype(dtype).itemsize
    if written != expected:  # a header that lies would make the memory map read past the data
        raise ValueError(f"{path.name}: {written} bytes written, {expected} announced")
