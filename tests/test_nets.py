"""Seed networks: parameter counts and MACs against the papers' tables, hardware-op coverage,
fx tracing, GSLRE, the early-exit cascade and the FC bottleneck.

Expected numbers are the papers' (or derived by hand from their layer tables), never read
back from the code under test.
"""

from __future__ import annotations

import operator
from collections.abc import Callable

import numpy as np
import pytest
import torch
import torch.fx
from torch import nn

from model.data.dataset import ImageSet
from model.loop import exit_loss
from model.nets import ARCHITECTURES, build
from model.nets.blocks import ChannelAttention, Classifier, eca_kernel_size
from model.nets.cnn9 import LowRankConv, cnn9, gslre_rank, gslre_train
from model.nets.fire import cascade_evaluate, cascade_predict, exit_macs, fire_gwap
from model.nets.resnet import eca_resnet18, eca_resnet56
from model.nets.sqnxt import SqueezeNext, param_table, sqnxt, stage
from model.nets.stats import fc_cost, group, own_params, profile
from model.nets.tables import bottleneck_table, cnn9_table, fire_table, render, resnet_table

CLASSES = 3755
MIB = 2**20
SEED_ARCHS = [a for a in ARCHITECTURES if a != "baseline"]


def size_of(arch: str) -> int:
    return 96 if arch.startswith("cnn9") else 64


@pytest.fixture(scope="module")
def nets() -> Callable[[str], nn.Module]:
    """A seed architecture at 3755 classes, built on first use and shared by the module."""
    cache: dict[str, nn.Module] = {}

    def get(arch: str) -> nn.Module:
        if arch not in cache:
            torch.manual_seed(0)
            cache[arch] = build(arch, CLASSES, size_of(arch))
        return cache[arch]

    return get


# ---------------------------------------------------------------- SqNxt (seed 000)

# Table 3: Conv_First, Block 1-2, DownSample_1, Block 3-6, DownSample_2, Block 7-20,
# DownSample_3, Block 21, Conv_Last, FC, Total.
TABLE3_S0 = [832, 14_752, 4_224, 40_960, 8_320, 534_272, 16_512, 491_008, 590_336, 484_395,
             2_185_611]
TABLE3_S1 = [832, 16_032, 4_224, 80_672, 8_320, 1_168_960, 16_512, 195_968, 295_424, 484_395,
             2_271_339]


@pytest.mark.parametrize(("scenario", "paper"), [(0, TABLE3_S0), (1, TABLE3_S1)])
def test_sqnxt_rows_match_table3_exactly(scenario, paper):
    rows = param_table(sqnxt(CLASSES, 64, scenario), 64, paper=scenario)
    assert [r[1] for r in rows] == paper
    assert [r[3] for r in rows] == paper  # the printed paper column is Table 3 too


def test_sqnxt_total_equals_all_parameters(nets):
    assert own_params(nets("sqnxt")) == 2_271_339
    assert own_params(nets("sqnxt0")) == 2_185_611


def test_sqnxt_reconstructed_block1_widths():
    """Issue 7: Block 1 is 64 → 32 with b1 32, b2 16, c 32 and a 1×1 fuse of 128 → 32."""
    block = sqnxt(CLASSES, 64, 1).stage1.block1
    assert block.bottleneck1.conv.out_channels == 32
    assert block.bottleneck2.conv.out_channels == 16
    assert block.branch_kx1.conv.kernel_size == (3, 1)
    assert block.branch_1xk.conv.kernel_size == (1, 3)
    assert (block.fuse.conv.in_channels, block.fuse.conv.out_channels) == (128, 32)


