"""Saving and loading: exact round trips, atomic writes, and every bad file refused with the
model left exactly as it was."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

import nn
from nn import MLP, Layer, Neuron
from nn import serialize as ser


def snapshot(model: nn.Module) -> list[float]:
    return [p.data for p in model.parameters()]


def saved(tmp_path: Path, model: nn.Module | None = None) -> Path:
    return (model or MLP(2, [4, 1], seed=1)).save(tmp_path / "model.json")


def nn_outputs(out: Any) -> list[float]:
    return [v.data for v in out] if isinstance(out, list) else [out.data]


def edit(path: Path, change: Any) -> None:
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc))


# -- round trips -------------------------------------------------------------------------------


def test_save_then_load_restores_every_bit(tmp_path: Path) -> None:
    a = MLP(2, [16, 16, 1], seed=1)
    for p in a.parameters():  # awkward floats: repr must round-trip them all
        p.data = p.data / 3.0 + 1e-300
    path = a.save(tmp_path / "m.json")
    b = MLP(2, [16, 16, 1], seed=2)
    assert snapshot(a) != snapshot(b)
    b.load(path)
    assert snapshot(a) == snapshot(b)
    x = [0.25, -1.5]
    assert a(x).data == b(x).data  # type: ignore[union-attr]


def test_state_dict_round_trip() -> None:
    a, b = MLP(3, [5, 2], seed=1), MLP(3, [5, 2], seed=2)
    state = a.state_dict()
    assert list(state) == [name for name, _ in a.named_parameters()]
    b.load_state_dict(state)
    assert snapshot(a) == snapshot(b)


def test_the_file_is_readable_json_with_names_and_architecture(tmp_path: Path) -> None:
    path = saved(tmp_path)
    doc = json.loads(path.read_text())
    assert doc["format"] == "adjointgrad.nn" and doc["num_parameters"] == 17
    assert doc["architecture"] == {
        "type": "MLP", "nin": 2, "nouts": [4, 1], "activation": "relu",
        "output_activation": "linear",
    }
    assert next(iter(doc["parameters"])) == "layers.0.neurons.0.w.0"


@pytest.mark.parametrize(
    "model",
    [MLP(2, [3, 2], activation="leaky_relu", negative_slope=0.2, seed=0),
     Layer(3, 2, activation="tanh", seed=0), Neuron(4, activation="sigmoid", seed=0)],
)
def test_load_model_rebuilds_the_architecture(tmp_path: Path, model: nn.Module) -> None:
    path = model.save(tmp_path / "m.json")
    back = nn.load_model(path)
    assert type(back) is type(model) and back.config() == model.config()
    assert snapshot(back) == snapshot(model)
    config = back.config()
    assert config is not None
    x = [0.5, -0.25, 1.0, 2.0][: config["nin"]]
    out_back, out_model = back(x), model(x)  # type: ignore[operator]
    assert nn_outputs(out_back) == nn_outputs(out_model)


# -- refusals: the model must stay exactly as it was --------------------------------------------


def refuses(model: nn.Module, path: Path, message: str) -> None:
    before = snapshot(model)
    with pytest.raises(ValueError, match=message):
        model.load(path)
    assert snapshot(model) == before


def test_a_file_for_another_architecture(tmp_path: Path) -> None:
    path = saved(tmp_path, MLP(2, [8, 1], seed=0))
    refuses(
        MLP(2, [16, 16, 1], seed=0), path,
        r"holds MLP\(nin=2, nouts=\[8, 1\].* but this model is MLP\(nin=2, nouts=\[16, 16, 1\]",
    )
    # same shapes, other activation: the weights would load but mean something else
    path = saved(tmp_path, MLP(2, [4, 1], activation="tanh", seed=0))
    refuses(MLP(2, [4, 1], seed=0), path, "activation='tanh'")


def test_a_file_without_architecture_is_checked_by_names(tmp_path: Path) -> None:
    path = saved(tmp_path, MLP(2, [8, 1], seed=0))
    edit(path, lambda d: d.update(architecture=None))
    refuses(MLP(2, [4, 1], seed=0), path, r"16 unexpected .*'layers.0.neurons.4.w.0'")


def test_a_missing_parameter(tmp_path: Path) -> None:
    path = saved(tmp_path)

    def drop(d: dict[str, Any]) -> None:
        del d["parameters"]["layers.1.neurons.0.b"]
        d["num_parameters"] -= 1

    edit(path, drop)
    refuses(MLP(2, [4, 1], seed=0), path, r"1 missing \('layers.1.neurons.0.b'\)")


def test_an_extra_parameter(tmp_path: Path) -> None:
    path = saved(tmp_path)

    def add(d: dict[str, Any]) -> None:
        d["parameters"]["layers.1.neurons.0.w.9"] = 1.0
        d["num_parameters"] += 1

    edit(path, add)
    refuses(MLP(2, [4, 1], seed=0), path, r"1 unexpected \('layers.1.neurons.0.w.9'\)")


def test_a_count_that_disagrees_with_the_parameters(tmp_path: Path) -> None:
    path = saved(tmp_path)
    edit(path, lambda d: d.update(num_parameters=18))
    refuses(MLP(2, [4, 1], seed=0), path, "says it holds 18 parameters but has 17")


@pytest.mark.parametrize("bad", ["0.5", None, True, [1.0], {"v": 1}])
def test_a_non_number(tmp_path: Path, bad: object) -> None:
    path = saved(tmp_path)
    edit(path, lambda d: d["parameters"].update({"layers.0.neurons.2.w.1": bad}))
    refuses(MLP(2, [4, 1], seed=0), path, "parameter 'layers.0.neurons.2.w.1' is .* not a number")


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_not_numbers(tmp_path: Path, token: str) -> None:
    path = saved(tmp_path)
    text = path.read_text()
    first = next(iter(json.loads(text)["parameters"].values()))
    path.write_text(text.replace(repr(first), token, 1))
    refuses(MLP(2, [4, 1], seed=0), path, f"{token} is not a number")


def test_huge_numbers_are_refused(tmp_path: Path) -> None:
    path = saved(tmp_path)
    text = path.read_text()
    first = next(iter(json.loads(text)["parameters"].values()))
    path.write_text(text.replace(repr(first), "1e999", 1))  # json reads it as inf
    refuses(MLP(2, [4, 1], seed=0), path, "inf, not a finite number")


def test_corrupt_and_truncated_json(tmp_path: Path) -> None:
    path = saved(tmp_path)
    text = path.read_text()
    path.write_text(text[: len(text) // 2])
    refuses(MLP(2, [4, 1], seed=0), path, "is not valid JSON .*line")
    path.write_bytes(b"\xff\xfe garbage")
    refuses(MLP(2, [4, 1], seed=0), path, "not UTF-8")
    path.write_text("[1, 2, 3]")
    refuses(MLP(2, [4, 1], seed=0), path, "not an adjointgrad model file")


def test_duplicate_names_in_the_file(tmp_path: Path) -> None:
    path = saved(tmp_path)
    text = path.read_text().replace(
        '"layers.0.neurons.0.w.1"', '"layers.0.neurons.0.w.0"', 1
    )
    path.write_text(text)
    refuses(MLP(2, [4, 1], seed=0), path, "duplicate key 'layers.0.neurons.0.w.0'")


def test_a_newer_format_version(tmp_path: Path) -> None:
    path = saved(tmp_path)
    edit(path, lambda d: d.update(version=99))
    refuses(MLP(2, [4, 1], seed=0), path, "format version 99")


def test_load_state_dict_checks_before_changing() -> None:
    model = MLP(2, [4, 1], seed=0)
    before = snapshot(model)
    last = "layers.1.neurons.0.b"
    state: dict[str, object] = {k: 0.0 for k in model.state_dict()}
    state[last] = "x"
    with pytest.raises(ValueError, match=r"'layers\.1\.neurons\.0\.b' is str"):
        model.load_state_dict(state)
    assert snapshot(model) == before  # not even the earlier, valid entries were applied
    with pytest.raises(ValueError, match="expected a mapping"):
        model.load_state_dict([1.0, 2.0])


# -- atomic writes -----------------------------------------------------------------------------


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name != "model.json")


@pytest.mark.parametrize("fail_at", ["os.replace", "os.fsync"])
def test_a_crash_while_saving_leaves_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fail_at: str
) -> None:
    old = MLP(2, [4, 1], seed=0)
    path = old.save(tmp_path / "model.json")
    original = path.read_bytes()

    def crash(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(fail_at, crash)
    with pytest.raises(OSError, match="disk full"):
        MLP(2, [4, 1], seed=5).save(path)
    monkeypatch.undo()
    assert path.read_bytes() == original
    assert leftovers(tmp_path) == []  # the temporary file was removed
    fresh = MLP(2, [4, 1], seed=9)
    fresh.load(path)
    assert snapshot(fresh) == snapshot(old)


def test_save_refuses_non_finite_parameters_and_writes_nothing(tmp_path: Path) -> None:
    model = MLP(2, [4, 1], seed=0)
    model.parameters()[3].data = float("nan")
    with pytest.raises(ValueError, match=r"'layers\.0\.neurons\.1\.w\.0' is nan.*nothing was written"):
        model.save(tmp_path / "model.json")
    assert list(tmp_path.iterdir()) == []


def test_save_keeps_an_existing_files_permissions(tmp_path: Path) -> None:
    path = saved(tmp_path)
    os.chmod(path, 0o600)
    MLP(2, [4, 1], seed=3).save(path)
    assert path.stat().st_mode & 0o777 == 0o600


def test_load_model_needs_an_architecture(tmp_path: Path) -> None:
    path = saved(tmp_path)
    edit(path, lambda d: d.update(architecture=None))
    with pytest.raises(ValueError, match="records no architecture"):
        ser.load_model(path)
