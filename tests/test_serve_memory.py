"""The server's cap on glibc arenas: threads allocating at once share two heaps."""

import re
import subprocess
import sys
import textwrap

import pytest

from seoga.serve.memory import ARENAS, cap_malloc_arenas

PROGRAM = textwrap.dedent(
    """
    import ctypes, ctypes.util, sys, threading
    from seoga.serve.memory import cap_malloc_arenas
    if sys.argv[1] == "cap":
        cap_malloc_arenas()
    barrier = threading.Barrier(16)

    def work():
        barrier.wait()
        for _ in range(200):
            blocks = [bytearray(4096) for _ in range(50)]
            del blocks

    threads = [threading.Thread(target=work) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ctypes.CDLL(ctypes.util.find_library("c")).malloc_stats()
    """
)


def arenas(mode: str) -> int:
    run = subprocess.run(
        [sys.executable, "-c", PROGRAM, mode], capture_output=True, text=True, check=True
    )
    return len(re.findall(r"^Arena \d+:", run.stderr, flags=re.MULTILINE))


@pytest.mark.skipif(not cap_malloc_arenas(), reason="libc here is not glibc (no mallopt)")
def test_threads_share_at_most_the_capped_arenas():
    assert arenas("cap") <= ARENAS < arenas("free")