def test_sqnxt_pruned_widths_reproduce_table5_rows():
    """Table 5 (Scenario 3): Block 21 pruned to b1 59, b2 29, c 240, C_out 240 is 171,471;
    Conv_Last 240 → 128 is 276,992; DownSample rows 2,176 / 4,096 / 8,064 are 32 filters on
    16 / 31 / 62 pruned stage outputs."""
    widths = (stage(64, 16, 2, (32, 16, 32), (16, 8, 32)),
              stage(32, 31, 4, (16, 8, 64), (32, 16, 64)),
              stage(32, 62, 14, (32, 16, 128), (64, 32, 128)),
              stage(32, 240, 1, (59, 29, 240)))
    rows = {r[0]: r[1] for r in param_table(SqueezeNext(CLASSES, widths=widths), 64)}
    assert rows["Block 21"] == 171_471
    assert rows["Conv_Last"] == 276_992
    assert [rows[f"DownSample_{i}"] for i in (1, 2, 3)] == [2_176, 4_096, 8_064]
    assert rows["FC"] == 484_395


def test_ccbam_size_increase_matches_table2():
    """Table 2: Scenario 0 8.25 MB → Scenario 2 8.35 MB, i.e. +1.21 % (±0.12 from the
    rounding of both sizes to 0.01 MB)."""
    base = own_params(sqnxt(CLASSES, 64, 0))
    with_ccbam = own_params(sqnxt(CLASSES, 64, 0, attention=("cam_sam", "parallel", "sam_cam")))
    increase = with_ccbam / base - 1
    assert 8.345 / 8.255 - 1 < increase < 8.355 / 8.245 - 1


def test_ccbam_placement_and_kernels(nets):
    """Three side paths on 64/32/32 channels (ECA k = 3, Eq. 1), orders of Table 4 row 5,
    each projecting to the next stage's output channels with stride 2."""
    model = nets("sqnxt-ccbam")
    sides = [model.get_submodule(f"ccbam{i}") for i in (1, 2, 3)]
    assert [s.attention.order for s in sides] == ["cam_sam", "parallel", "sam_cam"]
    assert [s.attention.cam.conv.kernel_size for s in sides] == [(1, 3)] * 3
    assert [s.projection.conv.in_channels for s in sides] == [64, 32, 32]
    assert [s.projection.conv.out_channels for s in sides] == [64, 128, 256]
    assert all(s.projection.conv.stride == (2, 2) for s in sides)
    assert [s.attention.sam.conv.kernel_size for s in sides] == [(7, 7)] * 3


def test_ccbam_switches_rerun_table4():
    """Any order per position, or none, can be chosen (Table 4's ablation)."""
    model = sqnxt(10, 32, 2, attention=("sam_cam", None, "parallel"))
    assert model.ccbam1.attention.order == "sam_cam" and model.ccbam2 is None
    assert model(torch.randn(2, 1, 32, 32)).shape == (2, 10)
    with pytest.raises(ValueError, match="unknown attention order"):
        sqnxt(10, 32, 2, attention=("cam", None, None))


def test_sqnxt_pool_first_and_size_are_configurable():
    """Without the pool every layer after Conv_First (64·9·64·64 MACs) but the FC (128·10)
    runs on 4× the positions."""
    with_pool = sum(s.macs for s in profile(sqnxt(10, 64, 1), 64))
    without = sum(s.macs for s in profile(sqnxt(10, 64, 1, pool_first=False), 64))
    fixed = 64 * 9 * 64 * 64 + 128 * 10
    assert without == 4 * (with_pool - fixed) + fixed
    with pytest.raises(ValueError, match="divisible by 16"):
        sqnxt(10, 40, 1)


def test_eca_kernel_size_eq1():
    # (log2 C + 1) / 2 → nearest odd: 32 → 3, 64 → 3.5 → 3, 128 → 4 → 5, 512 → 5, 2048 → 7.
    assert [eca_kernel_size(c) for c in (32, 64, 128, 256, 512, 2048)] == [3, 3, 5, 5, 5, 7]


def test_channel_attention_is_a_conv1d_over_channels():
    """The reshape + (1, k) Conv2d equals a zero-padded 1-D convolution along channels."""
    cam = ChannelAttention(8, kernel=3)
    x = torch.randn(2, 8, 5, 5)
    w = cam.conv.weight.detach().reshape(1, 1, 3)
    gap = x.mean((2, 3)).unsqueeze(1)  # [N, 1, C]
    expected = x * torch.sigmoid(nn.functional.conv1d(gap, w, padding=1)).reshape(2, 8, 1, 1)
    torch.testing.assert_close(cam(x), expected)


