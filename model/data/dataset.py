"""Load `.gnt` files into preprocessed uint8 arrays with labels mapped to a model's classes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model.data.gnt import GntError, read_gnt
from model.data.preprocess import preprocess_batch


@dataclass
class ImageSet:
    """Preprocessed images [N, S, S] uint8 (ink bright) and GB2312 level-1 class indices [N]."""

    images: np.ndarray
    labels: np.ndarray
    source: str = "the data"  # what to name in errors

    def restrict(self, classes: np.ndarray) -> tuple[ImageSet, int]:
        """Keep the samples whose class is in `classes`, relabelled to positions in it (a
        `GntError` if none is).

        Returns:
            The restricted set (labels = model output index) and the number of dropped samples.
        """
        lookup = np.full(max(int(classes.max()), int(self.labels.max(initial=0))) + 1, -1)
        lookup[classes] = np.arange(len(classes))
        mapped = lookup[self.labels]
        keep = mapped >= 0
        if not keep.any():
            raise GntError(f"{self.source}: none of its {len(keep)} images is of the "
                           f"{len(classes)} classes the model knows")
        return ImageSet(self.images[keep], mapped[keep], self.source), int((~keep).sum())


def load_images(path: str | Path, size: int, skip_bad: bool = False, binarize: bool = False
                ) -> ImageSet:
    """Read a `.gnt` file or folder and preprocess every sample to [size, size] (a `GntError`
    when it holds no image; `binarize`: at the mean grey level first)."""
    result = read_gnt(path, skip_bad=skip_bad)
    if not result.samples:
        bad = f" ({result.skipped} corrupt records skipped)" if result.skipped else ""
        raise GntError(f"{path}: no images{bad}")
    images = preprocess_batch([s.image for s in result.samples], size, binarize)
    labels = np.array([s.label for s in result.samples], np.int64)
    return ImageSet(images, labels, str(path))
