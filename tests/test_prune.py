"""Pruning: importance and z-scores by hand, rounds that roll back exactly, physical removal
that keeps the function, and pruned networks through the IR export."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from test_nets_export import _train_briefly
from torch import nn

from model.data.dataset import ImageSet
from model.loop import evaluate
from model.nets import build
from model.nets.resize import fit_to_state, pruned_shapes, reinitialise, resize_to
from model.nets.stats import own_params
from model.prune.adw import DropWeight, cluster, cra, kmeans_1d, threshold
from model.prune.asfp import (
    AsfpConfig,
    AsfpState,
    asfp,
    importance,
    select,
    stage_scores,
    zscore,
)
from model.prune.channels import analyse, remove_channels, remove_zeroed, zero_channels
from model.prune.replay import Replay
from model.prune.slimming import threshold_masks
from model.prune.tune import TuneConfig, recalibrate_bn
from quant.check import compare_with_qat
from quant.export import export
from quant.qat import prepare_qat


def test_importance_is_alpha_l1_plus_beta_l2():
    w = torch.tensor([[[[1.0, -2.0], [0.0, 2.0]]], [[[3.0, 0.0], [0.0, -4.0]]]])
    # filter 0: L1 = 5, L2 = 3; filter 1: L1 = 7, L2 = 5
    got = importance(w, alpha=0.5, beta=2.0)
    assert torch.allclose(got, torch.tensor([0.5 * 5 + 2 * 3, 0.5 * 7 + 2 * 5]))


def test_zscore_uses_population_std():
    got = zscore(torch.tensor([1.0, 2.0, 3.0, 4.0]))
    want = torch.tensor([-3.0, -1.0, 1.0, 3.0]) / math.sqrt(5.0)  # std = sqrt(1.25)
    assert torch.allclose(got, want)
    assert torch.equal(zscore(torch.full((3,), 2.0)), torch.zeros(3))


class _TwoStages(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Sequential(nn.Conv2d(1, 2, 1, bias=False), nn.ReLU())
        self.b = nn.Sequential(nn.Conv2d(2, 3, 1, bias=False), nn.ReLU())
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(3, 2))

    def forward(self, x):
        return self.head(self.b(self.a(x)))


def test_stage_scores_are_z_scored_within_each_stage():
    net = _TwoStages()
    with torch.no_grad():
        net.a[0].weight.copy_(torch.tensor([1.0, 3.0]).reshape(2, 1, 1, 1))
        net.b[0].weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 10.0], [100.0, 0.0]])[..., None,
                                                                                      None])
    graph = analyse(net)
    scores = stage_scores(graph, graph.groups, alpha=1.0, beta=0.0)
    # stage a: Ipt [1, 3] → z [-1, 1]; stage b: Ipt [1, 10, 100], mean 37, std sqrt(1998)
    assert torch.allclose(scores[("a.0",)], torch.tensor([-1.0, 1.0]))
    assert torch.allclose(scores[("b.0",)], (torch.tensor([1.0, 10, 100]) - 37) / math.sqrt(1998))


def test_stage_scores_use_the_bn_folded_filters():
    net = nn.Sequential(nn.Conv2d(1, 3, 1, bias=False), nn.BatchNorm2d(3), nn.ReLU(),
                        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(3, 2)).eval()
    with torch.no_grad():
        net[0].weight.fill_(2.0)  # equal raw filters: raw Ipt cannot tell them apart
        net[1].weight.copy_(torch.tensor([1.0, -4.0, 0.5]))
        net[1].running_var.copy_(torch.tensor([1.0, 4.0, 0.25]) - net[1].eps)
    graph = analyse(net)
    scores = stage_scores(graph, graph.groups, alpha=1.0, beta=0.0)
    # folded |w| = 2·|γ|/σ = [2, 4, 2] → z = [-1, 2, -1] / sqrt(2)
    assert torch.allclose(scores[("0",)], torch.tensor([-1.0, 2.0, -1.0]) / math.sqrt(2.0))


def test_select_takes_x_per_stage_below_the_limit_and_keeps_one_channel():
    scores = {("s1.c",): torch.tensor([-2.0, -1.0, 0.5, 1.0]), ("s2.c",): torch.tensor([-1.0, 0.0]),
              ("s2.d",): torch.tensor([-3.0, 2.0])}
    zeroed = {g: torch.zeros(len(s), dtype=torch.bool) for g, s in scores.items()}
    got = select(scores, zeroed, x=0.5, z_limit=0.0)
    assert got[("s1.c",)].tolist() == [True, True, False, False]  # 2 of 4, both below 0
    assert got[("s2.c",)].tolist() == [True, False] and got[("s2.d",)].tolist() == [True, False]
    again = select(scores, got, x=0.5, z_limit=10.0)  # the last live channel always stays
    assert again[("s2.c",)].tolist() == [True, False] and again[("s2.d",)].tolist() == [True, False]
    assert again[("s1.c",)].tolist() == [True, True, True, False]


def test_recalibrate_bn_sets_the_statistics_of_the_given_images():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 3, 3, bias=False), nn.BatchNorm2d(3), nn.ReLU(),
                        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(3, 2))
    net[1].momentum = 0.3
    rng = np.random.default_rng(0)
    data = ImageSet(rng.integers(0, 256, (40, 8, 8), dtype=np.uint8), np.zeros(40, np.int64))
    recalibrate_bn(net, data, images=14, batch_size=20)
    x = torch.from_numpy(data.images[0:40:3]).float().unsqueeze(1) / 255  # 0, 3, …, 39
    with torch.no_grad():
        y = nn.functional.conv2d(x, net[0].weight).transpose(0, 1).reshape(3, -1)
    torch.testing.assert_close(net[1].running_mean, y.mean(1))
    torch.testing.assert_close(net[1].running_var, y.var(1, unbiased=True))
    assert net[1].momentum == 0.3 and not net.training


def _randomise_bn(model: nn.Module, seed: int = 0) -> nn.Module:
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                n = m.num_features
                m.running_mean.copy_(torch.rand(n, generator=gen) - 0.5)
                m.running_var.copy_(torch.rand(n, generator=gen) + 0.5)
                m.weight.copy_(torch.rand(n, generator=gen) + 0.5)
                m.bias.copy_(torch.rand(n, generator=gen) * 0.4 - 0.2)
    return model.eval()


def zero_random(model: nn.Module, share: float, seed: int) -> torch.Generator:
    """Zero a random `share` of every channel group of `model`; returns the generator (seeded
    with `seed`) that drew them."""
    graph = analyse(model)
    gen = torch.Generator().manual_seed(seed)
    for group in graph.groups:
        zero_channels(graph, group, torch.rand(graph.width(group), generator=gen) < share)
    return gen


def pruned_qat(model: nn.Module, size: int, classes: int, share: float, seed: int) -> nn.Module:
    """`model` trained briefly, a random `share` of its channels zeroed (`zero_random`) and
    removed, trained again; then its QAT network, trained briefly, observers frozen."""
    _train_briefly(model, size, classes)
    zero_random(model, share, seed)
    remove_zeroed(model)
    _train_briefly(model, size, classes)
    qnet = prepare_qat(model, size)
    _train_briefly(qnet, size, classes, steps=2)
    qnet.set_observers_frozen(True)
    return qnet


class _Concat(nn.Module):
    """Two parallel convs concatenated with the input, a 1×1 conv, PReLU, GAP and FC."""

    def __init__(self) -> None:
        super().__init__()
        self.left = nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), nn.BatchNorm2d(6), nn.ReLU())
        self.right = nn.Sequential(nn.Conv2d(3, 5, 1), nn.BatchNorm2d(5), nn.PReLU(5))
        self.fuse = nn.Sequential(nn.Conv2d(14, 8, 1), nn.BatchNorm2d(8), nn.ReLU())
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 4))

    def forward(self, x):
        return self.head(self.fuse(torch.cat([self.left(x), self.right(x), x], dim=1)))


CASES = [("sqnxt", 16), ("sqnxt-ccbam", 16), ("sqnxt0", 16), ("concat", 8)]


@pytest.mark.parametrize(("arch", "size"), CASES, ids=[a for a, _ in CASES])
def test_removing_zeroed_channels_keeps_the_function(arch, size):
    torch.manual_seed(0)
    model = _Concat() if arch == "concat" else build(arch, 7, size)
    _randomise_bn(model)
    inputs = 3 if arch == "concat" else 1
    gen = zero_random(model, 0.4, seed=1)
    x = torch.rand(4, inputs, size, size, generator=gen)
    with torch.no_grad():
        before = model(x)
        params = own_params(model)
        remove_zeroed(model)
        after = model(x)
    assert own_params(model) < params
    torch.testing.assert_close(after, before, rtol=1e-5, atol=1e-5)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    rebuilt = _Concat() if arch == "concat" else build(arch, 7, size)
    with torch.no_grad():
        torch.testing.assert_close(fit_to_state(rebuilt, state).eval()(x), after)


def test_removing_a_channel_that_is_not_zero_changes_the_function():
    model = _randomise_bn(_Concat())
    graph = analyse(model)
    with torch.no_grad():
        graph.convs["left.0"].weight[2] = 0  # BN γ, β left: the channel is a constant
    x = torch.rand(2, 3, 8, 8)
    before = model(x)
    keep = torch.ones(6, dtype=torch.bool)
    keep[2] = False
    after = remove_channels(model, graph, {("left.0",): keep})(x)
    assert not torch.allclose(before, after, atol=1e-4)


def test_reinitialise_gives_fresh_weights_at_the_pruned_widths():
    torch.manual_seed(0)
    model = _randomise_bn(build("sqnxt", 7, 16))
    zero_random(model, 0.4, seed=1)
    remove_zeroed(model)
    shapes = {k: v.shape for k, v in model.state_dict().items()}
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(7.0)
    reinitialise(model)
    assert {k: v.shape for k, v in model.state_dict().items()} == shapes
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            assert torch.equal(m.weight, torch.ones_like(m.weight))
            assert torch.equal(m.bias, torch.zeros_like(m.bias))
            assert torch.equal(m.running_var, torch.ones_like(m.running_var))
    conv = model.stage3.block9.branch_kx1.conv.weight  # he_normal: std sqrt(2 / fan_in)
    fan_in = conv[0].numel()
    assert abs(conv.std().item() / math.sqrt(2 / fan_in) - 1) < 0.25
    identities = 0  # blocks with cin == cout start as a pass-through of the block input
    for block in (m for m in model.modules() if hasattr(m, "init_identity")):
        fuse = block.fuse.conv.weight
        cout, total = fuse.shape[:2]
        if total - 2 * block.branch_kx1.conv.out_channels == cout:
            assert torch.equal(fuse[:, total - cout:, 0, 0], torch.eye(cout))
            identities += 1
    assert identities > 0
    assert all((p != 7.0).any() for p in model.parameters())


def test_pruned_widths_rebuild_at_another_size_and_class_count():
    torch.manual_seed(0)
    model = build("sqnxt-ccbam", 7, 16)
    zero_random(model, 0.4, seed=1)
    remove_zeroed(model)
    shapes = pruned_shapes(model)
    assert shapes["classifier.fc.weight"][0] == -1 and shapes["classifier.fc.bias"] == [-1]
    big = resize_to(build("sqnxt-ccbam", 11, 32), shapes)
    got = {k: list(v.shape) for k, v in big.state_dict().items() if v.dim()}
    assert got["classifier.fc.weight"] == [11, shapes["classifier.fc.weight"][1]]
    assert {k: v for k, v in got.items() if not k.startswith("classifier.fc")} == {
        k: v for k, v in shapes.items() if not k.startswith("classifier.fc")}
    assert big.eval()(torch.rand(2, 1, 32, 32)).shape == (2, 11)


def test_groups_follow_concat_adds_and_stop_at_attention():
    graph = analyse(build("sqnxt-ccbam", 5, 16))
    groups = {g[0]: g for g in graph.groups}
    # the stage output and the C-CBAM side path added to it go together
    assert groups["stage3.block20.fuse.conv"] == ("stage3.block20.fuse.conv",
                                                  "ccbam2.projection.conv")
    # the attention taps (stage inputs read by ECA and SAM) and ECA's own conv are frozen
    for frozen in ("conv_first.conv", "downsample1.conv", "downsample2.conv",
                   "ccbam1.attention.cam.conv"):
        assert frozen not in groups
    assert "stage3.block7.branch_kx1.conv" in groups


def _images(n: int, size: int, classes: int, seed: int) -> ImageSet:
    rng = np.random.default_rng(seed)
    return ImageSet(rng.integers(0, 256, (n, size, size), dtype=np.uint8),
                    rng.integers(0, classes, n).astype(np.int64))


@pytest.mark.parametrize("rule", ["zeroed", "tuned"])
def test_an_abandoned_round_restores_the_weights_exactly(rule):
    torch.manual_seed(0)
    model = build("sqnxt", 4, 16)
    data = _images(32, 16, 4, 0)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    config = AsfpConfig(x=0.3, z_limit=5.0, scope=("stage3",), max_rounds=2,
                        max_drop_zeroed=-1.0 if rule == "zeroed" else 1.0, max_drop_tuned=-1.0)
    pruned, rows = asfp(model, data, data, 16, config, TuneConfig(epochs=1, batch_size=16),
                        lambda m: evaluate(m, data)["top1"])
    assert [r.accepted for r in rows] == [False, False]
    assert (rows[0].acc_tuned is None) == (rule == "zeroed")
    assert rows[1].x == pytest.approx(0.15)  # retried with a smaller X
    after = pruned.state_dict()
    assert before.keys() == after.keys()
    for k in before:
        assert torch.equal(before[k], after[k]), k


def test_accepted_rounds_prune_the_scope_physically():
    torch.manual_seed(0)
    model = build("sqnxt-ccbam", 4, 16)
    data = _images(32, 16, 4, 1)
    config = AsfpConfig(x=0.2, z_limit=5.0, target=0.9, scope=("stage3",), max_rounds=2,
                        max_drop_zeroed=1.0, max_drop_tuned=1.0)
    pruned, rows = asfp(model, data, data, 16, config, TuneConfig(epochs=1, batch_size=16),
                        lambda m: evaluate(m, data)["top1"])
    assert len(rows) >= 2 and all(r.accepted for r in rows)
    assert all(b.scope_params < a.scope_params for a, b in zip(rows, rows[1:], strict=False))
    stage3 = sum(own_params(m) for n, m in pruned.named_children() if n == "stage3")
    assert stage3 == rows[-1].scope_params
    assert pruned(torch.rand(2, 1, 16, 16)).shape == (2, 4)


class _Stopped(Exception):
    pass


def test_a_run_stopped_after_a_round_resumes_to_the_same_network():
    data = _images(32, 16, 4, 2)
    config = AsfpConfig(x=0.2, z_limit=5.0, target=0.9, scope=("stage3",), max_rounds=3,
                        max_drop_zeroed=1.0, max_drop_tuned=1.0)
    tune_config = TuneConfig(epochs=1, batch_size=16)

    def run(resume=None, after_round=None):
        torch.manual_seed(0)
        model = build("sqnxt-ccbam", 4, 16)
        return asfp(model, data, data, 16, config, tune_config,
                    lambda m: evaluate(m, data)["top1"], resume=resume, after_round=after_round)

    whole, whole_rows = run()
    kept: list[AsfpState] = []

    def stop_after_first(state):
        kept.append(state)
        raise _Stopped

    with pytest.raises(_Stopped):
        run(after_round=stop_after_first)
    torch.manual_seed(123)  # the resumed run restores the generator the round left
    later: list[AsfpState] = []
    resumed, resumed_rows = run(resume=kept[0], after_round=later.append)
    assert len(kept[0].rows) == 1 and len(whole_rows) == 3
    assert [len(s.rows) for s in later] == [2, 3]  # round 1 is not run again
    assert resumed_rows == whole_rows
    want, got = whole.state_dict(), resumed.state_dict()
    assert want.keys() == got.keys()
    for k in want:
        assert torch.equal(want[k], got[k]), k


def test_slimming_threshold_is_global():
    scores = {("a",): torch.tensor([0.1, 0.5, 0.9]), ("b",): torch.tensor([0.2, 0.3]),
              ("c",): torch.tensor([0.05])}
    keep = threshold_masks(scores, ratio=0.5)  # 6 channels → the 3 smallest (≤ 0.2) go
    assert keep[("a",)].tolist() == [False, True, True]
    assert keep[("b",)].tolist() == [False, True]
    assert keep[("c",)].tolist() == [True]  # a group keeps its best channel


def test_slimming_rounds_each_kept_width_to_the_multiple():
    scores = {("a",): torch.arange(20.0), ("b",): torch.arange(20.0) + 100.0,
              ("c",): torch.arange(4.0) + 10.5}
    # 44 channels, ratio 0.25 → the 11 smallest (a's 0-10) go: a keeps 9, b 20, c 4.
    plain = threshold_masks(scores, ratio=0.25)
    assert [int(m.sum()) for m in plain.values()] == [9, 20, 4]
    keep = threshold_masks(scores, ratio=0.25, multiple=8)
    # 9 → 8 (the best: 12-19), 20 → 24 capped at the group's 20, 4 → one multiple, capped at 4
    assert keep[("a",)].nonzero().flatten().tolist() == list(range(12, 20))
    assert keep[("b",)].all() and keep[("c",)].all()


def test_adw_threshold_grows_on_schedule_and_pruned_weights_stay_zero():
    layer = nn.Linear(10, 10, bias=False)
    with torch.no_grad():
        layer.weight.copy_(torch.arange(1, 101, dtype=torch.float32).reshape(10, 10))
    drop = DropWeight({"fc": layer}, {"fc": 0.4}, interval=2, t1=8)
    drop(1)  # not a pruning step
    assert int((layer.weight == 0).sum()) == 0
    drop(2)  # p = 0.4·100·2/8 = 10 → |w| ≤ 10 zeroed
    assert int((layer.weight == 0).sum()) == 10 and threshold(layer.weight, 10) == 0.0
    with torch.no_grad():
        layer.weight.fill_(50.0)  # an optimizer step revives nothing
    drop(3)
    assert int((layer.weight == 0).sum()) == 10
    with torch.no_grad():
        layer.weight.copy_(torch.arange(1, 101, dtype=torch.float32).reshape(10, 10))
    for t in range(4, 9):
        drop(t)
    assert int((layer.weight == 0).sum()) == 40  # r·N after T1


def test_cra_keeps_the_last_ratio_within_tolerance_and_restores_the_weights():
    a, b = nn.Linear(10, 10, bias=False), nn.Linear(10, 10, bias=False)
    with torch.no_grad():
        a.weight.copy_(torch.arange(1, 101, dtype=torch.float32).reshape(10, 10))
        b.weight.copy_(-torch.arange(1, 101, dtype=torch.float32).reshape(10, 10))
    model = nn.Sequential(a, b)
    saved = [a.weight.clone(), b.weight.clone()]
    floors = []

    def accuracy(model: nn.Module, floor: float = 0.0) -> float:
        floors.append(floor)  # a stand-in: each zeroed weight of a costs 4e-4, of b 3e-5
        return 0.99 - 4e-4 * int((a.weight == 0).sum()) - 3e-5 * int((b.weight == 0).sum())

    ratios = cra(model, {"a": a, "b": b}, accuracy, tolerance=0.001, step=0.1)
    # a: 10 % = 10 zeros costs 0.004 > 0.001 → 0; b: 30 % costs 0.0009, 40 % costs 0.0012 → 0.3
    assert ratios == {"a": 0.0, "b": pytest.approx(0.3)}
    assert torch.equal(a.weight, saved[0]) and torch.equal(b.weight, saved[1])
    assert floors[0] == 0.0 and floors[1:] == pytest.approx([0.989] * 5)
    assert len(floors) == 1 + 1 + 4  # base, a at 0.1, b at 0.1…0.4


def test_replay_skips_what_runs_before_the_layer_and_keeps_the_logits():
    torch.manual_seed(0)
    model = _randomise_bn(build("sqnxt-ccbam", 7, 16)).eval()
    x = torch.rand(6, 1, 16, 16)
    replay = Replay(model, budget_bytes=2**30)
    assert {"conv_first", "stage1.block1", "stage3.block9", "ccbam2.projection"} <= set(
        replay.units)
    with torch.no_grad(), replay.recording():
        model(x[:3])
        model(x[3:])
    layer = model.stage3.block9.fuse.conv
    with torch.no_grad():
        layer.weight.mul_(0.5)
        want = torch.cat([model(x[:3]), model(x[3:])])
    calls = []
    model.conv_first.conv.register_forward_hook(lambda *_: calls.append("first"))
    model.stage3.block8.register_forward_hook(lambda *_: calls.append("block8"))
    model.stage4.register_forward_hook(lambda *_: calls.append("stage4"))
    with torch.no_grad(), replay.before("stage3.block9.fuse.conv"):
        got = torch.cat([model(x[:3]), model(x[3:])])
    assert torch.equal(got, want)
    assert calls == ["block8", "stage4"] * 2  # block 8 is replayed (its hook sees the cached
    # output), conv_first's inner conv never runs, stage 4 runs for real
    assert "forward" not in vars(model.stage3.block8)  # restored on exit
    sizes = dict(replay.sizes)
    budget = sum(sizes.values()) - sizes["conv_first"]  # conv_first's 16×16×64: the largest
    small = Replay(model, budget_bytes=budget)
    with torch.no_grad(), small.recording():
        model(x[:3])
        model(x[3:])
    assert small.dropped == {"conv_first"} and set(small.outputs) == set(sizes) - {"conv_first"}
    calls.clear()
    with torch.no_grad(), small.before("stage3.block9.fuse.conv"):
        assert torch.equal(torch.cat([model(x[:3]), model(x[3:])]), want)
    assert calls == ["first", "block8", "stage4"] * 2  # conv_first runs again


class _Constant(nn.Module):
    """Predicts class 0 for every image and counts its batches."""

    def __init__(self) -> None:
        super().__init__()
        self.batches = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.batches += 1
        return torch.nn.functional.one_hot(torch.zeros(len(x), dtype=torch.long), 2).float()


def test_evaluate_stops_once_the_floor_is_out_of_reach():
    labels = np.array([0] * 4 + [1] * 6)  # the constant model gets 4 of 10 right
    data = ImageSet(np.zeros((10, 4, 4), np.uint8), labels)
    model = _Constant()
    assert evaluate(model, data, batch_size=2, floor=0.4)["top1"] == 0.4
    assert model.batches == 5
    model.batches = 0
    # After batches 1-3 (4 right, 2 wrong), 4 + 4 left < 0.9·10: stops before batch 4.
    assert evaluate(model, data, batch_size=2, floor=0.9)["top1"] < 0.9
    assert model.batches == 3


def test_kmeans_and_codebook(tmp_path):
    centroids, index = kmeans_1d(torch.tensor([0.9, 1.0, 1.1, 4.9, 5.0, 5.1]), 2)
    assert torch.allclose(centroids, torch.tensor([1.0, 5.0]))
    assert index.tolist() == [0, 0, 0, 1, 1, 1]
    layer = nn.Linear(4, 1, bias=False)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[0.0, 1.0, 1.2, 3.0]]))
    book = cluster({"fc": layer}, bits=1, out=tmp_path / "codebook.npz")
    assert torch.allclose(layer.weight, torch.tensor([[0.0, 1.1, 1.1, 3.0]]))
    saved = np.load(tmp_path / "codebook.npz")
    assert saved["fc.index"].tolist() == [[-1, 0, 0, 1]]
    np.testing.assert_allclose(book["fc"], [1.1, 3.0], rtol=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize("arch", ["sqnxt", "sqnxt-ccbam"])
def test_pruned_network_exports_and_golden_matches_fake_quant(arch):
    torch.manual_seed(0)
    size, classes = 32, 6
    model = build(arch, classes, size)
    qnet = pruned_qat(model, size, classes, 0.5, seed=2)
    ir_model = export(qnet.eval(), f"{arch}-pruned")
    # the pruned QAT state loads into a QAT net built from the unpruned architecture
    rebuilt = fit_to_state(prepare_qat(build(arch, classes, size), size), qnet.state_dict())
    x = torch.rand(3, 1, size, size)
    with torch.no_grad():
        assert torch.equal(rebuilt.eval()(x), qnet(x))
    images = np.random.default_rng(1).integers(0, 256, (6, size, size), dtype=np.uint8)
    check = compare_with_qat(qnet, ir_model, images)
    assert len(check["layers"]) >= 10
    worst = max(check["layers"].items(), key=lambda kv: kv[1]["max_steps"])
    assert worst[1]["max_steps"] <= 1.0 + 1e-3, worst
    convs = {op.name: op for op in ir_model.ops}
    pruned = model.stage3.block7.branch_kx1.conv
    ir_conv = convs["stage3_block7_branch_kx1_conv"]
    assert ir_conv.weight.shape[2:] == (pruned.in_channels, pruned.out_channels)
