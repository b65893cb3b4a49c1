"""Fire-module network with global weighted average pooling and an early-exit cascade
(seed 004).

Table 1: 64×64 input, conv1 3×3/1 64, 2×2/2 max pools after conv1, fire3 and fire5, fire2 …
fire9 (squeeze 1×1 s, expand 1×1 e and 3×3 e, concatenated), BN + ReLU after every
convolution. The head is global *weighted* average pooling (§3.2, Eq. 3: one trainable
weight per channel and position), dropout 0.5 and the FC; §4.3's alternatives (Table 2) are
`head="gap"` (global average pooling) and `head="fc"` (flatten, a 1024-neuron hidden layer).
The cascade (§3.3) adds Mid-A after fire4 (a fire module like fire5, GWAP, dropout 0.2, FC)
and Mid-B after fire6 (a fire module like fire7, …); its forward returns the logits of
Mid-A, Mid-B and the final output. §4.4 trains it in two stages (`TRAINING["staged"]`, the
default): the final output alone first, then the exits with the base network frozen
(`FireNet.freeze_base`); `TRAINING["joint"]` is the multi-task variant Table 3 rejects. At
inference (`cascade_predict`) an image stops at Mid-A when its top softmax probability
reaches the threshold (0.98); otherwise the network runs to the end and, as in §4.5, the
Mid-B and final probabilities are averaged (`mid_b="exit"` makes Mid-B a second early exit).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Sequence

import torch
from torch import nn

from model.data.dataset import ImageSet
from model.loop import to_input
from model.nets.blocks import Classifier, Gwap, conv_bn, he_normal_
from model.nets.stats import group, profile

# Seed 004 Table 1: (name, input channels, squeeze s1x1, expand e1x1 = e3x3).
FIRES = (("fire2", 64, 16, 64), ("fire3", 128, 16, 64), ("fire4", 128, 32, 128),
         ("fire5", 256, 32, 128), ("fire6", 256, 48, 192), ("fire7", 384, 48, 192),
         ("fire8", 384, 64, 256), ("fire9", 512, 64, 256))
# Table 1 params (thousands) and ops (millions) per layer.
TABLE1 = {"conv1": (0.832, 2.4), "fire2": (12, 11.5), "fire3": (13, 12.6), "fire4": (46, 11.5),
          "fire5": (50, 12.6), "fire6": (106, 6.7), "fire7": (112, 7.0), "fire8": (190, 12.1),
          "fire9": (199, 12.6)}
# Table 4 FLOPs (×10^8 multiply-adds) of each exit on its own; Table 5 storage (MB).
TABLE4_FLOPS = {"mid_a": 0.52, "mid_b": 0.66, "head": 0.91}
TABLE5_MB = {"final": 10.3, "cascade": 20.4}
EXITS = ("mid_a", "mid_b", "head")
THRESHOLD = 0.98
# §4.3 Table 2: the final head's top-1 (%) on ICDAR-2013 and its additional parameters.
HEADS = ("gwap", "gap", "fc")
TABLE2 = {"gap": (96.47, 0), "fc": (96.95, 3.33e6), "gwap": (96.91, 0.03e6)}
FC_HIDDEN = 1024  # HCCR-FC's hidden layer
# §4.4: training stages, each (loss weight of Mid-A, Mid-B, final; base network frozen).
TRAINING: dict[str, tuple[tuple[tuple[float, float, float], bool], ...]] = {
    "staged": (((0.0, 0.0, 1.0), False), ((1.0, 1.0, 0.0), True)),
    "joint": (((1.0, 1.0, 1.0), False),),
}
# Table 3: top-1 (%) of Mid-A, Mid-B and the final output for each strategy.
TABLE3 = {"joint": (95.13, 96.25, 96.31), "staged": (94.36, 95.91, 96.91)}


class Fire(nn.Module):
    """Squeeze 1×1 then expand 1×1 and 3×3 in parallel, concatenated."""

    def __init__(self, cin: int, squeeze: int, expand: int) -> None:
        super().__init__()
        self.squeeze = conv_bn(cin, squeeze, 1)
        self.expand1x1 = conv_bn(squeeze, expand, 1)
        self.expand3x3 = conv_bn(squeeze, expand, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.squeeze(x)
        return torch.cat([self.expand1x1(s), self.expand3x3(s)], dim=1)


def exit_head(channels: int, side: int, num_classes: int, dropout: float,
              fire: tuple[int, int] | None, bottleneck: int | None,
              head: str = "gwap") -> nn.Sequential:
    """[fire (squeeze, expand),] pooling (`head`: GWAP, GAP, or flatten and a hidden FC layer
    with ReLU), dropout and classifier over a `channels`×`side`×`side` map."""
    layers: OrderedDict[str, nn.Module] = OrderedDict()
    if fire:
        layers["fire"] = Fire(channels, *fire)
        channels = 2 * fire[1]
    if head == "gwap":
        layers["gwap"] = Gwap(channels, side, side)
    elif head == "gap":
        layers["gap"] = nn.AdaptiveAvgPool2d(1)
        layers["flatten"] = nn.Flatten()
    elif head == "fc":
        layers["flatten"] = nn.Flatten()
        layers["hidden"] = nn.Linear(channels * side * side, FC_HIDDEN)
        layers["act"] = nn.ReLU()
        channels = FC_HIDDEN
    else:
        raise ValueError(f"unknown head {head!r}; known: {', '.join(HEADS)}")
    layers["dropout"] = nn.Dropout(dropout)
    layers["classifier"] = Classifier(channels, num_classes, bottleneck)
    return nn.Sequential(layers)


class FireNet(nn.Module):
    """Seed 004's network; `cascade` adds the Mid-A and Mid-B exits.

    Args:
        num_classes: classifier outputs.
        size: input side (64 in the paper), divisible by 8.
        cascade: add Mid-A/Mid-B; forward then returns (mid_a, mid_b, final) logits.
        bottleneck: seed 003 FC bottleneck width in every classifier.
        head: the final output's pooling, one of `HEADS` (the exits keep GWAP).
    """

    def __init__(self, num_classes: int, size: int = 64, cascade: bool = False,
                 bottleneck: int | None = None, head: str = "gwap") -> None:
        super().__init__()
        if size % 8:
            raise ValueError(f"input size {size} must be divisible by 8")
        self.cascade = cascade
        self.frozen = False
        self.conv1 = conv_bn(1, 64, 3, padding=1)
        self.pool1 = nn.MaxPool2d(2)
        for name, cin, squeeze, expand in FIRES:
            self.add_module(name, Fire(cin, squeeze, expand))
            if name == "fire3":
                self.pool2 = nn.MaxPool2d(2)
            elif name == "fire4" and cascade:
                self.mid_a = exit_head(256, size // 4, num_classes, 0.2, (32, 128),
                                       bottleneck)
            elif name == "fire5":
                self.pool3 = nn.MaxPool2d(2)
            elif name == "fire6" and cascade:
                self.mid_b = exit_head(384, size // 8, num_classes, 0.2, (48, 192),
                                       bottleneck)
        self.head = exit_head(512, size // 8, num_classes, 0.5, None, bottleneck, head)
        he_normal_(self)

    def exits(self) -> list[nn.Module]:
        """The early-exit heads (none without the cascade)."""
        return [self.mid_a, self.mid_b] if self.cascade else []

    def freeze_base(self, frozen: bool = True) -> None:
        """Fix (or release) everything but the exit heads: no gradients, and BN statistics
        and dropout kept in eval mode while the exits train (§4.4's second stage)."""
        self.frozen = frozen
        heads = {id(p) for m in self.exits() for p in m.parameters()}
        for p in self.parameters():
            if id(p) not in heads:
                p.requires_grad_(not frozen)
        self.train(self.training)

    def train(self, mode: bool = True) -> FireNet:
        super().train(mode)
        if self.frozen and mode:
            for name, m in self.named_children():
                if name not in ("mid_a", "mid_b"):
                    m.eval()
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, ...]:
        x = self.fire4(self.pool2(self.fire3(self.fire2(self.pool1(self.conv1(x))))))
        a = self.mid_a(x) if self.cascade else None
        x = self.fire6(self.pool3(self.fire5(x)))
        b = self.mid_b(x) if self.cascade else None
        final = self.head(self.fire9(self.fire8(self.fire7(x))))
        return (a, b, final) if self.cascade else final