# ---------------------------------------------------------------- CNN9Layer + GSLRE (seed 002)

def test_cnn9_shapes_params_and_flops(nets):
    """96C3-MP3-128C3-MP3-160C3-MP3-256C3-256C3-MP3-384C3-384C3-MP3-1024FC-3755: the last
    pool leaves 3×3×384, so fc1 has 3,456·1,024 weights; Table 4 row 9: 41.5 MB (BN and PReLU
    included), 5.94·10^8 FLOPs."""
    model = nets("cnn9")
    stats = {s.name: s for s in profile(model, 96)}
    assert stats["fc1"].in_shape == (384, 3, 3)
    conv_weights = 9 * (96 + 96 * 128 + 128 * 160 + 160 * 256 + 256 * 256 + 256 * 384 + 384 * 384)
    assert sum(s.params for s in stats.values() if s.kind == "Conv2d") - 3_456 * 1024 \
        == conv_weights
    assert stats["classifier.fc"].params == 1024 * CLASSES + CLASSES
    assert own_params(model) * 4 / MIB == pytest.approx(41.5, abs=0.05)
    assert sum(s.macs for s in stats.values()) / 1e8 == pytest.approx(5.94, abs=0.005)
    assert isinstance(model.prelu1, nn.PReLU) and model.prelu1.num_parameters == 96
    assert model.dropout.p == 0.5


# Table 3: weights (thousands) of conv<i>_de1 / _de2 after the 4× expansion.
TABLE3_LOWRANK = {"conv2": (96, 128, 48, 12, 15), "conv3": (128, 160, 24, 20, 24),
                  "conv4_1": (160, 256, 12, 33, 53), "conv4_2": (256, 256, 12, 68, 68),
                  "conv5_1": (256, 384, 6, 78, 118), "conv5_2": (384, 384, 6, 142, 142)}


@pytest.mark.parametrize("layer", list(TABLE3_LOWRANK))
def test_gslre_rank_reproduces_table3(layer):
    c, n, w, de1_k, de2_k = TABLE3_LOWRANK[layer]
    d = gslre_rank(c, n, 3, w + 2, w, 4.0)
    assert round(c * d * 3 / 1000) == de1_k  # de1: C·D·K weights
    assert round(d * n * 3 / 1000) == de2_k  # de2: D·N·K weights


def test_gslre_rank_formula():
    # Eq. 5 by hand: C = N = 256, K = 3, W = 14, W' = 12, x = 4 → 2,359,296 / 26,624 = 88.6.
    assert gslre_rank(256, 256, 3, 14, 12, 4.0) == 89
    assert gslre_rank(8, 8, 3, 4, 2, 1000.0) == 1


def test_cnn9_gslre_matches_table4(nets):
    """Table 4 row 10: 31.2 MB, 1.52·10^8 FLOPs; conv1 is not expanded."""
    model = nets("cnn9-gslre")
    assert own_params(model) * 4 / MIB == pytest.approx(31.2, abs=0.05)
    assert sum(s.macs for s in profile(model, 96)) / 1e8 == pytest.approx(1.52, abs=0.005)
    assert isinstance(model.conv1, nn.Conv2d)
    assert isinstance(model.conv2, LowRankConv)
    assert (model.conv2.de1.kernel_size, model.conv2.de2.kernel_size) == ((3, 1), (1, 3))


@pytest.mark.parametrize(("h", "w"), [(10, 12), (7, 5)])
def test_low_rank_conv_reproduces_the_layer(h, w):
    """Full rank (D = min(C·K, N·K)) reproduces the K×K output exactly (up to float error);
    any rank keeps the output shape; de1 has C·D·K and de2 D·N·K weights."""
    torch.manual_seed(1)
    conv = nn.Conv2d(6, 10, 3, padding=1, bias=False)
    x = torch.randn(2, 6, h, w)
    full = LowRankConv.from_conv(conv, 18)
    torch.testing.assert_close(full(x), conv(x), atol=1e-5, rtol=1e-5)
    low = LowRankConv.from_conv(conv, 4)
    assert low(x).shape == conv(x).shape
    assert (low.de1.weight.numel(), low.de2.weight.numel()) == (6 * 4 * 3, 4 * 10 * 3)
    # Truncation keeps the best rank-4 approximation: better than a rank-1 one.
    err = [(LowRankConv.from_conv(conv, r)(x) - conv(x)).norm() for r in (1, 4)]
    assert err[1] < err[0]


