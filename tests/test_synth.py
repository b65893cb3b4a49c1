import hashlib
import json
from pathlib import Path

import matplotlib
import numpy as np
import pytest

from model.data import synth
from model.data.classes import NUM_CLASSES
from model.data.gnt import iter_gnt, read_gnt
from model.data.strokes import class_strokes, stroke_counts
from model.data.synth import (
    SynthError,
    SynthPlan,
    render,
    render_font,
    sample_rng,
    synthesize,
    writer_style,
)

PLAN = SynthPlan(classes=15, writers={"train": 3, "test": 2}, seed=11)
# A font that is always installed (matplotlib ships it); it has no CJK glyphs, so it draws
# its "missing glyph" box, which is enough to exercise the font path.
DEJAVU = Path(matplotlib.__file__).parent / "mpl-data" / "fonts" / "ttf" / "DejaVuSans.ttf"


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("synth")
    synthesize(PLAN, out, workers=1)
    return out


def _bytes(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*.gnt"))}


def test_asset_has_every_class_with_strokes_in_the_box():
    counts = stroke_counts()
    assert counts.shape == (NUM_CLASSES,) and counts.min() >= 1
    assert counts.sum() == 36670  # hanzi-writer-data 2.0.1, level 1
    for cls in (0, 1000, NUM_CLASSES - 1):
        strokes = class_strokes(cls)
        assert len(strokes) == counts[cls]
        for s in strokes:
            assert s.dtype == np.float32 and s.ndim == 2 and s.shape[1] == 2 and len(s) >= 1
            assert s.min() >= 0 and s.max() <= 255
    assert len(class_strokes(0)) == 10  # 啊
    with pytest.raises(IndexError):
        class_strokes(NUM_CLASSES)


def test_render_gives_dark_ink_on_white_cropped_with_a_small_margin():
    for writer in range(4):
        style = writer_style(0, "train", writer)
        for cls in (0, 500, 3754):
            image = render(cls, style, sample_rng(0, "train", writer, cls))
            assert image.dtype == np.uint8 and image.ndim == 2
            assert min(image.shape) >= 25 and max(image.shape) <= 180
            assert image.min() < 140  # real ink
            ink = image < 200
            rows, cols = np.flatnonzero(ink.any(1)), np.flatnonzero(ink.any(0))
            assert rows[0] <= 4 and cols[0] <= 4  # margin of at most 3 px (+ antialiasing)
            assert image.shape[0] - rows[-1] <= 5 and image.shape[1] - cols[-1] <= 5
            assert (image == 255).mean() > 0.5  # mostly paper


def test_same_seed_is_byte_identical_whatever_the_worker_count(data, tmp_path):
    synthesize(PLAN, tmp_path / "again", workers=2)
    assert _bytes(tmp_path / "again") == _bytes(data)
    manifest = (tmp_path / "again" / "manifest.json").read_text()
    assert manifest == (data / "manifest.json").read_text()


def test_a_different_seed_gives_different_images(data, tmp_path):
    other = SynthPlan(PLAN.classes, PLAN.writers, seed=PLAN.seed + 1)
    synthesize(other, tmp_path, workers=1)
    a, b = _bytes(data), _bytes(tmp_path)
    assert a.keys() == b.keys()
    assert all(a[k] != b[k] for k in a)


def test_train_and_test_writers_have_different_styles_and_images(data):
    manifest = json.loads((data / "manifest.json").read_text())
    styles = {split: [json.dumps(f["style"], sort_keys=True) for f in s["files"].values()]
              for split, s in manifest["splits"].items()}
    assert not set(styles["train"]) & set(styles["test"])
    assert len(set(styles["train"])) == 3
    train, test = writer_style(11, "train", 0), writer_style(11, "test", 0)
    assert train != test
    assert train.slant != test.slant and train.width != test.width
    for cls in range(PLAN.classes):
        a = list(iter_gnt(data / "train" / "w0000.gnt"))[cls].image
        b = list(iter_gnt(data / "test" / "w0000.gnt"))[cls].image
        assert a.shape != b.shape or not np.array_equal(a, b)


def test_every_class_reads_back_once_per_writer_with_ink(data):
    manifest = json.loads((data / "manifest.json").read_text())
    assert manifest["images"] == 75 and manifest["seed"] == 11 and manifest["classes"] == 15
    for split, k in PLAN.writers.items():
        files = sorted((data / split).glob("*.gnt"))
        assert [f.name for f in files] == [f"w{w:04d}.gnt" for w in range(k)]
        for f in files:
            entry = manifest["splits"][split]["files"][f.name]
            assert entry["sha256"] == hashlib.sha256(f.read_bytes()).hexdigest()
            samples = list(iter_gnt(f))
            assert [s.label for s in samples] == list(range(PLAN.classes))
            assert all(s.image.min() < 160 for s in samples)
    result = read_gnt(data)
    assert len(result.samples) == 75 and result.skipped == 0
    assert not list(data.rglob("*.partial"))


def test_an_existing_dataset_is_kept_unless_overwritten(data, tmp_path):
    big = SynthPlan(classes=3, writers={"train": 3}, seed=0)
    synthesize(big, tmp_path, workers=1)
    with pytest.raises(SynthError, match="already holds a dataset"):
        synthesize(big, tmp_path, workers=1)
    synthesize(SynthPlan(classes=3, writers={"train": 1}, seed=0), tmp_path, workers=1,
               overwrite=True)
    assert [p.name for p in (tmp_path / "train").iterdir()] == ["w0000.gnt"]


def test_an_interrupted_run_leaves_no_manifest(tmp_path, monkeypatch):
    def broken(cls, style, rng):
        if cls == 2:
            raise RuntimeError("killed")
        return real(cls, style, rng)

    real = synth.render
    monkeypatch.setattr(synth, "render", broken)
    with pytest.raises(RuntimeError, match="killed"):
        synthesize(SynthPlan(classes=4, writers={"train": 2}, seed=0), tmp_path, workers=1)
    assert not (tmp_path / "manifest.json").exists()
    assert not list(tmp_path.rglob("*.gnt"))


@pytest.mark.parametrize("kwargs, message", [
    ({"classes": 0, "writers": {"train": 1}}, "classes must be in 1..3755"),
    ({"classes": 3756, "writers": {"train": 1}}, "classes must be in 1..3755"),
    ({"classes": 5, "writers": {"valid": 1}}, "splits must be among train, test"),
    ({"classes": 5, "writers": {"train": 0}}, "at least one writer"),
    ({"classes": 5, "writers": {"train": 1}, "seed": -1}, "seed must be >= 0"),
    ({"classes": 5, "writers": {"test": 1}, "fonts": ("a.ttf",)}, "font writers go into"),
])
def test_bad_plans_are_refused(kwargs, message):
    with pytest.raises(SynthError, match=message):
        SynthPlan(**kwargs)


def test_fonts_become_extra_training_writers(tmp_path):
    plan = SynthPlan(classes=3, writers={"train": 2, "test": 1}, seed=0, fonts=(str(DEJAVU),))
    assert plan.writer_list()[-1] == ("train", 2, str(DEJAVU))
    manifest = synthesize(plan, tmp_path, workers=1)
    assert manifest["splits"]["train"]["files"]["w0002.gnt"]["font"] == str(DEJAVU)
    samples = list(iter_gnt(tmp_path / "train" / "w0002.gnt"))
    assert [s.label for s in samples] == [0, 1, 2]
    assert all(s.image.min() < 160 and (s.image == 255).any() for s in samples)
    style = writer_style(0, "train", 2)
    image = render_font(0, str(DEJAVU), style, sample_rng(0, "train", 2, 0))
    assert np.array_equal(image, samples[0].image)


@pytest.mark.slow
def test_all_3755_classes_synthesize(tmp_path):
    synthesize(SynthPlan(classes=NUM_CLASSES, writers={"train": 1}, seed=3), tmp_path,
               workers=2)
    samples = list(iter_gnt(tmp_path / "train" / "w0000.gnt"))
    assert [s.label for s in samples] == list(range(NUM_CLASSES))
    assert all(s.image.min() < 160 for s in samples)
