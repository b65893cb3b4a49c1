"""SqueezeNext for HCCR with the reconstructed block and C-CBAM (seed 000, the main target).

Layout (seed 000 §"Basic module redefinition", Table 3): Conv_First 3×3/1 → 64 (+ an
optional 2×2 max pool, on by default), four stages of [2, 4, 14, 1] blocks (numbered 1-21 as
in the paper) with a 2×2/2 DownSample convolution of 32 filters between stages, Conv_Last
3×3 → 128, global average pooling and the FC to the classes. Every convolution is bias-free
and followed by BN and ReLU; convolutions are initialised with he_normal.

Blocks:
- Scenario 0, the original SqNxt block: 1×1 (b1) → 1×1 (b2) → 3×1 (c) → 1×3 (c) → 1×1 (C)
  added to the input (through a 1×1 projection in the first block of each stage). Both
  branches end in ReLU, so the sum is already non-negative and the ReLU that the reference
  implementation applies after the add is the identity and is left out.
- Scenario 1, the reconstructed block (Fig. 1): 1×1 (b1) → 1×1 (b2) → parallel 3×1 and
  1×3 (c each) → concat with the block input → 1×1 → C.
The widths below are those that reproduce Table 3 row by row (issue 7): Scenario 1 exactly,
Scenario 0 exactly only if Block 2 (32 → 32) also has a 1×1 projection, which it has here.
The pruned Scenario 3 of Table 5 is the Scenario 1 layout with other widths (`widths=`).

C-CBAM (Scenario 2): three cross-stage side paths. C-CBAM i takes the input of stage i (the
Conv_First output, then the two DownSample outputs: 64, 32 and 32 channels, ECA kernel 3),
applies CAM/SAM in its order, and a 1×1/2 projection (conv, BN, ReLU) adds it to the output
of stage i+1. Fig. 3 is not in the text, so this placement is our reconstruction: joining the
next stage's output is what makes the side paths "across multiple basic modules" and what
matches the paper's size increase (+1.27 % on Scenario 0 here; Table 2 gives 8.25 → 8.35 MB,
+1.21 % ± 0.12 from rounding), whereas joining the same stage's output would add only 0.4 %.
Table 2 marks Scenario 2 as Scenario 0 + C-CBAM, while the final model (Scenario 5) uses
both; `sqnxt-ccbam` is Scenario 1 + C-CBAM, `sqnxt0-ccbam` the literal Table 2 row.

The paper gives no input size and its GFLOPs cannot be reproduced with these widths; the
input is 64×64 by default and `profile` reports the real MACs.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import torch
from torch import nn

from model.nets.blocks import Cbam, Classifier, conv_bn, he_normal_
from model.nets.stats import group, profile

ORIGINAL, RECONSTRUCTED = "original", "reconstructed"
LAST_CHANNELS = 128


@dataclass(frozen=True)
class BlockWidths:
    """Channel widths of one basic block.

    Attributes:
        cin: input channels.
        b1: BottleNeck1 (1×1) filters.
        b2: BottleNeck2 (1×1) filters.
        c: filters of the 3×1 and of the 1×3 convolution.
        cout: output channels.
        projection: 1×1 projection shortcut (original block only).
    """

    cin: int
    b1: int
    b2: int
    c: int
    cout: int
    projection: bool = False


Stage = tuple[BlockWidths, ...]


def stage(cin: int, cout: int, blocks: int, first: tuple[int, int, int],
          rest: tuple[int, int, int] = (0, 0, 0), projections: int = 1) -> Stage:
    """The widths of a stage whose first block has (b1, b2, c) = `first` and the others `rest`;
    the first `projections` blocks get a projection shortcut (original block)."""
    return tuple(BlockWidths(cin if i == 0 else cout, *(first if i == 0 else rest), cout,
                             i < projections) for i in range(blocks))


# Widths reproducing seed 000 Table 3 (derived in issue 7; 2, 4, 14 and 1 blocks per stage).
SCENARIO0_WIDTHS: tuple[Stage, ...] = (
    stage(64, 32, 2, (32, 16, 32), (16, 8, 16), projections=2),
    stage(32, 64, 4, (32, 16, 32), (32, 16, 32)),
    stage(32, 128, 14, (64, 32, 64), (64, 32, 64)),
    stage(32, 512, 1, (256, 128, 256)),
)
SCENARIO1_WIDTHS: tuple[Stage, ...] = (
    stage(64, 32, 2, (32, 16, 32), (16, 8, 32)),
    stage(32, 64, 4, (16, 8, 64), (32, 16, 64)),
    stage(32, 128, 14, (32, 16, 128), (64, 32, 128)),
    stage(32, 256, 1, (64, 32, 256)),
)

# C-CBAM orders at positions I, II, III (Table 4 rows 1-5; row 5 is the paper's choice).
TABLE4_ORDERS: dict[int, tuple[str, str, str]] = {
    1: ("cam_sam", "cam_sam", "cam_sam"),
    2: ("parallel", "parallel", "parallel"),
    3: ("sam_cam", "sam_cam", "sam_cam"),
    4: ("sam_cam", "parallel", "cam_sam"),
    5: ("cam_sam", "parallel", "sam_cam"),
}
# Table 4 top-1 (%) of those rows, on CASIA-HWDB (row 0, no attention: 95.65).
TABLE4_ACCURACY = {0: 95.65, 1: 96.31, 2: 96.22, 3: 96.38, 4: 96.29, 5: 96.69}
PAPER_ATTENTION = TABLE4_ORDERS[5]

# Seed 000 Table 3 (Scenarios 0 and 1) and Table 5 (Scenario 3, pruned): parameters per row.
TABLE_ROWS = (("Conv_First", "conv_first"), ("Block 1-2", "stage1"),
              ("DownSample_1", "downsample1"), ("Block 3-6", "stage2"),
              ("DownSample_2", "downsample2"), ("Block 7-20", "stage3"),
              ("DownSample_3", "downsample3"), ("Block 21", "stage4"),
              ("Conv_Last", "conv_last"), ("FC", "classifier"))
PAPER_PARAMS: dict[int, tuple[int, ...]] = {
    0: (832, 14_752, 4_224, 40_960, 8_320, 534_272, 16_512, 491_008, 590_336, 484_395),
    1: (832, 16_032, 4_224, 80_672, 8_320, 1_168_960, 16_512, 195_968, 295_424, 484_395),
    3: (832, 4_751, 2_176, 18_737, 4_096, 262_925, 8_064, 171_471, 276_992, 484_395),
}
PAPER_TOTAL = {0: 2_185_611, 1: 2_271_339, 3: 1_234_439}
# Table 2 model sizes (MB): Scenario 0 8.25, Scenario 2 (0 + C-CBAM) 8.35 → +1.21 %.
PAPER_CCBAM_INCREASE = 1.21


class OriginalBlock(nn.Module):
    """Scenario 0: the SqNxt block with residual add."""

    def __init__(self, w: BlockWidths) -> None:
        super().__init__()
        if w.cin != w.cout and not w.projection:
            raise ValueError(f"original block {w}: cin != cout needs a projection shortcut")
        self.bottleneck1 = conv_bn(w.cin, w.b1, 1)
        self.bottleneck2 = conv_bn(w.b1, w.b2, 1)
        self.conv_kx1 = conv_bn(w.b2, w.c, (3, 1), padding=(1, 0))
        self.conv_1xk = conv_bn(w.c, w.c, (1, 3), padding=(0, 1))
        self.expand = conv_bn(w.c, w.cout, 1)
        self.shortcut = conv_bn(w.cin, w.cout, 1) if w.projection else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.expand(self.conv_1xk(self.conv_kx1(self.bottleneck2(self.bottleneck1(x)))))
        return y + (x if self.shortcut is None else self.shortcut(x))


class ReconstructedBlock(nn.Module):
    """Scenarios 1-3: parallel 3×1 / 1×3 branches, concatenated with the input, then 1×1."""

    def __init__(self, w: BlockWidths) -> None:
        super().__init__()
        self.bottleneck1 = conv_bn(w.cin, w.b1, 1)
        self.bottleneck2 = conv_bn(w.b1, w.b2, 1)
        self.branch_kx1 = conv_bn(w.b2, w.c, (3, 1), padding=(1, 0))
        self.branch_1xk = conv_bn(w.b2, w.c, (1, 3), padding=(0, 1))
        self.fuse = conv_bn(2 * w.c + w.cin, w.cout, 1)

    def init_identity(self) -> None:
        """Start as a pass-through: the fuse conv maps the concatenated input through the
        identity and the branches through zero (blocks with cin == cout only).

        With he_normal everywhere, 21 blocks of four BN-ReLU layers start in the chaotic
        regime (gradients ~10^5× larger at the stem than at the FC) and Scenario 1 does not
        train; starting each block as a near-identity, like zero-init residuals, fixes it.
        """
        weight = self.fuse.conv.weight
        cout, total = weight.shape[:2]
        cin = total - 2 * self.branch_kx1.conv.out_channels
        if cin != cout:
            return
        with torch.no_grad():
            weight.zero_()
            weight[:, total - cin :, 0, 0] = torch.eye(cin)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.bottleneck2(self.bottleneck1(x))
        return self.fuse(torch.cat([self.branch_kx1(y), self.branch_1xk(y), x], dim=1))


class CrossStageAttention(nn.Sequential):
    """One C-CBAM side path: attention on a stage input, then a 1×1/2 projection to the
    next stage's output channels."""

    def __init__(self, cin: int, cout: int, order: str) -> None:
        super().__init__(OrderedDict(attention=Cbam(cin, order),
                                     projection=conv_bn(cin, cout, 1, stride=2)))


