"""Saving and loading: exact round trips, atomic writes, and every bad file refused with the
model left exactly as it was."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

import nn
from autograd import Value
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


# -- hostile and unlucky files (issue 12) -------------------------------------------------------


def forged(tmp_path: Path, architecture: object, parameters: dict[str, float] | None = None,
           **extra: object) -> Path:
    """A model file written by hand, as an attacker or a broken tool would."""
    params = {"w": 1.0} if parameters is None else parameters
    doc = {"format": "adjointgrad.nn", "version": 1, "architecture": architecture,
           "num_parameters": len(params), "parameters": params, **extra}
    path = tmp_path / "forged.json"
    path.write_text(json.dumps(doc))
    return path


def never_build(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any Neuron construction fail loudly: the loader must refuse before building."""
    def boom(self: object, *args: object, **kwargs: object) -> None:
        raise AssertionError("a Neuron was built for a file that should have been refused")

    monkeypatch.setattr(nn.modules.Neuron, "__init__", boom)


@pytest.mark.parametrize(
    ("architecture", "implied"),
    [
        ({"type": "MLP", "nin": 2000, "nouts": [2000, 1]}, 2000 * 2001 + 2001),
        ({"type": "MLP", "nin": 100000, "nouts": [1]}, 100001),
        ({"type": "Layer", "nin": 10**12, "nout": 10**12}, 10**12 * (10**12 + 1)),
        ({"type": "Neuron", "nin": 10**9}, 10**9 + 1),
    ],
)
def test_an_architecture_bomb_is_refused_before_building(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, architecture: dict[str, Any], implied: int
) -> None:
    path = forged(tmp_path, architecture)
    assert path.stat().st_size < 300  # a few bytes of file ...
    never_build(monkeypatch)  # ... must not make the loader build anything
    with pytest.raises(ValueError, match=rf"has {implied} parameters but the file holds 1; "
                                         "refused before building anything"):
        nn.load_model(path)


def test_an_architecture_whose_count_matches_is_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = MLP(3, [2, 2], seed=4)
    path = forged(tmp_path, model.config(), model.state_dict())
    assert snapshot(nn.load_model(path)) == snapshot(model)
    never_build(monkeypatch)  # the same file with one parameter too many: refused unbuilt
    params = {**model.state_dict(), "layers.9.neurons.0.b": 0.0}
    with pytest.raises(ValueError, match="has 14 parameters but the file holds 15"):
        nn.load_model(forged(tmp_path, model.config(), params))


@pytest.mark.parametrize(
    ("architecture", "message"),
    [
        ({"type": "MLP", "nin": True, "nouts": [1]}, "MLP nin must be a positive int"),
        ({"type": "MLP", "nin": 2, "nouts": "16"}, "nouts must be a non-empty list"),
        ({"type": "MLP", "nin": 2, "nouts": [1, -4]}, r"MLP nouts\[1\] must be a positive int"),
        ({"type": "Layer", "nin": 1.5, "nout": 1}, "Layer nin must be a positive int"),
        ({"type": "Neuron"}, "Neuron nin must be a positive int"),
        ({"type": "Bomb", "nin": 1}, "unknown module type 'Bomb'; known types: .*MLP"),
        ({"nin": 1}, "unknown module type None"),
    ],
)
def test_bad_architectures_are_refused_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, architecture: dict[str, Any], message: str
) -> None:
    never_build(monkeypatch)
    with pytest.raises(ValueError, match=message):
        nn.load_model(forged(tmp_path, architecture))


@pytest.mark.parametrize(
    "text",
    ["[" * 100_000, '{"a":' * 100_000, '{"format": "adjointgrad.nn", "x": ' + "[" * 50_000],
)
def test_deeply_nested_json_is_a_value_error_naming_the_file(tmp_path: Path, text: str) -> None:
    path = tmp_path / "deep.json"
    path.write_text(text)
    with pytest.raises(ValueError, match=r"'.*deep\.json' .*nested too deeply"):
        nn.load_model(path)
    refuses(MLP(2, [4, 1], seed=0), path, "nested too deeply")


def test_a_deeply_nested_parameter_value_is_described_not_printed(tmp_path: Path) -> None:
    path = saved(tmp_path)
    text = path.read_text()
    first = next(iter(json.loads(text)["parameters"].values()))
    path.write_text(text.replace(repr(first), "[" * 900 + "]" * 900, 1))
    refuses(MLP(2, [4, 1], seed=0), path, r"'layers\.0\.neurons\.0\.w\.0' is list of 1 item, not a")


