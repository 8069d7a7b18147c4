"""How the graph layer cuts work into statements: one batch size, one way to cut."""

from __future__ import annotations

from typing import Iterator, Sequence, TypeVar

T = TypeVar("T")

# Rows per UNWIND statement, and per transaction where a change may span several.
BATCH_SIZE = 2000


def chunks(items: Sequence[T], size: int = BATCH_SIZE) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
