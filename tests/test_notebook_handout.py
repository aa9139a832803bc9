"""The notebook handout: generated from solutions/ like the .py one, deterministic, leak-free, and,
executed headless (nbclient), every check passes with the solutions filled in and says "not
implemented" with the stubs, without a traceback."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from course_nn import registry
from course_nn.grading import submission
from course_nn.handout import notebook, sync

ROOT = Path(__file__).resolve().parents[1]


def course_nn(*args: str, cwd: Path = ROOT, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "course_nn", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=600)


def committed(name: str) -> dict:
    a = registry.get(name)
    return json.loads((ROOT / "assignments" / a.folder / f"{a.folder}.ipynb").read_text())


def solution_parts(name: str) -> dict[str, str]:
    """Each task's code as a student who finished would have it: the reference, split like the stub."""
    a = registry.get(name)
    return dict(notebook.code_parts((ROOT / "solutions" / a.folder / a.submission).read_text(), a))


def completed(nb: dict, name: str) -> dict:
    """``nb`` with every graded cell holding the reference's code for its task."""
    parts = solution_parts(name)
    for cell in nb["cells"]:
        for t in cell["metadata"].get("tags", []):
            found = submission.parse_tag(t)
            if found:
                cell["source"] = parts[found[1]].splitlines(keepends=True)
    return nb


def marked(nb: dict) -> dict[str, dict]:
    return {submission.parse_tag(t)[1]: c for c in nb["cells"] for t in c["metadata"].get("tags", [])
            if submission.parse_tag(t)}


# ----------------------------------------------------------------------------- generation


@pytest.mark.parametrize("name", registry.ASSIGNMENTS)
def test_one_tagged_code_cell_per_task_holding_the_stub_then_its_check(name):
    import nbformat

    a = registry.get(name)
    nb = committed(name)
    nbformat.validate(nbformat.reads(json.dumps(nb), as_version=4))
    cells = marked(nb)
    assert list(cells) == [t.name for t in a.tasks]  # every task of the registry, in its order, once
    stub = (ROOT / "assignments" / a.folder / a.submission).read_text()
    for task, cell in cells.items():
        code = "".join(cell["source"])
        assert cell["cell_type"] == "code" and code.strip() in stub  # the .py handout's own stub text
        assert f"is not implemented yet ({a.label(a.task(task))})" in code
        following = nb["cells"][nb["cells"].index(cell) + 1]
        assert "".join(following["source"]) == f'course.check("{task}")'
    # together, the graded cells are the .py handout (but for its docstring): nothing lost, nothing added
    assembled = submission.read_notebook(json.dumps(nb).encode(), f"{a.folder}.ipynb", a).text
    body = [ln for ln in stub.split('"""', 2)[2].splitlines() if ln.strip()]
    assert [ln for ln in assembled.splitlines() if ln.strip() and not ln.startswith("#")] == \
        [ln for ln in body if not ln.startswith("#")]


@pytest.mark.parametrize("name", registry.ASSIGNMENTS)
def test_the_notebook_is_deterministic_with_ids_from_roles(name):
    a = registry.get(name)
    first = sync.generated_files(ROOT / "solutions", a)[f"{a.folder}.ipynb"]
    again = sync.generated_files(ROOT / "solutions", a)[f"{a.folder}.ipynb"]
    assert first == again == (ROOT / "assignments" / a.folder / f"{a.folder}.ipynb").read_text()
    ids = [c["id"] for c in json.loads(first)["cells"]]
    assert len(ids) == len(set(ids)) and all(re.fullmatch(r"[A-Za-z0-9_-]{1,64}", i) for i in ids)
    assert {"colab-install", "setup", "submit"} <= set(ids)
    assert {f"code-{t.name}" for t in a.tasks} | {f"check-{t.name}" for t in a.tasks} <= set(ids)
    assert not re.search(r"20\d\d-\d\d-\d\dT", first)  # no timestamps


@pytest.mark.parametrize("name", registry.ASSIGNMENTS)
def test_the_readme_math_is_in_markdown_and_no_solution_line_is_anywhere(name):
    a = registry.get(name)
    text = notebook.cell_text((ROOT / "assignments" / a.folder / f"{a.folder}.ipynb").read_text())
    readme = (ROOT / "assignments" / a.folder / "README.md").read_text()
    assert "$$" in text and readme.splitlines()[0] in text
    secret = sync.secret_lines(ROOT / "solutions")
    assert not [line for line in secret if line in text]
    assert sync.leaks({f"{a.folder}.ipynb": (ROOT / "assignments" / a.folder / f"{a.folder}.ipynb").read_bytes()},
                      ROOT / "solutions") == []


def test_the_leak_check_reads_the_cells_not_the_json():
    line = next(iter(sync.secret_lines(ROOT / "solutions")))
    nb = committed("hw1")
    nb["cells"][5]["source"] = [f"    {line}\n"]
    assert sync.leaks({"hw1_autograd.ipynb": json.dumps(nb).encode()}, ROOT / "solutions")