def test_a_deeply_nested_architecture_is_refused(tmp_path: Path) -> None:
    nested: object = 1
    for _ in range(200):  # within what json reads, beyond what an architecture needs
        nested = [nested]
    path = forged(tmp_path, {"type": "MLP", "nin": 2, "nouts": nested})
    deep = r"forged\.json': architecture 'nouts\[0\]\[0\].*\.\.\.' is nested more than 32 deep"
    with pytest.raises(ValueError, match=deep):
        nn.load_model(path)


@pytest.mark.parametrize("version", [0, -1, 2, 99])
def test_only_known_format_versions_load(tmp_path: Path, version: int) -> None:
    path = saved(tmp_path)
    edit(path, lambda d: d.update(version=version))
    refuses(MLP(2, [4, 1], seed=0), path, f"format version {version}.*reads version 1")
    with pytest.raises(ValueError, match=f"format version {version}"):
        nn.load_model(path)


@pytest.mark.parametrize("slope", ["1e999", "-1e999"])
def test_a_non_finite_hyperparameter_in_a_file_is_refused(tmp_path: Path, slope: str) -> None:
    model = MLP(2, [3, 1], activation="leaky_relu", negative_slope=0.25, seed=0)
    path = model.save(tmp_path / "m.json")
    path.write_text(path.read_text().replace('"negative_slope": 0.25', f'"negative_slope": {slope}'))
    with pytest.raises(ValueError, match=r"m\.json': architecture 'negative_slope' is -?inf, not a "
                                         "finite number"):
        nn.load_model(path)
    refuses(model, path, "'negative_slope' is -?inf")


@pytest.mark.parametrize("bad", [float("inf"), float("-inf"), float("nan"), 1e400])
@pytest.mark.parametrize(
    "make",
    [
        lambda s: Neuron(2, activation="leaky_relu", negative_slope=s),
        lambda s: Layer(2, 2, activation="leaky_relu", negative_slope=s),
        lambda s: MLP(2, [2, 1], activation="leaky_relu", negative_slope=s),
        lambda s: MLP(2, [2, 1], negative_slope=s),  # refused even where it is unused
    ],
)
def test_constructors_refuse_non_finite_hyperparameters(make: Any, bad: float) -> None:
    with pytest.raises(ValueError, match=r"negative_slope must be a finite number, got (-?inf|nan)"):
        make(bad)


@pytest.mark.parametrize("bad", ["0.1", None, True])
def test_constructors_refuse_non_numbers_as_hyperparameters(bad: object) -> None:
    with pytest.raises(TypeError, match="MLP negative_slope must be a finite number"):
        MLP(2, [2, 1], negative_slope=bad)  # type: ignore[arg-type]


TEMP_NAME = r"\.model\.json\.adjointgrad-tmp-\d+-[0-9a-f]{8}"


def test_a_killed_save_leaves_a_recognisable_file_that_the_next_save_removes(
    tmp_path: Path,
) -> None:
    import re
    import signal
    import subprocess
    import sys

    path = saved(tmp_path)
    original = path.read_bytes()
    script = (
        "import os, signal, sys\n"
        "import nn\n"
        "os.replace = lambda *a: os.kill(os.getpid(), signal.SIGKILL)\n"  # killed just before the rename
        "nn.MLP(2, [4, 1], seed=7).save(sys.argv[1])\n"
    )
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-c", script, str(path)], cwd=root, timeout=60)
    assert done.returncode == -signal.SIGKILL
    left = leftovers(tmp_path)
    assert len(left) == 1 and re.fullmatch(TEMP_NAME, left[0]), left
    assert path.read_bytes() == original  # the kill changed nothing the user saved
    MLP(2, [4, 1], seed=8).save(path)
    assert leftovers(tmp_path) == []


def test_cleanup_spares_live_writers_and_other_files(tmp_path: Path) -> None:
    path = saved(tmp_path)
    live = tmp_path / ".model.json.adjointgrad-tmp-1-0123abcd"  # pid 1 is always running
    mine = tmp_path / f".model.json.adjointgrad-tmp-{os.getpid()}-0123abcd"  # not being written
    lookalike = tmp_path / ".model.json.adjointgrad-tmp-notes"
    no_pid = tmp_path / ".model.json.adjointgrad-tmp-9999999999-0123abcd"  # beyond any pid
    folder = tmp_path / ".model.json.adjointgrad-tmp-999999999-0123abcd"
    other = tmp_path / ".other.json.adjointgrad-tmp-999999999-0123abcd"
    for p in (live, mine, lookalike, no_pid, other):
        p.write_text("x")
    folder.mkdir()
    MLP(2, [4, 1], seed=8).save(path)
    assert leftovers(tmp_path) == sorted(p.name for p in (live, lookalike, no_pid, folder, other))


