import os, shutil, subprocess, sys
from pathlib import Path
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a test that reaches the network is a bug
ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT/"scripts"))
from build_site import copy_project  # one copy of the project, for the docs tests and the site

def run(cmd, cwd=ROOT, timeout=600, env=None, check=False):
    "Run a command (list) with the test environment, returning the CompletedProcess"
    e = os.environ | {"HF_HUB_OFFLINE": "1"} | (env or {})
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=e, check=check)

def tool(name):
    "Full path of a console script installed beside this Python"
    path = BIN/name if (BIN/name).exists() else shutil.which(name)
    if not path: pytest.fail(f"{name} is not installed: run `pip install -e \".[dev]\"` first")
    return str(path)

@pytest.fixture
def project_copy(tmp_path):
    "A copy of the nbdev project in a temporary directory"
    return copy_project(tmp_path/"project")
