"""Golden vs the plain-loop reference on random IR graphs (hypothesis, derandomised: every run
draws the same graphs), every tensor bit-exact; the generator reaches every op and block."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from test_golden import assert_matches_reference

from quant import golden, ir
from tests.fuzz.graphs import MOVES, Case, graphs

GRAPHS = 1000
SETTINGS = settings(max_examples=GRAPHS, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def test_golden_matches_reference_on_random_graphs() -> None:
    moves: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    combos: set[str] = set()

    @SETTINGS
    @given(graphs())
    def check(case: Case) -> None:
        assert_matches_reference(case.model, case.feeds, f"{case.combo} ({case.moves})")
        moves.update(case.moves)
        kinds.update(op.kind for op in case.model.ops)
        combos.add(case.combo)

    check()
    print(f"fuzz golden: {sum(moves.values())} moves, {len(combos)} op combinations; {kinds}")
    assert set(kinds) == set(ir.OPS)
    assert set(moves) == {*MOVES, "head_int32"}
    assert min(moves.values()) >= 20, moves


def test_fuzz_finds_a_planted_concat_bug(monkeypatch: pytest.MonkeyPatch) -> None:
    """A concat that reverses its inputs (right only when they are equal) is caught."""
    concat = golden.OP_FUNCTIONS["concat"]
    monkeypatch.setitem(golden.OP_FUNCTIONS, "concat",
                        lambda op, xs, ins, out: concat(op, xs[::-1], ins, out))

    @settings(SETTINGS, max_examples=300)
    @given(graphs())
    def check(case: Case) -> None:
        assert_matches_reference(case.model, case.feeds, case.combo)

    with pytest.raises(AssertionError, match="concat"):
        check()