def test_saving_through_a_symlink_writes_its_target(tmp_path: Path) -> None:
    real = tmp_path / "weights" / "real.json"
    real.parent.mkdir()
    MLP(2, [4, 1], seed=0).save(real)
    link = tmp_path / "latest.json"
    link.symlink_to(Path("weights") / "real.json")
    new = MLP(2, [4, 1], seed=1)
    assert new.save(link) == link
    assert link.is_symlink() and os.readlink(link) == os.path.join("weights", "real.json")
    back = MLP(2, [4, 1], seed=2)
    back.load(real)
    assert snapshot(back) == snapshot(new)
    assert sorted(p.name for p in real.parent.iterdir()) == ["real.json"]
    dangling = tmp_path / "next.json"
    dangling.symlink_to("weights/created.json")
    new.save(dangling)
    assert dangling.is_symlink() and (real.parent / "created.json").is_file()


def test_saving_to_a_loop_of_links_is_refused_by_name(tmp_path: Path) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.symlink_to(b)
    b.symlink_to(a)
    with pytest.raises(OSError, match=r"a\.json"):
        MLP(2, [4, 1], seed=0).save(a)
    assert a.is_symlink() and b.is_symlink()


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_a_new_file_honours_the_umask(tmp_path: Path, umask: int, mode: int) -> None:
    old = os.umask(umask)
    try:
        path = saved(tmp_path)
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == mode


def test_save_errors_name_the_users_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    missing = tmp_path / "no" / "such" / "model.json"
    with pytest.raises(FileNotFoundError) as info:
        MLP(2, [4, 1], seed=0).save(missing)
    assert info.value.filename == str(missing)
    assert ".tmp" not in str(info.value) and "adjointgrad-tmp" not in str(info.value)

    path = saved(tmp_path)
    original = path.read_bytes()

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("os.fsync", full)
    with pytest.raises(OSError, match="No space left") as info2:
        MLP(2, [4, 1], seed=3).save(path)
    assert info2.value.errno == errno.ENOSPC and info2.value.filename == str(path)
    monkeypatch.undo()
    assert path.read_bytes() == original and leftovers(tmp_path) == []


# -- a user's own Module subclass: the registry (issue 7) ---------------------------------------


class ScaledCritic(nn.Module):
    """A user's module: an MLP body and a scale, rebuilt from its config by ScaledCritic(**kwargs)."""

    def __init__(self, nin: int, width: int = 4, scale: float = 1.0) -> None:
        self.body = MLP(nin, [width, 1], seed=0)
        self.gain = nn.Neuron(1, activation="linear", seed=1)
        self._args = {"nin": nin, "width": width, "scale": scale}

    def __call__(self, x: list[float]) -> Any:
        hidden = self.body(x)
        assert isinstance(hidden, Value)
        return self.gain([hidden]) * self._args["scale"]

    def config(self) -> dict[str, Any]:
        return dict(self._args)


def test_a_users_module_is_saved_and_loaded(tmp_path: Path) -> None:
    model = ScaledCritic(3, width=5, scale=0.5)
    for p in model.parameters():
        p.data += 0.125
    path = model.save(tmp_path / "critic.json")
    assert json.loads(path.read_text())["architecture"] == {
        "type": "ScaledCritic", "nin": 3, "width": 5, "scale": 0.5
    }
    back = nn.load_model(path)
    assert type(back) is ScaledCritic and back.config() == model.config()
    assert snapshot(back) == snapshot(model)
    assert back([1.0, 2.0, 3.0]).data == model([1.0, 2.0, 3.0]).data  # type: ignore[operator]
    ScaledCritic(3, width=5, scale=0.5).load(path)  # load into an existing one checks the config
    with pytest.raises(ValueError, match=r"holds ScaledCritic\(nin=3, width=5, scale=0.5\) but this"):
        ScaledCritic(3, width=5, scale=2.0).load(path)


def test_without_parameter_count_the_model_is_built_then_checked(tmp_path: Path) -> None:
    path = ScaledCritic(2).save(tmp_path / "critic.json")
    edit(path, lambda d: d["architecture"].update(width=6))
    with pytest.raises(ValueError, match=r"does not match this ScaledCritic: parameters .*missing"):
        nn.load_model(path)


