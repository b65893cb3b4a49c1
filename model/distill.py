"""Knowledge distillation, teacher → student with any two architectures on the same input.

L = α·L_soft + β·L_hard + γ·L_SP:
- L_soft (Hinton; seed 001 Eq. 9-10): T²·KL(softmax(z_t/T) ‖ softmax(z_s/T)), T = 5 by
  default (the T² keeps its gradient scale independent of T, as in Hinton et al.);
- L_hard: cross-entropy with the labels;
- L_SP (seed 003 Eq. 13-15): for each chosen layer pair (i, j), attention maps A = Σ_c O_c,
  the solving-procedure matrix S = A_j − A_i, Frobenius-normalised per image; the loss is the
  mean over pairs of ‖S_student − S_teacher‖²_F, averaged over the batch. Maps of different
  sizes are average-pooled to the smaller one.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from base.errors import HccrError
from base.progress import Progress, silent
from model.data.dataset import ImageSet
from model.loop import final_logits
from model.prune.tune import Checkpoint, TuneConfig, tune

Pair = tuple[str, str]  # (earlier layer, later layer), module names


@dataclass(frozen=True)
class DistillConfig:
    """Loss weights, temperature and SP layer pairs (student pairs[k] ↔ teacher pairs[k])."""

    temperature: float = 5.0
    alpha: float = 0.7
    beta: float = 0.3
    sp_weight: float = 0.0
    student_pairs: tuple[Pair, ...] = ()
    teacher_pairs: tuple[Pair, ...] = ()

    def __post_init__(self) -> None:
        if len(self.student_pairs) != len(self.teacher_pairs):
            raise HccrError(f"SP loss: {len(self.student_pairs)} student layer pairs but "
                            f"{len(self.teacher_pairs)} teacher pairs")
        if self.temperature <= 0:
            raise HccrError(f"temperature must be positive, got {self.temperature}")


def soft_loss(student: torch.Tensor, teacher: torch.Tensor, temperature: float) -> torch.Tensor:
    """T²·KL(p_teacher ‖ p_student) at temperature T, averaged over the batch."""
    t = temperature
    return t * t * F.kl_div(F.log_softmax(student / t, 1), F.log_softmax(teacher / t, 1),
                            log_target=True, reduction="batchmean")


def attention_map(output: torch.Tensor) -> torch.Tensor:
    """A = Σ_c O_c: [N, C, H, W] → [N, 1, H, W]."""
    return output.sum(1, keepdim=True)


def _to_size(a: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    return a if tuple(a.shape[-2:]) == size else F.adaptive_avg_pool2d(a, size)


def _smaller(*maps: torch.Tensor) -> tuple[int, int]:
    return min((tuple(m.shape[-2:]) for m in maps), key=lambda s: s[0] * s[1])


def procedure(a_i: torch.Tensor, a_j: torch.Tensor) -> torch.Tensor:
    """S = A_j − A_i, the larger map pooled to the smaller: [N, 1, h, w]."""
    size = _smaller(a_i, a_j)
    return _to_size(a_j, size) - _to_size(a_i, size)


def sp_loss(student: list[tuple[torch.Tensor, torch.Tensor]],
            teacher: list[tuple[torch.Tensor, torch.Tensor]]) -> torch.Tensor:
    """Seed 003's SP loss over the pairs' layer outputs ((O_i, O_j) per pair)."""
    terms = []
    for (si, sj), (ti, tj) in zip(student, teacher, strict=True):
        s = procedure(attention_map(si), attention_map(sj))
        t = procedure(attention_map(ti), attention_map(tj))
        size = _smaller(s, t)
        s, t = _to_size(s, size).flatten(1), _to_size(t, size).flatten(1)
        s = s / s.norm(dim=1, keepdim=True).clamp_min(1e-12)
        t = t / t.norm(dim=1, keepdim=True).clamp_min(1e-12)
        terms.append((s - t).pow(2).sum(1).mean())
    return torch.stack(terms).mean()


class Taps:
    """Forward hooks keeping the outputs of named modules of a network."""

    def __init__(self, model: nn.Module, names: list[str], what: str) -> None:
        modules = dict(model.named_modules())
        missing = [n for n in names if n not in modules]
        if missing:
            raise HccrError(f"{what}: no layer named {', '.join(missing)}")
        self.outputs: dict[str, torch.Tensor] = {}
        self.handles = [modules[n].register_forward_hook(self._keeper(n)) for n in names]

    def _keeper(self, name: str):
        def keep(module: nn.Module, inputs: object, output: torch.Tensor) -> None:
            self.outputs[name] = output
        return keep

    def pairs(self, pairs: tuple[Pair, ...]) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """The kept outputs of each pair."""
        return [(self.outputs[i], self.outputs[j]) for i, j in pairs]

    def remove(self) -> None:
        """Detach the hooks."""
        for h in self.handles:
            h.remove()


def _names(pairs: tuple[Pair, ...]) -> list[str]:
    return list(dict.fromkeys(n for pair in pairs for n in pair))


def distill(student: nn.Module, teacher: nn.Module, train_set: ImageSet, config: DistillConfig,
            tune_config: TuneConfig, progress: Progress = silent,
            checkpoint: Checkpoint | None = None) -> float:
    """Train `student` against the frozen `teacher` (kept in `checkpoint` after every epoch);
    returns the last epoch's mean loss."""
    teacher.eval().requires_grad_(False)
    s_taps = Taps(student, _names(config.student_pairs), "student")
    t_taps = Taps(teacher, _names(config.teacher_pairs), "teacher")

    def criterion(logits: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            target = final_logits(teacher(x))
        loss = (config.alpha * soft_loss(logits, target, config.temperature)
                + config.beta * F.cross_entropy(logits, y))
        if config.sp_weight and config.student_pairs:
            loss = loss + config.sp_weight * sp_loss(s_taps.pairs(config.student_pairs),
                                                     t_taps.pairs(config.teacher_pairs))
        return loss

    try:
        return tune(student, train_set, tune_config, criterion, description="distill",
                    progress=progress, checkpoint=checkpoint)
    finally:
        s_taps.remove()
        t_taps.remove()
