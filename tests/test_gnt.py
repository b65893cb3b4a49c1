import struct

import numpy as np
import pytest

from model.data.gnt import GntError, encode_record, iter_gnt, read_gnt, write_gnt

TAG_A = bytes([0xB0, 0xA1])  # 啊, class 0
TAG_B = bytes([0xB0, 0xA2])  # 阿, class 1


def _images(seed=0):
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (h, w), dtype=np.uint8) for h, w in [(2, 3), (40, 31), (7, 90)]]


def test_record_layout_matches_the_casia_format_by_hand():
    image = np.array([[1, 2, 3], [4, 5, 255]], np.uint8)
    expected = (16).to_bytes(4, "little") + b"\xb0\xa1" + (3).to_bytes(2, "little") \
        + (2).to_bytes(2, "little") + bytes([1, 2, 3, 4, 5, 255])
    assert encode_record(TAG_A, image) == expected


def test_write_read_write_is_byte_identical(tmp_path):
    images = _images()
    tags = [TAG_A, TAG_B, TAG_A]
    first = tmp_path / "a.gnt"
    assert write_gnt(first, zip(tags, images, strict=True)) == 3
    samples = list(iter_gnt(first))
    assert [s.label for s in samples] == [0, 1, 0]
    for s, image in zip(samples, images, strict=True):
        np.testing.assert_array_equal(s.image, image)
    second = tmp_path / "b.gnt"
    write_gnt(second, [(bytes([0xB0, 0xA1 + s.label]), s.image) for s in samples])
    assert first.read_bytes() == second.read_bytes()
    assert not list(tmp_path.glob("*.partial"))


def _corrupt(kind: str) -> tuple[bytes, int]:
    """A file of one good record followed by a corrupt one; returns (bytes, bad offset)."""
    good = encode_record(TAG_A, np.full((4, 5), 200, np.uint8))
    bad = encode_record(TAG_B, np.full((3, 3), 7, np.uint8))
    if kind == "truncated":
        bad = bad[:-4]
    elif kind == "size":
        bad = struct.pack("<I", 10 + 9 + 1) + bad[4:] + b"\x00"
    elif kind == "tag":
        bad = bad[:4] + bytes([0xF7, 0xFE]) + bad[6:]
    elif kind == "zero":
        bad = struct.pack("<I2sHH", 10, TAG_B, 0, 3)
    return good + bad, len(good)


@pytest.mark.parametrize(("kind", "message"), [
    ("truncated", "truncated record (15 of 19 bytes)"),
    ("size", "size field 20 != 10 + 3*3 = 19"),
    ("tag", "tag f7fe is not a GB2312 level-1 character"),
    ("zero", "zero-sized image 0x3"),
])
def test_corrupt_records_name_file_and_offset(tmp_path, kind, message):
    data, offset = _corrupt(kind)
    path = tmp_path / f"{kind}.gnt"
    path.write_bytes(data)
    with pytest.raises(GntError) as err:
        read_gnt(path)
    text = str(err.value)
    assert text == f"{path}: byte {offset}: {message}"
    assert "\n" not in text
    result = read_gnt(path, skip_bad=True)
    assert result.skipped == 1
    assert [s.label for s in result.samples] == [0]


def test_truncated_header_and_skip_continues_after_bad_record(tmp_path):
    good = encode_record(TAG_A, np.full((2, 2), 9, np.uint8))
    bad_tag = encode_record(bytes([0x41, 0x42]), np.full((2, 2), 9, np.uint8))
    path = tmp_path / "mixed.gnt"
    path.write_bytes(good + bad_tag + good + good[:5])
    result = read_gnt(path, skip_bad=True)
    assert (len(result.samples), result.skipped) == (2, 2)
    path.write_bytes(good + good + good[:5])
    with pytest.raises(GntError, match=rf"byte {2 * len(good)}: truncated header \(5 of 10"):
        read_gnt(path)


def test_folder_reading_and_missing_paths(tmp_path):
    write_gnt(tmp_path / "w1.gnt", [(TAG_A, _images()[1])])
    (tmp_path / "sub").mkdir()
    write_gnt(tmp_path / "sub" / "w2.gnt", [(TAG_B, _images()[2])])
    assert [s.label for s in read_gnt(tmp_path).samples] == [1, 0]  # sorted by path
    with pytest.raises(GntError, match="no such file or folder"):
        read_gnt(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(GntError, match="no .gnt files found"):
        read_gnt(tmp_path / "empty")