def test_gslre_train_layer_by_layer():
    """Each stage trains only the layers expanded so far; conv1 and the FCs stay fixed."""
    torch.manual_seed(0)
    model = cnn9(5, 32)
    rng = np.random.default_rng(0)
    data = ImageSet(rng.integers(0, 256, (16, 32, 32), dtype=np.uint8),
                    rng.integers(0, 5, 16))
    conv1, fc = model.conv1.weight.clone(), model.classifier.fc.weight.clone()
    history = gslre_train(model, data, data, 32, layers=("conv2", "conv3"),
                          epochs_per_layer=1, finetune_epochs=0, batch_size=8)
    assert [h["stage"] for h in history] == ["conv2", "conv3"]
    assert isinstance(model.conv2, LowRankConv) and isinstance(model.conv3, LowRankConv)
    assert isinstance(model.conv4_1, nn.Conv2d)
    assert torch.equal(model.conv1.weight, conv1)
    assert torch.equal(model.classifier.fc.weight, fc)
    assert all(p.requires_grad for p in model.parameters())


# ---------------------------------------------------------------- Fire + GWAP (seed 004)

# Table 1: params (thousands) and ops (millions); entries are rounded or truncated, so one
# unit of the last printed digit is allowed.
TABLE1 = {"fire2": (12, 11.5), "fire3": (13, 12.6), "fire4": (46, 11.5), "fire5": (50, 12.6),
          "fire6": (106, 6.7), "fire7": (112, 7.0), "fire8": (190, 12.1), "fire9": (199, 12.6)}


def test_fire_layers_match_table1(nets):
    groups = group(profile(nets("fire-gwap"), 64))
    assert groups["conv1"][0] == 832
    assert groups["conv1"][1] / 1e6 == pytest.approx(2.4, abs=0.05)
    for name, (k_params, m_ops) in TABLE1.items():
        params, macs = groups[name]
        assert abs(params / 1000 - k_params) < 1, name
        assert abs(macs / 1e6 - m_ops) < 0.1, name


def test_fire_gwap_and_cascade_sizes(nets):
    """GWAP adds 0.03 M weights (Table 2: 512 × 8 × 8); Table 5: 10.3 MB (final output) and
    20.4 MB (cascade); Table 4: 0.52, 0.66 and 0.91 ·10^8 FLOPs for Mid-A, Mid-B, final."""
    final, cascade = nets("fire-gwap"), nets("fire-gwap-cascade")
    assert tuple(final.head.gwap.weight.shape) == (512, 8, 8)
    assert tuple(cascade.mid_a.gwap.weight.shape) == (256, 16, 16)
    assert tuple(cascade.mid_b.gwap.weight.shape) == (384, 8, 8)
    assert round(own_params(final) * 4 / MIB, 1) == 10.3
    assert round(own_params(cascade) * 4 / MIB, 1) == 20.4
    macs = exit_macs(cascade, 64)
    assert [round(alone / 1e8, 2) for alone, _ in macs.values()] == [0.52, 0.66, 0.91]
    # In the cascade, everything before an exit has run, earlier exit heads included.
    assert macs["mid_a"][1] == macs["mid_a"][0]
    assert macs["head"][1] > macs["head"][0]
    assert cascade.mid_a.dropout.p == 0.2 and cascade.head.dropout.p == 0.5


def _logits(*probs: list[float]) -> torch.Tensor:
    return torch.tensor(probs).log()