def fire_gwap(num_classes: int, size: int = 64, cascade: bool = False,
              bottleneck: int | None = None, head: str = "gwap") -> FireNet:
    """Seed 004's network (HCCR-WAP; `head` "gap"/"fc": HCCR-GAP/HCCR-FC), with the
    early-exit cascade if `cascade`."""
    return FireNet(num_classes, size, cascade, bottleneck, head)


def cascade_predict(outputs: Sequence[torch.Tensor], threshold: float = THRESHOLD,
                    mid_b: str = "average") -> tuple[torch.Tensor, torch.Tensor]:
    """Apply the early-exit rule to the (Mid-A, Mid-B, final) logits of a batch.

    Args:
        outputs: logits [N, classes] of Mid-A, Mid-B and the final output.
        threshold: an image stops at an exit whose top softmax probability is ≥ this.
        mid_b: "average" (§4.5: images passing Mid-A get the mean of the Mid-B and final
            probabilities) or "exit" (Mid-B is a second early exit).

    Returns:
        Predicted class [N] and exit index [N] (0 Mid-A, 1 Mid-B, 2 final).
    """
    if mid_b not in ("average", "exit"):
        raise ValueError(f"unknown Mid-B policy {mid_b!r} (average or exit)")
    prob_a, prob_b, prob_f = (o.softmax(dim=1) for o in outputs)
    conf_a, pred_a = prob_a.max(dim=1)
    if mid_b == "average":
        late = (prob_b + prob_f).argmax(dim=1)
        late_exit = torch.full_like(late, 2)
    else:
        conf_b, pred_b = prob_b.max(dim=1)
        stop_b = conf_b >= threshold
        late = torch.where(stop_b, pred_b, prob_f.argmax(dim=1))
        late_exit = torch.where(stop_b, 1, 2)
    stop_a = conf_a >= threshold
    return torch.where(stop_a, pred_a, late), torch.where(stop_a, 0, late_exit)


