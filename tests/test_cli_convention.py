"""Issue 13, one CLI convention: shared value parsers, choices= listed by --help and checked before
torch is imported, --hidden-seed (with the old --hidden as a deprecated alias), one file pattern and
one --assignment flag, the submission map from the registry, atomic zips, a quiet end on a closed pipe."""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from course_nn import cli, registry
from course_nn.grading import options

ROOT = Path(__file__).resolve().parents[1]
SOLUTION = ROOT / "solutions" / "hw1_autograd" / "functions.py"

# Runs course-nn in a fresh interpreter and reports, as JSON, the exit status and whether torch got imported.
PROBE = """
import json, sys
from course_nn.cli import main
try:
    rc = main(sys.argv[1:])
except SystemExit as exit:
    rc = exit.code
print(json.dumps({"rc": rc, "torch": "torch" in sys.modules}))
"""


def probe(*args: str) -> tuple[dict, str, str]:
    """(exit status and torch-imported flag, stdout before the probe line, stderr) of ``course-nn ARGS``."""
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)
    *out, last = done.stdout.strip().splitlines()
    return json.loads(last), "\n".join(out), done.stderr


def subparser(*path: str) -> argparse.ArgumentParser:
    """The parser of ``course-nn PATH...`` (e.g. "handout", "build")."""
    parser = cli.build_parser(path[0])
    for name in path:
        action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = action.choices[name]
    return parser


# ----------------------------------------------------------------------------- choices and one-line errors


@pytest.mark.parametrize(("args", "words"), [
    (["train", "--device", "gpu"], "unknown device 'gpu' (--device); choose one of auto, cpu, cuda"),
    (["compare", "--device", "tpu"], "unknown device 'tpu' (--device); choose one of auto, cpu, cuda"),
    (["bench", "--device", "auto"], "unknown device 'auto' (--device); choose one of cpu, cuda"),
    (["train", "--task", "spirals"], "unknown task 'spirals' (--task); choose one of spiral, xor, circles"),
    (["compare", "--model", "cnn"], "unknown model 'cnn' (--model); choose one of mlp, logreg"),
    (["train", "--activation", "tanh"], "unknown activation 'tanh' (--activation); choose one of relu, sigmoid"),
    (["train", "--features", "cubic"], "unknown features 'cubic' (--features); choose one of raw, quadratic"),
    (["train", "--nproc", "0"], "--nproc '0' is below 1"),
    (["train", "--threads", "many"], "--threads 'many' is not a whole number"),
    (["trace", "--net", "cnn"], "unknown net 'cnn' (--net); choose one of mlp, relu, regression, paths"),
    (["check", "x.py", "-a", "hw9"], "unknown assignment 'hw9' (--assignment); choose one of hw1, hw2"),
    (["train", "--hidden", "64,,64"], "--hidden '64,,64': a size is missing"),
    (["train", "--epochs", "0"], "--epochs '0' is below 1"),
    (["compare", "--batch-size", "x"], "--batch-size 'x' is not a whole number"),
    (["trace", "--seed", "-1"], "--seed '-1' is negative"),
    (["grade", "x.py", "--memory", "lots"], "--memory 'lots' is not a size"),
    (["grade-batch", "d", "-a", "hw1", "--csv", "g.csv", "--jobs", "0"], "--jobs '0' is below 1"),
    (["bench", "--batches", "1,,x"], "--batches '1,,x' is not a list of batch sizes"),
    (["grade", "x.py", "--replay", "not-hex"], "--replay 'not-hex' is not a run id"),
])
def test_bad_value_is_one_line_exit_2_before_torch_is_imported(args, words):
    result, out, err = probe(*args)
    assert result == {"rc": 2, "torch": False}, err
    assert out == "" and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert words in err and f"course-nn {args[0]}" in err


@pytest.mark.parametrize(("command", "values"), [
    ("train", ["auto", "cpu", "cuda", "spiral", "fashion-mnist", "mlp", "logreg", "relu", "sigmoid", "raw",
               "quadratic", "--nproc", "--threads", "--hw2", "GLOBAL batch"]),
    ("compare", ["auto", "cpu", "cuda", "sine", "mnist", "mlp", "logreg", "relu", "sigmoid", "float32"]),
    ("trace", ["mlp", "relu", "regression", "paths"]),
    ("bench", ["cpu", "cuda"]),
    ("check", ["hw1", "hw2"]),
    ("grade", ["hw1", "hw2"]),
    ("grade-batch", ["hw1", "hw2"]),
])
def test_help_lists_the_valid_values_without_importing_torch(command, values):
    result, out, err = probe(command, "--help")
    assert result == {"rc": 0, "torch": False}, err
    for value in values:
        assert value in out, f"{value} missing from course-nn {command} --help"


@pytest.mark.parametrize("path", [("handout", "build"), ("autograder", "build")])
def test_build_help_lists_the_assignments(path):
    text = subparser(*path).format_help()
    assert "--assignment" in text and "-a" in text and "hw1" in text and "hw2" in text


def test_an_unknown_command_is_one_line_naming_the_commands():
    result, _, err = probe("trian")
    assert result["rc"] == 2 and len(err.strip().splitlines()) == 1
    assert "unknown command 'trian'" in err and "train" in err and "grade-batch" in err