def test_cascade_predict_average_policy():
    """Image 0 stops at Mid-A (0.99 ≥ 0.98); image 1 does not (0.97) and gets the mean of the
    Mid-B and final probabilities, which here differs from the final output alone."""
    a = _logits([0.99, 0.005, 0.005], [0.97, 0.02, 0.01])
    b = _logits([0.1, 0.1, 0.8], [0.1, 0.8, 0.1])
    f = _logits([0.1, 0.8, 0.1], [0.45, 0.1, 0.45])
    pred, exits = cascade_predict((a, b, f))
    assert pred.tolist() == [0, 1]
    assert exits.tolist() == [0, 2]
    pred, exits = cascade_predict((a, b, f), threshold=0.96)
    assert exits.tolist() == [0, 0]


def test_cascade_predict_exit_policy():
    a = _logits([0.5, 0.25, 0.25], [0.5, 0.25, 0.25], [0.99, 0.005, 0.005])
    b = _logits([0.01, 0.98, 0.01], [0.2, 0.7, 0.1], [0.2, 0.7, 0.1])
    f = _logits([0.1, 0.1, 0.8], [0.1, 0.1, 0.8], [0.1, 0.1, 0.8])
    pred, exits = cascade_predict((a, b, f), mid_b="exit")
    assert pred.tolist() == [1, 2, 0]
    assert exits.tolist() == [1, 2, 0]
    with pytest.raises(ValueError, match="Mid-B policy"):
        cascade_predict((a, b, f), mid_b="vote")


def test_cascade_evaluate_reports_exits_and_macs():
    torch.manual_seed(0)
    model = fire_gwap(4, 32, cascade=True)
    rng = np.random.default_rng(0)
    data = ImageSet(rng.integers(0, 256, (12, 32, 32), dtype=np.uint8), rng.integers(0, 4, 12))
    costs = [run for _, run in exit_macs(model, 32).values()]
    for threshold in (0.0, 1.01):  # everything exits at Mid-A / nothing exits early
        report = cascade_evaluate(model, data, 32, threshold=threshold)
        early = threshold == 0.0
        assert report["exit_fraction"] == {"mid_a": float(early), "mid_b": 0.0,
                                           "head": float(not early)}
        assert report["macs_average"] == (costs[0] if early else costs[2])
        assert report["macs_full"] == costs[2]
        assert set(report["top1_exits"]) == {"mid_a", "mid_b", "head"}


def test_joint_exit_loss_uses_every_exit():
    model = fire_gwap(4, 32, cascade=True)
    x, y = torch.randn(3, 1, 32, 32), torch.tensor([0, 1, 2])
    exit_loss(model(x), y, nn.CrossEntropyLoss()).backward()
    for head in (model.mid_a, model.mid_b, model.head):
        assert head.classifier.fc.weight.grad is not None


# ---------------------------------------------------------------- ECA-ResNets (seed 001)

def test_eca_resnets_match_table3():
    """Table 3's 11.69 M / 25.56 M are torchvision's ResNet-18 (11,689,512) and ResNet-50
    (25,557,032) counts with a 1000-class head and 3-channel input, ECA adding k weights per
    block; its plain ResNet18 (11.19 M) is ResNet-18 with 16 classes and BN statistics."""
    assert round(sum(p.numel() for p in eca_resnet18(1000, in_channels=3).parameters()) / 1e6,
                 2) == 11.69
    assert round(sum(p.numel() for p in eca_resnet56(1000, in_channels=3).parameters()) / 1e6,
                 2) == 25.56
    assert round(own_params(eca_resnet18(16, in_channels=3, eca=False)) / 1e6, 2) == 11.19


def test_eca_resnet18_at_3755_classes(nets):
    # ResNet-18: 11,689,512 − the 1000-class FC (513,000) − 2 of the 3 stem input channels
    # (2·7·7·64); ECA: 2 blocks × k 3 + 6 blocks × k 5; FC 512·3755 + 3755.
    expected = 11_689_512 - 513_000 - 6_272 + 2 * 3 + 6 * 5 + 512 * CLASSES + CLASSES
    assert sum(p.numel() for p in nets("eca-resnet18").parameters()) == expected
    assert nets("eca-resnet18").stage4.block8.eca.conv.kernel_size == (1, 5)


# ---------------------------------------------------------------- FC bottleneck (seed 003)