class CountedBag(nn.Module):
    """A user's module that says how many parameters a config means, so bombs are refused."""

    built = 0

    def __init__(self, n: int) -> None:
        CountedBag.built += 1
        self.w = [Value(0.0) for _ in range(n)]

    def config(self) -> dict[str, Any]:
        return {"n": len(self.w)}

    @classmethod
    def parameter_count(cls, config: dict[str, Any]) -> int:
        return int(config["n"])


def test_a_users_parameter_count_refuses_a_bomb_unbuilt(tmp_path: Path) -> None:
    path = CountedBag(3).save(tmp_path / "c.json")
    assert snapshot(nn.load_model(path)) == [0.0, 0.0, 0.0]
    edit(path, lambda d: d["architecture"].update(n=10**12))
    before = CountedBag.built
    with pytest.raises(ValueError, match=r"CountedBag\(n=1000000000000\) has 1000000000000 parameters "
                                         "but the file holds 3; refused before building"):
        nn.load_model(path)
    assert CountedBag.built == before


class LiarBag(CountedBag):
    @classmethod
    def parameter_count(cls, config: dict[str, Any]) -> int:
        return 1


class ForgetfulCritic(ScaledCritic):
    def config(self) -> dict[str, Any]:
        return {"nin": 2, "depth": 3}


def test_a_wrong_parameter_count_or_config_is_refused_when_saving(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"LiarBag.parameter_count\(config\) gives 1 but the model has 2"):
        LiarBag(2).save(tmp_path / "m.json")
    with pytest.raises(ValueError, match=r"ForgetfulCritic\(\.\.\.\) does not take.*nothing was written"):
        ForgetfulCritic(2).save(tmp_path / "m.json")
    assert list(tmp_path.iterdir()) == []


class RecipeNet(nn.Module):
    """A module built by a from_config classmethod (its constructor takes no keywords)."""

    def __init__(self, sizes: tuple[int, ...]) -> None:
        self.layers = [Layer(a, b, seed=0) for a, b in zip(sizes, sizes[1:])]

    def config(self) -> dict[str, Any]:
        return {"sizes": (self.layers[0].nin, *[layer.nout for layer in self.layers])}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> RecipeNet:
        return cls(tuple(config["sizes"]))


def test_from_config_is_used_and_tuples_compare_as_lists(tmp_path: Path) -> None:
    model = RecipeNet((2, 3, 1))
    path = model.save(tmp_path / "r.json")
    back = nn.load_model(path)
    assert type(back) is RecipeNet and snapshot(back) == snapshot(model)
    RecipeNet((2, 3, 1)).load(path)  # the tuple in config() matches the list in the file


class WideMLP(MLP):
    """A subclass that keeps MLP's constructor: MLP's from_config and parameter_count apply."""


class FixedMLP(MLP):
    """A subclass with its own constructor: MLP's from_config and parameter_count do not."""

    def __init__(self, width: int) -> None:
        super().__init__(2, [width, 1], seed=0)

    def config(self) -> dict[str, Any]:
        return {"width": self.nouts[0]}


@pytest.mark.parametrize("model", [WideMLP(2, [3, 1], seed=5), FixedMLP(3)])
def test_subclasses_of_nn_modules_load_as_themselves(tmp_path: Path, model: MLP) -> None:
    import random

    path = model.save(tmp_path / "m.json")
    assert json.loads(path.read_text())["architecture"]["type"] == type(model).__name__
    state = random.getstate()
    back = nn.load_model(path)
    assert type(back) is type(model) and snapshot(back) == snapshot(model)
    if type(model) is WideMLP:
        assert random.getstate() == state  # built with zero weights: no random draws


def test_nn_modules_do_not_touch_the_global_random_state_when_loaded(tmp_path: Path) -> None:
    import random

    path = saved(tmp_path, MLP(2, [16, 16, 1], seed=0))
    random.seed(3)
    nn.load_model(path)
    assert random.random() == random.Random(3).random()


def make_class(name: str, qualname: str) -> type[nn.Module]:
    """A Module subclass named `name`, as if defined at `qualname` in another file."""
    def init(self: nn.Module) -> None:
        self.w = Value(1.0)

    return type(name, (nn.Module,), {
        "__init__": init, "__qualname__": qualname, "__module__": f"user_{qualname}",
        "config": lambda self: {},
    })