class SqueezeNext(nn.Module):
    """SqNxt-for-HCCR; see the module docstring for the scenarios.

    Args:
        num_classes: classifier outputs.
        size: input side; must be divisible by 16 (8 without `pool_first`).
        block: "original" (Scenario 0) or "reconstructed" (Scenarios 1-3).
        widths: per-stage block widths (default: Table 3's for `block`).
        attention: C-CBAM order at positions I, II, III ("cam_sam", "parallel",
            "sam_cam" or None to leave a position out); None: no C-CBAM.
        pool_first: 2×2 max pool after Conv_First.
        bottleneck: seed 003 FC bottleneck width (None: none).
    """

    def __init__(self, num_classes: int, size: int = 64, block: str = RECONSTRUCTED,
                 widths: tuple[Stage, ...] | None = None,
                 attention: tuple[str | None, ...] | None = None, pool_first: bool = True,
                 bottleneck: int | None = None) -> None:
        super().__init__()
        if block not in (ORIGINAL, RECONSTRUCTED):
            raise ValueError(f"unknown block {block!r} ({ORIGINAL} or {RECONSTRUCTED})")
        widths = widths or (SCENARIO0_WIDTHS if block == ORIGINAL else SCENARIO1_WIDTHS)
        attention = attention or (None, None, None)
        if len(widths) != 4 or len(attention) != 3:
            raise ValueError("SqueezeNext has 4 stages and 3 C-CBAM positions")
        factor = 16 if pool_first else 8
        if size % factor:
            raise ValueError(f"input size {size} must be divisible by {factor}")
        make = OriginalBlock if block == ORIGINAL else ReconstructedBlock
        self.conv_first = conv_bn(1, widths[0][0].cin, 3, padding=1)
        self.pool_first = nn.MaxPool2d(2) if pool_first else None
        number = 0
        for i, blocks in enumerate(widths, start=1):
            if i > 1:
                self.add_module(f"downsample{i - 1}",
                                conv_bn(widths[i - 2][-1].cout, blocks[0].cin, 2, stride=2))
            layers: OrderedDict[str, nn.Module] = OrderedDict()
            for w in blocks:
                number += 1
                layers[f"block{number}"] = make(w)
            self.add_module(f"stage{i}", nn.Sequential(layers))
            if i > 1:
                order = attention[i - 2]
                self.add_module(f"ccbam{i - 1}", CrossStageAttention(
                    widths[i - 2][0].cin, blocks[-1].cout, order) if order else None)
        self.conv_last = conv_bn(widths[-1][-1].cout, LAST_CHANNELS, 3, padding=1)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.classifier = Classifier(LAST_CHANNELS, num_classes, bottleneck)
        he_normal_(self)
        for m in self.modules():
            if isinstance(m, ReconstructedBlock):
                m.init_identity()

    @staticmethod
    def _join(x: torch.Tensor, tap: torch.Tensor, side: nn.Module | None) -> torch.Tensor:
        return x if side is None else x + side(tap)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv_first(x)
        if self.pool_first is not None:
            x = self.pool_first(x)
        tap1 = x
        x = self.downsample1(self.stage1(x))
        tap2 = x
        x = self.downsample2(self._join(self.stage2(x), tap1, self.ccbam1))
        tap3 = x
        x = self.downsample3(self._join(self.stage3(x), tap2, self.ccbam2))
        x = self._join(self.stage4(x), tap3, self.ccbam3)
        return self.classifier(self.flatten(self.gap(self.conv_last(x))))


