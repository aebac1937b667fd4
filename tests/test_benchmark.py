"""The benchmark script runs and reports every workload (figures are printed, not asserted)."""

from __future__ import annotations

import pytest

from demos import benchmark


def test_benchmark_quick_run_reports_every_workload(capsys: pytest.CaptureFixture[str]) -> None:
    res = benchmark.main(["--quick"])
    out = capsys.readouterr().out
    for key in ("w1_hand", "w1_engine", "w2_hand", "w2_engine", "w3_hand", "w3_engine", "w4_forward"):
        assert res[key] > 0, key
    for heading in ("W1 training step", "W2 chain", "W3 sum of", "W4 memory", "W5 the reverse sweep",
                    "W6 training step", "W7 full-batch step"):
        assert heading in out
    for key in ("w1_compiled", "w1_mg_compiled", "w6_microgpt", "w6_nn", "w6_traced", "w7_batch_100"):
        assert res[key] > 0, key
    # the W6 rows: eager and traced side by side, each with its ratio to the microgpt engine
    rows = {line.split("ms/step")[0].strip().rsplit(" ", 1)[0].strip(): line for line in out.splitlines()
            if "ms/step" in line}
    assert "nn.GPT" in rows and "through traced programs" in rows
    assert "(target >= 40x;" in rows["through traced programs"]
    assert f"{res['w6_microgpt'] / res['w6_traced']:6.2f}x faster" in rows["through traced programs"]
    assert res["w6_trace_lengths"] == 2 and res["w6_traced_agreement"] <= 1e-12
    assert "compiled" in out and "micrograd's code" in out  # W1's compiled rows
    for name in ("W1", "W2", "W3"):  # W5: the plain loop against the kernel, on each graph
        assert 0 < res[f"w5_{name}_min"] <= res[f"w5_{name}"] <= res[f"w5_{name}_max"]
        assert f"on {name}'s graph" in out


def test_w6_traced_programs_give_the_microgpt_engines_losses() -> None:
    """The W6 traced row is the same computation as microgpt's engine: the losses of five Adam
    steps from the same weights agree to 1e-12, and no step traces (each length was traced)."""
    docs, _ = benchmark.names_documents(5)
    traced, start, seconds = benchmark.w6_traced(docs)
    assert seconds > 0 and sorted(traced.programs) == sorted({len(d) for d in docs})
    _, _, micro, _ = benchmark.w6_trainers(keep_graph=False)
    assert [p.data for p in traced.model.parameters()] == start
    import nn

    opt = nn.Adam(traced.model, lr=nn.LinearDecay(0.01, 0.0, benchmark.W6_STEPS), betas=(0.85, 0.99),
                  eps=1e-8)
    for d in docs:
        a, b = micro.step(d), benchmark.traced_gpt_step(traced, opt, d)
        assert b == pytest.approx(a, rel=1e-12)
    assert traced.traced == len(traced.programs) and traced.eager_steps == 0


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
