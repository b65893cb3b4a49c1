"""HCCR-CNN9Layer and Global Supervised Low-Rank Expansion (GSLRE), seed 002.

The network (§3, Fig. 2) is Input(96×96)-96C3-MP3-128C3-MP3-160C3-MP3-256C3-256C3-MP3-
384C3-384C3-MP3-1024FC-3755: 3×3 convolutions with one pixel of padding, 3×3/2 max pooling
(Caffe's ceil mode, written as one pixel of padding: 96 → 48 → 24 → 12 → 6 → 3), BN and a
per-channel PReLU after every convolution and after the 1024-unit FC, dropout 0.5 before
the classifier. The 1024-unit FC is written as a convolution whose kernel covers the whole
3×3×384 map (`fc1`): the same weights, but followed by BatchNorm2d, which the hardware flow
folds into a convolution. Layer names follow the paper (conv1 … conv5_2, fc1).

GSLRE (§6) replaces a K×K convolution by a K×1 convolution with D outputs followed by a 1×K
one (`conv2.de1`, `conv2.de2`, Fig. 4b: BN and PReLU stay after the pair), with D from Eq. 5
for a target speed-up, and trains the network layer by layer with the label loss (Fig. 5b).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import torch
from torch import nn

from model.data.dataset import ImageSet
from model.loop import Loop, fit, make_optimizer
from model.nets.blocks import Classifier, he_normal_
from model.nets.stats import profile

# (name, filters, max pool after it): the seven convolutions of Fig. 2.
CONVS = (("conv1", 96, True), ("conv2", 128, True), ("conv3", 160, True),
         ("conv4_1", 256, False), ("conv4_2", 256, True), ("conv5_1", 384, False),
         ("conv5_2", 384, True))
FC1 = 1024
# conv1 is never decomposed (§6.2: hard to approximate, <1 % of the cost).
LOWRANK_LAYERS = tuple(name for name, _, _ in CONVS[1:])
# Seed 002 Table 3: weights (thousands) of <layer>_de1 and <layer>_de2 at a 4× speed-up.
TABLE3_LOWRANK_K = {"conv2": (12, 15), "conv3": (20, 24), "conv4_1": (33, 53),
                    "conv4_2": (68, 68), "conv5_1": (78, 118), "conv5_2": (142, 142)}
# Seed 002 Table 4 rows 9-10: storage (MB) and FLOPs (×10^8 multiply-adds).
TABLE4 = {"cnn9": (41.5, 5.94), "cnn9-gslre-4x": (31.2, 1.52)}


def gslre_rank(cin: int, cout: int, kernel: int, w_in: int, w_out: int, speedup: float) -> int:
    """Seed 002 Eq. 5: D = C·N·K·W' / ((C·W + N·W')·x), rounded to the nearest integer (≥ 1).

    Args:
        cin: C, input channels.
        cout: N, output channels.
        kernel: K.
        w_in: W, the width the K×1 kernel runs over. Table 3 is reproduced exactly when this
            is the zero-padded input width (W' + 2 for a 3×3 'same' convolution).
        w_out: W', the output width.
        speedup: x, the target acceleration of the layer.
    """
    d = cin * cout * kernel * w_out / ((cin * w_in + cout * w_out) * speedup)
    return max(1, round(d))


def _square(conv: nn.Conv2d) -> tuple[int, int]:
    """Kernel size and padding of a convolution GSLRE can expand."""
    (kh, kw), (ph, pw) = conv.kernel_size, conv.padding
    if kh != kw or ph != pw or conv.stride != (1, 1) or conv.groups != 1 or conv.bias is not None:
        raise ValueError(f"low-rank expansion needs a square, stride-1, bias-free, ungrouped "
                         f"convolution, not {conv}")
    return kh, ph


class LowRankConv(nn.Sequential):
    """A K×K convolution as K×1 (C → D, `de1`) then 1×K (D → N, `de2`), both bias-free."""

    def __init__(self, cin: int, cout: int, kernel: int, rank: int, padding: int) -> None:
        super().__init__(OrderedDict(
            de1=nn.Conv2d(cin, rank, (kernel, 1), padding=(padding, 0), bias=False),
            de2=nn.Conv2d(rank, cout, (1, kernel), padding=(0, padding), bias=False)))

    @classmethod
    def from_conv(cls, conv: nn.Conv2d, rank: int) -> LowRankConv:
        """The best rank-`rank` pair for `conv` (truncated SVD of its kernel, Jaderberg's
        scheme 2): exact when `rank` ≥ min(C·K, N·K), the starting point of GSLRE otherwise.
        """
        kernel, padding = _square(conv)
        w = conv.weight.detach()  # [N, C, K, K] → A[(c, i), (n, j)]
        low = cls(conv.in_channels, conv.out_channels, kernel, rank, padding).to(w.device)
        n, c, k, _ = w.shape
        u, s, vh = torch.linalg.svd(w.permute(1, 2, 0, 3).reshape(c * k, n * k),
                                    full_matrices=False)
        r = min(rank, s.numel())
        root = s[:r].sqrt()
        de1 = w.new_zeros(rank, c, k, 1)
        de2 = w.new_zeros(n, rank, 1, k)
        de1[:r] = (u[:, :r] * root).T.reshape(r, c, k, 1)
        de2[:, :r] = (root[:, None] * vh[:r]).reshape(r, n, 1, k).permute(1, 0, 2, 3)
        with torch.no_grad():
            low.de1.weight.copy_(de1)
            low.de2.weight.copy_(de2)
        return low


def expand(model: nn.Module, size: int, speedup: float,
           layers: Sequence[str] = LOWRANK_LAYERS, from_weights: bool = True) -> nn.Module:
    """Replace each named K×K convolution of `model` (in place) by its GSLRE pair, with D
    from Eq. 5 at input side `size`, initialised from the convolution's kernel
    (`from_weights`) or left for the caller to initialise (a network trained from scratch)."""
    shapes = {s.name: s for s in profile(model, size)}
    for name in layers:
        conv = model.get_submodule(name)
        if not isinstance(conv, nn.Conv2d):
            raise ValueError(f"{name}: {type(conv).__name__} is not a convolution")
        kernel, padding = _square(conv)
        rank = gslre_rank(conv.in_channels, conv.out_channels, kernel,
                          shapes[name].in_shape[-1] + 2 * padding, shapes[name].out_shape[-1],
                          speedup)
        model.set_submodule(name, LowRankConv.from_conv(conv, rank) if from_weights else
                            LowRankConv(conv.in_channels, conv.out_channels, kernel, rank,
                                        padding))
    return model


def cnn9(num_classes: int, size: int = 96, gslre_speedup: float | None = None,
         bottleneck: int | None = None) -> nn.Sequential:
    """HCCR-CNN9Layer (Fig. 2), optionally with every convolution but conv1 expanded.

    Args:
        num_classes: classifier outputs.
        size: input side (96 in the paper; fc1's kernel covers whatever map remains).
        gslre_speedup: expand conv2 … conv5_2 for this speed-up (None: plain network).
        bottleneck: seed 003 FC bottleneck width between fc1 and the classifier.
    """
    layers: OrderedDict[str, nn.Module] = OrderedDict()
    cin, side = 1, size
    for name, cout, pool in CONVS:
        suffix = name.removeprefix("conv")
        layers[name] = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
        layers[f"bn{suffix}"] = nn.BatchNorm2d(cout)
        layers[f"prelu{suffix}"] = nn.PReLU(cout)
        if pool:
            layers[f"pool{suffix[0]}"] = nn.MaxPool2d(3, stride=2, padding=1)
            side = (side - 1) // 2 + 1
        cin = cout
    layers["fc1"] = nn.Conv2d(cin, FC1, side, bias=False)
    layers["bn_fc1"] = nn.BatchNorm2d(FC1)
    layers["prelu_fc1"] = nn.PReLU(FC1)
    layers["flatten"] = nn.Flatten()
    layers["dropout"] = nn.Dropout(0.5)
    layers["classifier"] = Classifier(FC1, num_classes, bottleneck)
    net = nn.Sequential(layers)
    if gslre_speedup:
        expand(net, size, gslre_speedup, from_weights=False)
    return he_normal_(net)


def gslre_train(model: nn.Module, train_set: ImageSet, test_set: ImageSet, size: int,
                speedup: float = 4.0, layers: Sequence[str] = LOWRANK_LAYERS,
                epochs_per_layer: int = 1, finetune_epochs: int = 1, lr: float = 0.01,
                batch_size: int = 64, seed: int = 0, device: str = "cpu") -> list[dict]:
    """GSLRE training (§6.2) of a trained CNN9Layer, in place.

    Layer by layer: expand the next layer, then train every layer expanded so far with the
    label loss of the whole network while all other parameters (conv1, the FCs, the other
    convolutions and their BN/PReLU) stay fixed; finally fine-tune everything.

    Returns:
        The training history (one record per epoch, with the `stage` it belongs to).
    """
    gen = torch.Generator().manual_seed(seed)
    steps = -(-len(train_set.labels) // batch_size)

    def run(epochs: int, stage: str) -> list[dict]:
        opt, sched = make_optimizer(model, "sgd", lr, 5e-4, epochs * steps)
        loop = Loop(opt, sched, gen, epochs, batch_size, device=device,
                    description=f"GSLRE {stage}")
        return [{"stage": stage, **h} for h in fit(model, loop, train_set, test_set)]

    history: list[dict] = []
    for i, name in enumerate(layers):
        expand(model, size, speedup, [name])
        trained = tuple(f"{n}." for n in layers[: i + 1])
        for pname, p in model.named_parameters():
            p.requires_grad_(pname.startswith(trained))
        history += run(epochs_per_layer, name)
    for p in model.parameters():
        p.requires_grad_(True)
    return history + run(finetune_epochs, "fine-tune")
