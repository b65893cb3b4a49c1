from model.data.classes import LEVEL1, NUM_CLASSES, class_of_char, class_of_tag, tag_of_class


def test_level1_has_3755_unique_characters_in_code_order():
    assert len(LEVEL1) == NUM_CLASSES == 3755
    assert len(set(LEVEL1)) == 3755
    # Known GB2312 code points: B0A1 啊 (U+554A) opens level 1, D7F9 座 (U+5EA7) closes it,
    # B1A1 薄 (U+8584) opens the second row, 94 cells per row.
    assert LEVEL1[0] == "\u554a"
    assert LEVEL1[-1] == "\u5ea7"
    assert LEVEL1[94] == "\u8584"
    # 齄 (F7FE) ends level 2, so it is not a class.
    assert class_of_char("\u9f44") is None


def test_tags_round_trip_and_reject_non_level1():
    for index in (0, 1, 93, 94, 1234, 3754):
        assert class_of_tag(tag_of_class(index)) == index
    assert tag_of_class(0) == bytes([0xB0, 0xA1])
    assert class_of_tag(bytes([0xD7, 0xFA])) is None  # unassigned tail of row D7
    assert class_of_tag(bytes([0xF7, 0xFE])) is None  # level 2
    assert class_of_tag(b"AB") is None