def test_the_first_cell_installs_on_colab_only_from_the_one_link():
    cells = committed("hw1")["cells"]
    code = [c for c in cells if c["cell_type"] == "code"]
    install = "".join(code[0]["source"])
    assert '"google.colab" in sys.modules' in install and repr(registry.INSTALL) in install
    assert "course.setup(" in "".join(code[1]["source"])
    exec(compile(install, "install", "exec"), {})  # not on Colab: it does nothing (and does not fail)


def test_handout_check_fails_on_a_hand_edited_notebook(tmp_path):
    copy = tmp_path / "repo"
    shutil.copytree(ROOT / "solutions", copy / "solutions")
    shutil.copytree(ROOT / "assignments", copy / "assignments")
    (copy / "docs").symlink_to(ROOT / "docs")  # the pictures the README shows
    nb = copy / "assignments" / "hw1_autograd" / "hw1_autograd.ipynb"
    nb.write_text(nb.read_text().replace('course.check(\\"Sigmoid\\")', 'course.check(\\"Sigmoid\\")  # edited'))
    env = {"COURSE_NN_ROOT": str(copy)}
    result = course_nn("handout", "check", cwd=copy, env=env)
    assert result.returncode == 1 and "hw1_autograd.ipynb" in result.stdout and "# edited" in result.stdout
    assert course_nn("handout", "sync", cwd=copy, env=env).returncode == 0
    assert course_nn("handout", "check", cwd=copy, env=env).returncode == 0


def test_build_format_ipynb_writes_the_notebook_and_prints_the_colab_badge(tmp_path):
    out = tmp_path / "hw1.ipynb"
    result = course_nn("handout", "build", "-a", "hw1", "--format", "ipynb", "--out", str(out),
                       "--install", "course-nn @ https://example.edu/course_nn-0.1.0-py3-none-any.whl",
                       "--github", "example-course/nn@fall")
    assert result.returncode == 0, result.stderr
    text = out.read_text()
    assert "https://example.edu/course_nn-0.1.0-py3-none-any.whl" in text
    badge = ("[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research"
             ".google.com/github/example-course/nn/blob/fall/assignments/hw1_autograd/hw1_autograd.ipynb)")
    assert badge in result.stdout and badge in notebook.cell_text(text)
    out.write_text("{}")  # a student's notebook by that name is never replaced without --force
    again = course_nn("handout", "build", "-a", "hw1", "--out", str(out))
    assert again.returncode == 2 and "already exists" in again.stderr and out.read_text() == "{}"
    folder = course_nn("handout", "build", "-a", "hw2", "--format", "ipynb", "--out", str(tmp_path))
    assert folder.returncode == 0 and (tmp_path / "hw2_mlp.ipynb").is_file()
    assert "OWNER/REPO" in folder.stdout  # no repository configured: the line to fill in


def test_the_bundle_ships_the_notebook_beside_the_py_file(tmp_path):
    result = course_nn("handout", "build", "-a", "hw1", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "hw1_autograd" / "hw1_autograd.ipynb").is_file()
    assert (tmp_path / "hw1_autograd" / "functions.py").is_file()


# ----------------------------------------------------------------------------- the kernel's side


@pytest.fixture
def kernel_ran(monkeypatch, tmp_path):
    """A kernel whose history is the list this returns (cells appended as a student runs them)."""
    from course_nn.notebook import kernel

    cells = ["", "from course_nn import notebook as course\ncourse.setup('hw1')\n"]
    monkeypatch.setattr(kernel, "history", lambda: cells)
    monkeypatch.chdir(tmp_path)
    kernel.setup("hw1")
    return cells


def test_checks_and_the_export_use_the_last_run_of_each_graded_cell(kernel_ran, capsys, tmp_path):
    from course_nn.grading import engine
    from course_nn.notebook import checks, kernel

    a = registry.get("hw1")
    stub, solved = marked(committed("hw1")), solution_parts("hw1")
    kernel_ran += ["".join(stub[t.name]["source"]) for t in a.tasks]  # Run All on the handout
    kernel_ran += [solved["Sigmoid"] + "\n%timeit Sigmoid.apply(torch.ones(3))\n", 'course.check("Sigmoid")']
    checks.check("Sigmoid")
    out = capsys.readouterr().out
    assert [ln.split()[2] for ln in out.splitlines() if ln.startswith("Sigmoid ")] == ["PASS"] * 5
    assert "Sigmoid 10.00 / 10" in out
    checks.check("Linear")
    assert "Linear (all checks) FAIL not implemented: Linear.forward" in re.sub(r"\s+", " ", capsys.readouterr().out)
    kernel_ran += [solved[t.name] for t in a.tasks if t.name != "Sigmoid"]
    kernel_ran += ["class Sigmoid:\n    pass\n"]  # an experiment that shadows the graded class: the kernel's now
    checks.check("Sigmoid")
    assert "FAIL" in capsys.readouterr().out
    kernel_ran += [solved["Sigmoid"]]
    kernel.submit()
    said = capsys.readouterr().out
    assert said.startswith("wrote upload/functions.py") and "upload this file" in said
    assert engine.grade(tmp_path / "upload" / "functions.py", a, isolate=False, seed=3).score == pytest.approx(100)