# ----------------------------------------------------------------------------- --hidden-seed


def test_hidden_seed_is_the_flag_and_hidden_is_a_deprecated_alias(capsys):
    for command in ("grade", "grade-batch"):
        parser = subparser(command)
        new = parser.parse_args(["p", "-a", "hw1", "--csv", "g.csv", "--hidden-seed", "s.json"]
                                if command == "grade-batch" else ["p", "--hidden-seed", "s.json"])
        assert new.hidden_seed == "s.json" and capsys.readouterr().err == ""
        old = parser.parse_args(["p", "-a", "hw1", "--csv", "g.csv", "--hidden", "s.json"]
                                if command == "grade-batch" else ["p", "--hidden", "s.json"])
        assert old.hidden_seed == "s.json"
        note = capsys.readouterr().err.strip().splitlines()
        assert len(note) == 1 and "--hidden is deprecated" in note[0] and "--hidden-seed s.json" in note[0]
        assert "--hidden-seed" in parser.format_help()
        assert "--hidden " not in parser.format_usage().replace("--hidden-seed", "")  # the old one: not offered
        assert next(a for a in parser._actions if "--hidden" in a.option_strings).help == argparse.SUPPRESS


@pytest.mark.sandbox
def test_the_old_hidden_spelling_still_grades_with_that_seed(tmp_path):
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({"seed": 4242}))
    done = subprocess.run([sys.executable, "-m", "course_nn", "grade", str(SOLUTION), "-a", "hw1", "--hidden",
                           str(seed)], capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert done.returncode == 0, done.stderr
    assert f"hidden cases from {seed}" in done.stdout
    assert "--hidden is deprecated" in done.stderr and "--hidden-seed" in done.stderr


# ----------------------------------------------------------------------------- one file pattern, one --assignment


def test_every_command_lives_in_a_cli_verb_module():
    for name, (module, _help) in cli.COMMANDS.items():
        package, _, leaf = module.rpartition(".")
        assert package.startswith("course_nn.") and leaf.startswith("cli_"), f"{name}: {module}"
        mod = importlib.import_module(module)
        assert callable(mod.add_arguments) and callable(mod.run) and mod.__doc__
    leftovers = [p for p in (ROOT / "course_nn").glob("*/cli.py")]
    assert leftovers == [], f"commands must be <package>/cli_<verb>.py: {leftovers}"


@pytest.mark.parametrize("path", [("check",), ("grade",), ("grade-batch",), ("handout", "build"),
                                  ("autograder", "build")])
def test_the_assignment_is_passed_the_same_way(path):
    flags = {s: a for a in subparser(*path)._actions for s in a.option_strings}
    assert flags["--assignment"] is flags["-a"]
    assert tuple(flags["--assignment"].choices) == registry.ASSIGNMENTS


def test_builds_still_accept_the_old_positional_assignment_with_a_note(capsys):
    args = subparser("handout", "build").parse_args(["hw2", "--out", "b"])
    assert args.legacy_assignment == "hw2" and args.assignment is None
    assert "write --assignment hw2" in capsys.readouterr().err


def test_submission_file_to_assignment_comes_from_the_registry(monkeypatch, tmp_path):
    real = registry.get
    renamed = dataclasses.replace(real("hw2"), submission="network.py")
    monkeypatch.setattr(registry, "get", lambda name: renamed if name == "hw2" else real(name))
    upload = tmp_path / "network.py"
    upload.write_text("x = 1\n")  # defines nothing: only the file name can tell
    assert options.submission_to_assignment()["network.py"] == "hw2"
    assert options.assignment_for(str(upload), None) is renamed


# ----------------------------------------------------------------------------- zips written atomically


@pytest.mark.parametrize("command", [["handout", "build"], ["autograder", "build"]])
def test_a_failed_zip_write_leaves_the_old_zip_and_no_temp_file(command, tmp_path, monkeypatch, capsys):
    out = tmp_path / "bundle.zip"
    out.write_bytes(b"the previous zip")
    calls = {"n": 0}
    real = zipfile.ZipFile.writestr

    def disk_full(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(28, "No space left on device")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "writestr", disk_full)
    rc = cli.main([*command, "-a", "hw1", "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert rc == 1 and len(err.splitlines()) == 1 and "No space left on device" in err
    assert out.read_bytes() == b"the previous zip"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle.zip"]


# ----------------------------------------------------------------------------- closed stdout


@pytest.mark.sandbox
def test_a_closed_stdout_ends_quietly():
    """course-nn grade ... | head: the reader is gone before grade prints; no traceback, 0 or 141."""
    proc = subprocess.Popen([sys.executable, "-m", "course_nn", "grade", str(SOLUTION), "-a", "hw1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT, env=os.environ.copy())
    proc.stdout.close()  # like head after its lines: every write to stdout now fails with EPIPE
    err = proc.stderr.read().decode()
    rc = proc.wait(timeout=600)
    assert rc in (0, 141), err
    assert "Traceback" not in err and "BrokenPipe" not in err and "Exception ignored" not in err
