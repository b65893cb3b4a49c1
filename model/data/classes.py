"""The 3755 GB2312 level-1 characters; a class index is a position in this list."""

from __future__ import annotations

from functools import cache

NUM_CLASSES = 3755


def _level1() -> tuple[str, ...]:
    chars = []
    for row in range(0xB0, 0xD8):
        for cell in range(0xA1, 0xFF):
            if row == 0xD7 and cell >= 0xFA:  # 0xD7FA-0xD7FE are unassigned
                continue
            chars.append(bytes([row, cell]).decode("gb2312"))
    return tuple(chars)


LEVEL1: tuple[str, ...] = _level1()


@cache
def _index() -> dict[str, int]:
    return {ch: i for i, ch in enumerate(LEVEL1)}


def class_of_char(ch: str) -> int | None:
    """Class index of a character, or None when it is not GB2312 level 1."""
    return _index().get(ch)


def class_of_tag(tag: bytes) -> int | None:
    """Class index of a 2-byte GB2312 tag (high byte first), or None outside level 1."""
    try:
        ch = tag.decode("gb2312")
    except UnicodeDecodeError:
        return None
    return class_of_char(ch)


def tag_of_class(index: int) -> bytes:
    """The 2-byte GB2312 tag of a class index."""
    return LEVEL1[index].encode("gb2312")