def test_fc_cost_eq3():
    # SqNxt's FC: 128·3755 + 3755 = 484,395 (Table 3); with B = 50: 128·50 + 50·3755 (+3755).
    assert fc_cost(128, CLASSES) == (484_395, 128 * CLASSES)
    assert fc_cost(128, CLASSES, 50) == (128 * 50 + 50 * CLASSES + CLASSES,
                                         128 * 50 + 50 * CLASSES)


@pytest.mark.parametrize("arch", [a for a in SEED_ARCHS if a != "cnn9-gslre"])  # as cnn9
def test_bottleneck_option_on_every_network(arch, nets):
    narrow = build(arch, CLASSES, size_of(arch), bottleneck=50)
    saved = own_params(nets(arch)) - own_params(narrow)
    heads = 3 if arch == "fire-gwap-cascade" else 1
    widths = [m.features for m in narrow.modules() if isinstance(m, Classifier) and m.width == 50]
    assert len(widths) == heads
    assert saved == sum(m * CLASSES - m * 50 - 50 * CLASSES for m in widths)


# ---------------------------------------------------------------- every network

HARDWARE_MODULES = (nn.Conv2d, nn.BatchNorm2d, nn.ReLU, nn.PReLU, nn.MaxPool2d,
                    nn.AdaptiveAvgPool2d, nn.Linear, nn.Flatten, nn.Dropout, nn.Sigmoid)
HARDWARE_FUNCTIONS = {torch.cat, operator.add, operator.mul}
HARDWARE_METHODS = {"mean", "amax", "reshape", "sum"}


@pytest.mark.parametrize("arch", SEED_ARCHS)
def test_fx_trace_uses_only_hardware_ops(arch, nets):
    """The traced graph holds only the ops the integer IR lowers, all convolutions are
    standard (groups = 1) and the traced module computes what the module computes."""
    model = nets(arch).eval()
    traced = torch.fx.symbolic_trace(model)
    modules = dict(traced.named_modules())
    for node in traced.graph.nodes:
        if node.op == "call_module":
            assert isinstance(modules[node.target], HARDWARE_MODULES), node.format_node()
        elif node.op == "call_function":
            assert node.target in HARDWARE_FUNCTIONS, node.format_node()
        elif node.op == "call_method":
            assert node.target in HARDWARE_METHODS, node.format_node()
    assert all(m.groups == 1 for m in model.modules() if isinstance(m, nn.Conv2d))
    x = torch.randn(2, 1, size_of(arch), size_of(arch))
    with torch.no_grad():
        expected, got = model(x), traced(x)
    expected = expected if isinstance(expected, tuple) else (expected,)
    got = got if isinstance(got, tuple) else (got,)
    assert [tuple(o.shape) for o in got] == [(2, CLASSES)] * len(got)
    for e, g in zip(expected, got, strict=True):
        assert torch.equal(e, g)


@pytest.mark.parametrize("arch", SEED_ARCHS)
def test_forward_backward_tiny_batch(arch):
    torch.manual_seed(0)
    model = build(arch, 7, 32)
    out = model(torch.randn(2, 1, 32, 32))
    outs = out if isinstance(out, tuple) else (out,)
    sum(nn.functional.cross_entropy(o, torch.tensor([1, 5])) for o in outs).backward()
    assert all(p.grad is not None for p in model.parameters())


def test_registry_rejects_unknown_and_passes_options():
    with pytest.raises(ValueError, match="unknown architecture"):
        build("squeezenet", 10, 64)
    assert build("sqnxt", 10, 64, pool_first=False).pool_first is None


def test_profile_counts_all_parameters(nets):
    for arch in ("sqnxt-ccbam", "fire-gwap-cascade"):
        assert sum(s.params for s in profile(nets(arch), 64)) == own_params(nets(arch))


@pytest.mark.slow
def test_paper_tables_all_match():
    """The printable comparisons agree with the papers on every row they check."""
    for table in (cnn9_table(), fire_table(), resnet_table()):
        assert all(row[-1] is not False for row in table[1])
    assert "sqnxt classifier" in render("FC", bottleneck_table(50))
