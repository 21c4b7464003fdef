"""Log chunk codecs: the zstd codec's two passes."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from buildbot.db import compression

zstd = pytest.importorskip("zstandard")

REPETITIVE = "".join(f"ocompiling src/module_{i}.c -O2 -Wall -o build/m.o\n"
                     for i in range(1200)).encode()
# Ordinary text (this project's source) compresses about 4 times: the level-9 pass decides.
SOURCE = b"".join(p.read_bytes() for p in sorted(
    (Path(compression.__file__).parent).glob("*.py")))[:60000]


def test_zstd_keeps_the_fast_pass_of_highly_repetitive_text() -> None:
    stored = compression.CODECS["zstd"].compress(REPETITIVE)

    assert stored == zstd.ZstdCompressor(level=compression.ZSTD_FAST_LEVEL).compress(REPETITIVE)
    assert len(stored) * compression.ZSTD_FAST_ENOUGH_RATIO <= len(REPETITIVE)


def test_zstd_stores_ordinary_text_at_level_9() -> None:
    stored = compression.CODECS["zstd"].compress(SOURCE)

    assert stored == zstd.ZstdCompressor(level=9).compress(SOURCE)


@pytest.mark.parametrize("data", [REPETITIVE, SOURCE], ids=["repetitive", "source"])
def test_zstd_chunks_read_back_with_a_plain_reader(data: bytes) -> None:
    # Buildbot 4.3 reads with ZstdDecompressor().decompress, which needs the content size.
    stored, codec_id = compression.compress(data, compression.CODECS["zstd"])

    assert codec_id == 4
    assert zstd.ZstdDecompressor().decompress(stored) == data
    assert compression.decompress(stored, codec_id) == data


def test_zstd_contexts_are_per_thread() -> None:
    codec = compression.CODECS["zstd"]
    results: list[bytes] = []

    def work() -> None:
        results.extend(codec.decompress(codec.compress(REPETITIVE)) for _ in range(20))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert results == [REPETITIVE] * 80
