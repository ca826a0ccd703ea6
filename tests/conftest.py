import os, shutil, subprocess, sys
from pathlib import Path
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a test that reaches the network is a bug
ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

def run(cmd, cwd=ROOT, timeout=600, env=None, check=False):
    "Run a command (list) with the test environment, returning the CompletedProcess"
    e = os.environ | {"HF_HUB_OFFLINE": "1"} | (env or {})
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=e, check=check)

def tool(name):
    "Full path of a console script installed beside this Python"
    path = BIN/name if (BIN/name).exists() else shutil.which(name)
    if not path: pytest.fail(f"{name} is not installed: run `pip install -e \".[dev]\"` first")
    return str(path)

def copy_project(dst:Path) -> Path:
    "Copy the nbdev project (settings, notebooks, package, docs config, the notebooks' test helpers) to `dst`"
    dst.mkdir(parents=True)
    for name in ["settings.ini", "setup.py", "_quarto.yml", "README.md"]: shutil.copy2(ROOT/name, dst/name)
    shutil.copytree(ROOT/"nbs", dst/"nbs", symlinks=True, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "nbdev.yml", "sidebar.yml"))
    shutil.copytree(ROOT/"finetune_course", dst/"finetune_course", ignore=shutil.ignore_patterns("__pycache__"))
    (dst/"tests").mkdir(); shutil.copy2(ROOT/"tests"/"pdf_builders.py", dst/"tests"/"pdf_builders.py")  # 04a/04b import it
    return dst

@pytest.fixture
def project_copy(tmp_path):
    "A copy of the nbdev project in a temporary directory"
    return copy_project(tmp_path/"project")