def exit_macs(model: FireNet, size: int) -> dict[str, tuple[int, int]]:
    """MACs per exit: (that exit's path alone, as in Table 4; everything run up to it in the
    cascade, i.e. including the earlier exits' heads)."""
    groups = group(profile(model, size))
    result, trunk, run = {}, 0, 0
    for name, (_, macs) in groups.items():
        run += macs
        if name in EXITS:
            result[name] = (trunk + macs, run)
        else:
            trunk += macs
    return result


@torch.no_grad()
def cascade_evaluate(model: FireNet, data: ImageSet, size: int, threshold: float = THRESHOLD,
                     mid_b: str = "average", batch_size: int = 256) -> dict:
    """Run the cascade on `data`: accuracy, exit distribution and average MACs per character.

    Returns:
        `top1` (cascade), `top1_to_end` (the same policy with no early exit: every image
        runs to the end), `top1_exits` (each exit alone), `exit_fraction` (share of images
        stopping at each exit), `macs_average`, `macs_full` (always running to the end with
        every exit), `macs_final_only` (the network without Mid-A/Mid-B) and `macs_saving`
        (1 − average/full).
    """
    if not model.cascade:
        raise ValueError("cascade_evaluate needs a FireNet built with cascade=True")
    device = next(model.parameters()).device
    model.eval()
    preds, exits, alone, to_end = [], [], [], []
    for start in range(0, len(data.labels), batch_size):
        outputs = model(to_input(data.images[start: start + batch_size], device))
        pred, ex = cascade_predict(outputs, threshold, mid_b)
        preds.append(pred.cpu())
        to_end.append(cascade_predict(outputs, math.inf, mid_b)[0].cpu())
        exits.append(ex.cpu())
        alone.append(torch.stack([o.argmax(dim=1).cpu() for o in outputs]))
    labels = torch.from_numpy(data.labels)
    pred, ex, alone_pred = torch.cat(preds), torch.cat(exits), torch.cat(alone, dim=1)
    macs = exit_macs(model, size)
    cost = [run for _, run in macs.values()]
    fraction = [float((ex == i).float().mean()) for i in range(len(EXITS))]
    average = sum(f * c for f, c in zip(fraction, cost, strict=True))
    return {"images": len(labels), "threshold": threshold, "mid_b": mid_b,
            "top1": float((pred == labels).float().mean()),
            "top1_to_end": float((torch.cat(to_end) == labels).float().mean()),
            "top1_exits": dict(zip(EXITS, (alone_pred == labels).float().mean(1).tolist(),
                                   strict=True)),
            "exit_fraction": dict(zip(EXITS, fraction, strict=True)),
            "macs_average": average, "macs_full": cost[-1], "macs_final_only": macs["head"][0],
            "macs_saving": 1.0 - average / cost[-1]}
