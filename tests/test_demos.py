"""The demos run to completion and their headline claims hold.

moons: micrograd's setup reaches 100% training accuracy with the default settings (as
micrograd's demo does) and writes its three files; xor: all four outputs on the right side;
encoder: 8 distinct binary codes for the 8 patterns, each pattern reproduced.
"""

from __future__ import annotations

import builtins
import os
import subprocess
import sys
from pathlib import Path

import pytest

import nn
from demos import encoder, moons, xor

ROOT = Path(__file__).resolve().parent.parent
PNG = b"\x89PNG\r\n\x1a\n"



def needs_demo_extras() -> None:
    for name in ("matplotlib", "tqdm"):
        pytest.importorskip(name, reason="the moons demo needs the demo extras: pip install -e '.[demo]'")


def test_moons_default_settings_reach_100_percent(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    needs_demo_extras()
    result = moons.main(["--out", str(tmp_path), "--quiet"])
    assert result.final_accuracy == 1.0
    assert len(result.losses) == 100
    assert result.model.config()["nouts"] == [16, 16, 1]  # type: ignore[index]
    # the loss went down from the untrained network's
    assert result.losses[-1] < 0.25 * result.losses[0]
    out = capsys.readouterr().out
    assert "training accuracy 100%" in out
    for name in ("decision_boundary.png", "loss.png", "model.json"):
        path = tmp_path / name
        assert f"{path}" in out  # it says where each file went
        assert path.stat().st_size > 0
    assert (tmp_path / "decision_boundary.png").read_bytes()[:8] == PNG
    assert (tmp_path / "loss.png").read_bytes()[:8] == PNG
    # the saved model is the trained one
    back = nn.load_model(tmp_path / "model.json")
    assert [p.data for p in back.parameters()] == [p.data for p in result.model.parameters()]


def test_moons_options(tmp_path: Path) -> None:
    needs_demo_extras()
    result = moons.main(["--steps", "3", "--hidden", "4,3", "--optimizer", "adam", "--seed", "5",
                         "--n", "20", "--out", str(tmp_path / "new" / "dir"), "--quiet"])
    assert len(result.losses) == 3 and len(result.X) == 20
    assert result.model.nouts == [4, 3, 1]
    assert (tmp_path / "new" / "dir" / "loss.png").exists()


def test_moons_accuracy_is_what_the_model_scores() -> None:
    result = moons.train(steps=2, n=30)
    scores = [result.model(x) for x in result.X]
    right = sum((s.data > 0) == (t > 0) for s, t in zip(scores, result.y))  # type: ignore[union-attr]
    assert result.final_accuracy == right / 30


def test_moons_command_line(tmp_path: Path) -> None:
    needs_demo_extras()
    proc = subprocess.run(
        [sys.executable, "-m", "demos.moons", "--steps", "2", "--n", "20", "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "MPLBACKEND": "Agg"},
    )
    assert proc.returncode == 0, proc.stderr
    assert f"wrote decision boundary: {tmp_path / 'decision_boundary.png'}" in proc.stdout
    assert "moons: 100%" in proc.stderr  # the tqdm progress bar
    assert "loss=" in proc.stderr and "acc=" in proc.stderr


def test_importing_the_demo_does_not_need_matplotlib_or_tqdm() -> None:
    code = "import sys, demos.moons; print('matplotlib' in sys.modules, 'tqdm' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["False", "False"]


def test_missing_extras_name_the_pip_command(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    real_import = builtins.__import__

    def no_matplotlib(name: str, *args: object, **kwargs: object) -> object:
        if name.split(".")[0] == "matplotlib":
            raise ImportError("No module named 'matplotlib'", name="matplotlib")
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    with pytest.raises(SystemExit, match=r"matplotlib is missing.*pip install -e '\.\[demo\]'"):
        moons.main(["--out", str(tmp_path), "--steps", "1"])
    assert list(tmp_path.iterdir()) == []


def test_moons_rejects_bad_options(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["--hidden", "16,x"], ["--steps", "0"], ["--optimizer", "lbfgs"]):
        with pytest.raises(SystemExit):
            moons.parse_args(argv)
    assert "expected sizes like 16,16" in capsys.readouterr().err


def test_xor_small_run_completes(capsys: pytest.CaptureFixture[str]) -> None:
    result = xor.main(["--steps", "5"])
    assert len(result.losses) == 5
    assert "outputs on the right side" in capsys.readouterr().out


def test_xor_default_settings_put_all_four_outputs_on_the_right_side(tmp_path: Path) -> None:
    result = xor.main(["--out", str(tmp_path)])
    assert result.correct == [True, True, True, True]
    # independently of the demo's own bookkeeping: recompute from the saved model
    back = nn.load_model(tmp_path / "xor_model.json")
    X, y = nn.xor()
    for x, t in zip(X, y):
        assert (back(x).data > 0) == (t == 1)  # type: ignore[union-attr]


def test_encoder_small_run_completes(capsys: pytest.CaptureFixture[str]) -> None:
    result = encoder.main(["--steps", "5"])
    assert len(result.losses) == 5 and len(result.codes) == 8
    assert "distinct codes" in capsys.readouterr().out


def test_encoder_learns_a_binary_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = encoder.main(["--out", str(tmp_path)])
    assert len(set(result.codes)) == 8  # 8 patterns, 8 different 3-bit codes
    assert result.binary
    assert all(result.reconstructed)
    assert all(len(code) == 3 for code in result.codes)
    out = capsys.readouterr().out
    for code in result.codes:
        assert f"| {code} " in out  # the learned codes are printed
    # the saved custom module reloads into a fresh one, parameter for parameter
    fresh = encoder.Autoencoder(seed=99)
    fresh.load(tmp_path / "encoder_model.json")
    assert [p.data for p in fresh.parameters()] == [p.data for p in result.model.parameters()]
    assert fresh.named_parameters()[0][0] == "encoder.neurons.0.w.0"