def test_two_classes_of_one_name_are_refused_until_one_is_renamed(tmp_path: Path) -> None:
    first = make_class("Twin", "a")
    path = first().save(tmp_path / "first.json")
    assert type(nn.load_model(path)) is first
    second = make_class("Twin", "b")  # the name now means two classes
    with pytest.raises(ValueError, match=r"module type 'Twin' is ambiguous: .*user_a\.a, user_b\.b"):
        nn.load_model(path)
    with pytest.raises(ValueError, match=r"user_b\.b cannot be saved by name: other Module classes "
                                         r"are also named 'Twin' \(user_a\.a\); .*register_module"):
        second().save(tmp_path / "second.json")
    assert nn.register_module(second, name="Twin2") is second
    assert type(nn.load_model(path)) is first  # 'Twin' is first's again
    path2 = second().save(tmp_path / "second.json")
    assert json.loads(path2.read_text())["architecture"]["type"] == "Twin2"
    assert type(nn.load_model(path2)) is second
    again = make_class("Twin", "a")  # the same class defined again (a re-run cell) replaces it
    assert type(nn.load_model(path)) is again


def test_a_users_class_cannot_take_a_name_nn_uses(tmp_path: Path) -> None:
    mine = make_class("MLP", "mine")
    path = saved(tmp_path, MLP(2, [4, 1], seed=0))
    assert type(nn.load_model(path)) is MLP
    with pytest.raises(ValueError, match=r"the name 'MLP' belongs to nn\.modules\.MLP"):
        mine().save(tmp_path / "mine.json")
    with pytest.raises(ValueError, match=r"'MLP' is already registered for nn\.modules\.MLP"):
        nn.register_module(mine, name="MLP")
    nn.register_module(mine, name="MyMLP")
    assert type(nn.load_model(mine().save(tmp_path / "mine.json"))) is mine


def test_a_class_made_inside_a_function_is_registered_only_when_asked(tmp_path: Path) -> None:
    class Local(nn.Module):
        def __init__(self) -> None:
            self.w = Value(2.0)

        def config(self) -> dict[str, Any]:
            return {}

    with pytest.raises(ValueError, match="defined inside a function, so it is not registered"):
        Local().save(tmp_path / "local.json")
    assert list(tmp_path.iterdir()) == []
    nn.register_module(Local, name="LocalForTest")
    assert type(nn.load_model(Local().save(tmp_path / "local.json"))) is Local


def test_register_module_checks_its_arguments() -> None:
    with pytest.raises(TypeError, match=r"expects a subclass of nn\.Module"):
        nn.register_module(dict)  # type: ignore[type-var]
    with pytest.raises(ValueError, match="printable, non-empty str"):
        nn.register_module(ScaledCritic, name="")
    with pytest.raises(ValueError, match="printable, non-empty str"):
        nn.register_module(ScaledCritic, name="a\nb")


def test_every_registered_nn_class_with_parameter_count_agrees_with_what_it_builds() -> None:
    from nn.registry import _REGISTRY

    models = [Neuron(3, seed=0), Layer(3, 2, seed=0), MLP(2, [3, 1], seed=0)]
    for model in models:
        cls = type(model)
        config = model.config()
        assert config is not None and config["type"] == cls.__name__ in _REGISTRY
        kwargs = {k: v for k, v in config.items() if k != "type"}
        assert cls.parameter_count(kwargs) == model.num_parameters()  # type: ignore[attr-defined]


def test_the_transformer_modules_load_through_the_registry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "GPT" not in Path(ser.__file__).read_text()  # serialize names no module class
    models: list[nn.Module] = [
        nn.GPT(vocab=5, block=4, dim=4, heads=2, layers=1, seed=0),
        nn.Linear(3, 2, seed=0), nn.Embedding(4, 3, seed=0), nn.LayerNorm(3),
        nn.TransformerBlock(4, 2, seed=0),
    ]
    for model in models:
        for p in model.parameters():
            p.data += 0.5
        back = nn.load_model(model.save(tmp_path / "t.json"))
        assert type(back) is type(model) and snapshot(back) == snapshot(model)
    path = models[0].save(tmp_path / "gpt.json")
    edit(path, lambda d: d["architecture"].update(dim=4000))

    def boom(self: object, *args: object, **kwargs: object) -> None:
        raise AssertionError("built a GPT for a file that should have been refused")

    monkeypatch.setattr(nn.GPT, "__init__", boom)
    with pytest.raises(ValueError, match="has 192056000 parameters but the file holds 248"):
        nn.load_model(path)
