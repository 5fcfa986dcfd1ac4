"""spectral.memory: glibc keeps freed memory in the heap once asked to."""

from __future__ import annotations

import ctypes
import platform

import pytest
import torch

from spectral.memory import keep_freed_memory

GLIBC = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"


class _MallInfo2(ctypes.Structure):
    """glibc's ``struct mallinfo2`` (all ``size_t``)."""

    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost",
    )]


def mallinfo() -> _MallInfo2:
    libc = ctypes.CDLL(None)
    libc.mallinfo2.restype = _MallInfo2
    return libc.mallinfo2()


def test_applies_exactly_on_glibc():
    assert keep_freed_memory() is GLIBC
    assert keep_freed_memory() is GLIBC  # idempotent


@pytest.mark.skipif(not GLIBC, reason="glibc's mallopt and mallinfo2 only")
def test_a_large_tensor_comes_from_the_heap_and_its_memory_stays():
    keep_freed_memory()
    size = 64 * 2**20
    mapped = mallinfo().hblkhd
    tensor = torch.empty(size, dtype=torch.uint8)
    assert mallinfo().hblkhd == mapped, "the 64 MiB tensor got its own mmap"
    del tensor
    info = mallinfo()
    assert info.fordblks >= size, "the freed 64 MiB left the heap"
