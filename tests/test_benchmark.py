"""The benchmark script runs and reports every workload (figures are printed, not asserted)."""

from __future__ import annotations

import pytest

from demos import benchmark


def test_benchmark_quick_run_reports_every_workload(capsys: pytest.CaptureFixture[str]) -> None:
    res = benchmark.main(["--quick"])
    out = capsys.readouterr().out
    for key in ("w1_hand", "w1_engine", "w2_hand", "w2_engine", "w3_hand", "w3_engine", "w4_forward"):
        assert res[key] > 0, key
    for heading in ("W1 training step", "W2 chain", "W3 sum of", "W4 memory"):
        assert heading in out


@pytest.mark.parametrize("seed", [5, 6, 7])
def test_hand_written_step_matches_the_engine_step(seed: int) -> None:
    """One step from the same weights gives the same loss and the same updated weights.

    (Only one: over several steps, a ReLU input that should be exactly 0 can come out as +-1e-18
    from a different summation order, and the two trajectories then part at that kink.)"""
    X, Y = benchmark.moons(20)
    hand = benchmark.init_params([2, 4, 4, 1], seed=seed)
    model = benchmark.engine_model(benchmark.init_params([2, 4, 4, 1], seed=seed))
    lh = benchmark.hand_step(hand, X, Y, 0.3, 1e-3)
    le = benchmark.engine_step(model, X, Y, 0.3, 1e-3)
    assert lh == pytest.approx(le, rel=1e-12)
    flat = [v for lw, lb in zip(*hand) for row, b in zip(lw, lb) for v in (*row, b)]
    assert [p.data for p in model.parameters()] == pytest.approx(flat, rel=1e-12, abs=1e-15)
