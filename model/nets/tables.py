"""Parameter and MAC tables of the seed networks beside the papers' numbers.

`python -m model.nets.tables [B]` prints them all (B: FC bottleneck width, default 50).
Each `*_table` function returns (headers, rows); `render` turns one into text.
"""

from __future__ import annotations

import sys

from model.nets import build
from model.nets.cnn9 import LOWRANK_LAYERS, TABLE3_LOWRANK_K, TABLE4, cnn9
from model.nets.fire import TABLE1, TABLE4_FLOPS, TABLE5_MB, exit_macs, fire_gwap
from model.nets.resnet import TABLE3_PARAMS_M, eca_resnet18, eca_resnet56
from model.nets.sqnxt import PAPER_ATTENTION, PAPER_CCBAM_INCREASE, param_table, sqnxt
from model.nets.stats import fc_bottleneck_rows, group, own_params, profile, render_table

CLASSES = 3755
MIB = 2**20
Table = tuple[tuple[str, ...], list[tuple]]


def render(title: str, table: Table) -> str:
    """A titled plain-text table."""
    return f"{title}\n{render_table(*table)}\n"


def sqnxt_table(scenario: int, size: int = 64, **options) -> Table:
    """Seed 000 Table 3 rows for Scenario 0, 1 or 2 (Scenario 2 beside Scenario 1's column)."""
    model = sqnxt(CLASSES, size, scenario, **options)
    return (("layers", "params", f"MACs @{size}", "paper", "diff %"),
            param_table(model, size, paper=min(scenario, 1)))


def cnn9_table(speedup: float = 4.0, size: int = 96) -> Table:
    """Seed 002 Table 3 (low-rank layer weights, thousands) and Table 4 (MB, FLOPs)."""
    stats = {s.name: s for s in profile(cnn9(CLASSES, size, gslre_speedup=speedup), size)}
    rows: list[tuple] = []
    for layer in LOWRANK_LAYERS:
        for part, theirs in zip(("de1", "de2"), TABLE3_LOWRANK_K[layer], strict=True):
            s = stats[f"{layer}.{part}"]
            rows.append((f"{layer}_{part}", s.out_shape[0] if part == "de1" else None,
                         s.params, 1000 * theirs, round(s.params / 1000) == theirs))
    for name, model in (("cnn9", cnn9(CLASSES, size)),
                        ("cnn9-gslre-4x", cnn9(CLASSES, size, gslre_speedup=speedup))):
        mb, flops = TABLE4[name]
        ours_mb = own_params(model) * 4 / MIB
        ours_flops = sum(s.macs for s in profile(model, size)) / 1e8
        rows.append((f"{name} MB", None, round(ours_mb, 2), mb, abs(ours_mb - mb) < 0.05))
        rows.append((f"{name} FLOPs ×1e8", None, round(ours_flops, 3), flops,
                     abs(ours_flops - flops) < 0.005))
    return ("layer", "D", "ours", "paper", "match"), rows


def table1_match(params: int, macs: int, k_params: float, m_ops: float) -> bool:
    """Whether counts agree with a Table 1 entry to its last printed digit. The table rounds
    some entries and truncates others (fire2 11,840 → 12K, fire8 190,720 → 190K; fire7
    7.08M → 7.0M), so one unit of the last digit is allowed."""
    if k_params < 1:
        return params == round(k_params * 1000) and abs(macs / 1e6 - m_ops) < 0.1
    return abs(params / 1000 - k_params) < 1 and abs(macs / 1e6 - m_ops) < 0.1


def fire_table(size: int = 64) -> Table:
    """Seed 004 Table 1 (params K, ops M), Table 4 (FLOPs per exit) and Table 5 (MB)."""
    cascade = fire_gwap(CLASSES, size, cascade=True)
    groups = group(profile(cascade, size))
    rows: list[tuple] = []
    for name, (k_params, m_ops) in TABLE1.items():
        params, macs = groups[name]
        rows.append((name, params, macs, f"{k_params}K / {m_ops}M",
                     table1_match(params, macs, k_params, m_ops)))
    for name, (alone, _) in exit_macs(cascade, size).items():
        rows.append((f"{name} FLOPs", None, alone, f"{TABLE4_FLOPS[name]}e8",
                     round(alone / 1e8, 2) == TABLE4_FLOPS[name]))
    for name, model in (("final", fire_gwap(CLASSES, size)), ("cascade", cascade)):
        mb = own_params(model) * 4 / MIB
        rows.append((f"{name} MB", own_params(model), None, f"{TABLE5_MB[name]} MB",
                     round(mb, 1) == TABLE5_MB[name]))
    return ("layer", "params", "MACs", "paper", "match"), rows


def resnet_table() -> Table:
    """Seed 001 Table 3 counts (M), with the 3-channel input and heads they correspond to."""
    cases = (("resnet18", eca_resnet18(16, in_channels=3, eca=False), True),
             ("eca-resnet18", eca_resnet18(1000, in_channels=3), False),
             ("eca-resnet56", eca_resnet56(1000, in_channels=3), False))
    rows = []
    for name, model, with_bn_stats in cases:
        n = (own_params(model) if with_bn_stats
             else sum(p.numel() for p in model.parameters()))
        rows.append((name, n, TABLE3_PARAMS_M[name], round(n / 1e6, 2) == TABLE3_PARAMS_M[name]))
    rows.append(("at 3755 classes, 1 channel: eca-resnet18",
                 own_params(eca_resnet18(CLASSES)), None, None))
    rows.append(("at 3755 classes, 1 channel: eca-resnet56",
                 own_params(eca_resnet56(CLASSES)), None, None))
    return ("network", "params", "paper (M)", "match"), rows


def bottleneck_table(bottleneck: int = 50) -> Table:
    """Seed 003 §A: every classifier before and after an M → B → classes bottleneck."""
    rows = []
    for arch in ("sqnxt", "sqnxt-ccbam", "cnn9", "fire-gwap-cascade", "eca-resnet18"):
        size = 96 if arch.startswith("cnn9") else 64
        rows += [(f"{arch} {name}", *r) for name, *r in
                 fc_bottleneck_rows(build(arch, CLASSES, size), bottleneck)]
    return ("classifier", "M", "O", "params", f"params B={bottleneck}", "MACs",
            f"MACs B={bottleneck}"), rows


def main(argv: list[str]) -> None:
    """Print every table."""
    bottleneck = int(argv[0]) if argv else 50
    for scenario, title in ((0, "Scenario 0 (original block) vs Table 3"),
                            (1, "Scenario 1 (reconstructed block) vs Table 3"),
                            (2, "Scenario 2 (Scenario 1 + C-CBAM) vs Table 3")):
        print(render(f"seed 000 SqNxt {title}", sqnxt_table(scenario)))
    print(render("seed 000 Scenario 0 + C-CBAM, Table 2's row 2 (last column: C-CBAM's "
                 f"increase in %, paper +{PAPER_CCBAM_INCREASE})",
                 sqnxt_table(0, attention=PAPER_ATTENTION)))
    print(render("seed 002 CNN9Layer + GSLRE 4x vs Tables 3-4", cnn9_table()))
    print(render("seed 004 fire + GWAP vs Tables 1, 4, 5", fire_table()))
    print(render("seed 001 ECA-ResNets vs Table 3", resnet_table()))
    print(render("seed 003 FC bottleneck (Eq. 3)", bottleneck_table(bottleneck)))


if __name__ == "__main__":
    main(sys.argv[1:])
