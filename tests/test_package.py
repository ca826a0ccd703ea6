"The package is in sync with its notebooks, installs cleanly, and the test command is the README's."
import re, sys
from pathlib import Path
from conftest import ROOT, run, tool

def _files(d:Path, pattern:str): return {p.relative_to(d): p.read_bytes() for p in sorted(d.rglob(pattern)) if "__pycache__" not in p.parts}

def test_nbdev_export_changes_nothing(project_copy):
    r = run([tool("nbdev_export")], cwd=project_copy)
    assert r.returncode == 0, r.stderr
    assert _files(project_copy/"finetune_course", "*.py") == _files(ROOT/"finetune_course", "*.py"), \
        "finetune_course/ is out of sync with nbs/: run nbdev_export and commit"

def test_nbdev_clean_changes_nothing(project_copy):
    r = run([tool("nbdev_clean")], cwd=project_copy)
    assert r.returncode == 0, r.stderr
    assert _files(project_copy/"nbs", "*.ipynb") == _files(ROOT/"nbs", "*.ipynb"), "notebooks are not clean: run nbdev_clean and commit"

def test_readme_is_built_from_index():
    r = run([sys.executable, "scripts/build_readme.py", "--check"])
    assert r.returncode == 0, r.stderr + r.stdout

def test_every_course_notebook_exports_a_module_and_tests_it():
    nbs = sorted((ROOT/"nbs").glob("[0-9][0-9]*_*.ipynb"))  # 04a_pdf then 04b_data: letters keep the course order
    assert len(nbs) >= 1
    for nb in nbs:
        text = nb.read_text()
        assert "default_exp" in text, f"{nb.name} exports no module"
        assert re.search(r"test_(eq|close|fail)|assert ", text), f"{nb.name} asserts nothing"
        mod = re.search(r"default_exp (\w+)", text).group(1)
        assert (ROOT/"finetune_course"/f"{mod}.py").exists(), f"{nb.name}: finetune_course/{mod}.py missing"

def test_console_scripts_are_installed():
    for name in ["ftc-chat", "ftc-prepare", "ftc-walkthrough", "ftc-export", "ftc-serve", "ftc-imdb"]: tool(name)

def test_dependencies_are_consistent():
    r = run([sys.executable, "-m", "pip", "check"])
    assert r.returncode == 0, r.stdout + r.stderr

def test_ci_runs_the_readme_test_command():
    readme = (ROOT/"README.md").read_text()
    commands = [l for l in readme.splitlines() if l.startswith("pip install")]
    assert len(commands) == 2, "the quick start must be exactly two commands"
    test_cmd = [c for c in commands if "pytest" in c]
    assert len(test_cmd) == 1 and "scripts/execute_nbs.py --flags slow" in test_cmd[0]  # nbdev_test's run, copies kept for the site
    ci = (ROOT/".ci"/"run").read_text()
    assert "grep -m1 '^pip install.*pytest' README.md" in ci, ".ci/run must take its test command from README.md"