def test_a_check_before_its_cell_ran_and_an_export_over_a_students_file_say_one_line(kernel_ran, capsys, tmp_path):
    from course_nn.notebook import checks, kernel

    checks.check("Linear")
    assert capsys.readouterr().out == "Linear is not defined yet: run its graded cell (above), then this one\n"
    checks.check("Nope")
    assert "hw1 has no task 'Nope'" in capsys.readouterr().out
    kernel_ran.append(solution_parts("hw1")["Square"])
    (tmp_path / "mine.py").write_text("# my own work\n")
    kernel.submit("mine.py")
    assert "nothing written" in capsys.readouterr().out and (tmp_path / "mine.py").read_text() == "# my own work\n"


# ----------------------------------------------------------------------------- executed headless


def _outputs(cell: dict) -> tuple[str, list[str], list[str]]:
    """(stream text, error names, mime types) of a code cell's outputs."""
    text, errors, mimes = "", [], []
    for o in cell.get("outputs", []):
        if o["output_type"] == "stream":
            text += "".join(o["text"])
        elif o["output_type"] == "error":
            errors.append(f"{o['ename']}: {o['evalue']}")
        else:
            mimes += list(o.get("data", {}))
    return text, errors, mimes


def _stop_tensorboards(info_dir: Path) -> None:
    """Stop the TensorBoard the notebook's %tensorboard started (its pid is in its info file)."""
    for info in info_dir.glob("pid-*.info"):
        try:
            os.kill(json.loads(info.read_text())["pid"], signal.SIGTERM)
        except (OSError, ValueError, KeyError):
            pass


def execute(nb: dict, folder: Path) -> dict:
    """Run ``nb`` top to bottom in a fresh kernel with ``folder`` as its working directory."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    node = nbformat.reads(json.dumps(nb), as_version=4)
    tmp = folder / "tmp"
    tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(tmp), "MPLBACKEND": "Agg"}  # TensorBoard's info files land in tmp/
    client = nbclient.NotebookClient(node, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(folder)}})
    try:
        client.execute(env=env)
    finally:
        _stop_tensorboards(tmp / ".tensorboard-info")
    return json.loads(nbformat.writes(node))


@pytest.mark.slow
@pytest.mark.parametrize("name", registry.ASSIGNMENTS)
def test_built_notebook_with_the_solutions_filled_in_passes_every_check_and_trains(tmp_path, name):
    a = registry.get(name)
    out = tmp_path / f"{name}.ipynb"
    assert course_nn("handout", "build", "-a", name, "--format", "ipynb", "--out", str(out)).returncode == 0
    nb = execute(completed(json.loads(out.read_text()), name), tmp_path)
    cells = {c["id"]: c for c in nb["cells"]}
    for t in a.tasks:
        text, errors, _ = _outputs(cells[f"check-{t.name}"])
        assert not errors, errors
        checks = [ln for ln in text.splitlines() if ln.startswith(f"{t.name} ")]
        assert checks and all(" PASS " in ln for ln in checks), text
        earned, possible = a.task(t.name).points, a.task(t.name).points
        assert f"{t.name} {earned:.2f} / {possible:g}" in text
    text, errors, mimes = _outputs(cells["train"])
    assert not errors and mimes.count("image/png") >= 2, (text, errors)  # the curves and the decision boundary
    accuracy = float(re.search(r"val accuracy ([\d.]+)%", text).group(1))
    assert accuracy >= (97.0 if "trace" in cells else 90.0), text  # what the handouts say they reach
    if "trace" in cells:
        text, errors, mimes = _outputs(cells["trace"])
        assert "nothing is red" in text and "image/png" in mimes and not errors
    assert not _outputs(cells["tensorboard"])[1] and "text/html" in _outputs(cells["tensorboard"])[2]
    assert any((tmp_path / "runs").iterdir())
    text, errors, _ = _outputs(cells["submit"])
    exported = tmp_path / "upload" / a.submission
    assert not errors and f"wrote upload/{a.submission}" in text and exported.is_file()
    assert not [e for c in nb["cells"] for e in _outputs(c)[1]]  # no cell raised


@pytest.mark.slow
@pytest.mark.parametrize("name", registry.ASSIGNMENTS)
def test_the_stub_notebook_says_not_implemented_everywhere_without_a_traceback(tmp_path, name):
    a = registry.get(name)
    nb = execute(committed(name), tmp_path)
    cells = {c["id"]: c for c in nb["cells"]}
    for t in a.tasks:
        text, errors, _ = _outputs(cells[f"check-{t.name}"])
        assert not errors and "Traceback" not in text
        rows = [ln for ln in text.splitlines() if ln.startswith(f"{t.name} ")]
        assert rows and all("FAIL" in ln and "not implemented" in ln for ln in rows), text
    text, errors, _ = _outputs(cells["train"])
    assert not errors and text.startswith("training stopped:") and "not implemented" in text
    assert "/tmp" not in text and "--impl" not in text  # the notebook's cells, not a temp file or a flag
    assert not [e for c in nb["cells"] for e in _outputs(c)[1]]