def sqnxt(num_classes: int, size: int = 64, scenario: int = 1, **options) -> SqueezeNext:
    """Seed 000 Scenario 0 (original block), 1 (reconstructed) or 2 (reconstructed +
    C-CBAM in the paper's orders); `options` go to `SqueezeNext` and override the scenario."""
    if scenario not in (0, 1, 2):
        raise ValueError(f"unknown scenario {scenario} (0, 1 or 2)")
    defaults = {"block": ORIGINAL if scenario == 0 else RECONSTRUCTED,
                "attention": PAPER_ATTENTION if scenario == 2 else None}
    return SqueezeNext(num_classes, size, **{**defaults, **options})


def param_table(model: SqueezeNext, size: int = 64, paper: int | None = None
                ) -> list[tuple[str, int, int, int | None, float | None]]:
    """Parameters and MACs per Table 3 row (plus C-CBAM rows), beside the paper's counts.

    Args:
        model: the network.
        size: input side for the MACs.
        paper: which paper column to show (0, 1 or 3; None: none).

    Returns:
        Rows (label, params, MACs, paper params, difference in %): the Table 3 rows and their
        total, then, with C-CBAM, its side paths and the grand total, whose last column is
        C-CBAM's increase in % (paper: `PAPER_CCBAM_INCREASE`, measured on Scenario 0).
    """
    groups = group(profile(model, size))
    paper_params = PAPER_PARAMS.get(paper, (None,) * len(TABLE_ROWS))
    rows = []
    for (label, key), theirs in zip(TABLE_ROWS, paper_params, strict=True):
        params, macs = groups.get(key, (0, 0))
        rows.append((label, params, macs, theirs, _diff(params, theirs)))
    params, macs = sum(r[1] for r in rows), sum(r[2] for r in rows)
    theirs = PAPER_TOTAL.get(paper)
    rows.append(("Total", params, macs, theirs, _diff(params, theirs)))
    side = [(f"C-CBAM {i}", *groups[f"ccbam{i}"]) for i in (1, 2, 3) if f"ccbam{i}" in groups]
    if side:
        rows += [(*r, None, None) for r in side]
        rows.append(("Total with C-CBAM", params + sum(r[1] for r in side),
                     macs + sum(r[2] for r in side), None,
                     100.0 * sum(r[1] for r in side) / params))
    return rows


def _diff(ours: int, theirs: int | None) -> float | None:
    return None if theirs is None else 100.0 * (ours - theirs) / theirs
