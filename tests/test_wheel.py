"""The package as a user gets it: a wheel, installed (not editable) into a fresh virtualenv, used from outside the repository.

Every other test runs against the editable install, which reads modules and data files straight from the checkout and so
hides a file missing from the wheel. The fresh virtualenv reuses this environment's dependencies through a .pth file
(no copying, no network) but not the editable install: .pth files are processed only in site directories, so the
editable finder in this environment's site-packages never runs there."""
import os, site, subprocess, sys, zipfile
from pathlib import Path
import pytest
from conftest import ROOT, run

SOURCES = ["setup.py", "settings.ini", "pyproject.toml", "README.md", "MANIFEST.in"]

def build_wheel(src:Path, dest:Path) -> Path:
    "Build the project at `src` into a wheel in `dest`, from a copy, so the checkout gets no build/ or egg-info litter"
    import shutil
    work = dest/"src"; work.mkdir(parents=True)
    for name in SOURCES: shutil.copy2(src/name, work/name)
    shutil.copytree(src/"finetune_course", work/"finetune_course", ignore=shutil.ignore_patterns("__pycache__"))
    r = run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
             "-w", str(dest/"dist"), str(work)], cwd=dest, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    return next((dest/"dist").glob("finetune_course-*.whl"))

def fresh_venv(path:Path) -> Path:
    "A virtualenv without pip (pip runs from this environment with --python); its python"
    r = run([sys.executable, "-m", "venv", "--without-pip", str(path)], timeout=120)
    assert r.returncode == 0, r.stderr
    return path/"bin"/"python"

def install_wheel(py:Path, wheel:Path):
    "Install `wheel` alone, then give the venv this environment's site-packages as a last resort for the dependencies"
    r = run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "--no-index", "-q", str(wheel)], timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    purelib = run([str(py), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], check=True).stdout.strip()
    (Path(purelib)/"_parent_env.pth").write_text("\n".join(site.getsitepackages()) + "\n")  # after the install: pip
    # must not see (and offer to replace) the editable finetune-course registered there

def check_installed(py:Path, cwd:Path):
    "From `cwd` (outside the repository): `ftc-prepare --make-sample` writes the sample PDF, and the package imports from the venv"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")} | {"HF_HUB_OFFLINE": "1"}
    r = subprocess.run([str(py.parent/"ftc-prepare"), "--make-sample", "notes.pdf"], cwd=cwd, env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert (cwd/"notes.pdf").read_bytes()[:5] == b"%PDF-"
    code = ("import finetune_course.data as d, finetune_course.pdftext as p; "
            "print(d.__file__); print(len(p.read_notes()[1])); print(p.read_pdf_pages('notes.pdf')[0][:200])")
    r = subprocess.run([str(py), "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    module, n_sections, page1 = r.stdout.split("\n", 2)
    assert Path(module).is_relative_to(py.parent.parent), f"imported {module}, not the wheel's copy"
    assert int(n_sections) >= 10 and "parameter-efficient" in page1, r.stdout

@pytest.fixture(scope="module")
def wheel(tmp_path_factory): return build_wheel(ROOT, tmp_path_factory.mktemp("wheel"))

def test_wheel_ships_the_assets(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    shipped = {n for n in names if n.startswith("finetune_course/assets/")}
    expected = {f"finetune_course/assets/{p.name}" for p in (ROOT/"finetune_course"/"assets").iterdir() if p.is_file()}
    assert expected and expected <= shipped, f"missing from the wheel: {sorted(expected - shipped)}"

def test_wheel_installs_and_runs_outside_the_repository(wheel, tmp_path):
    py = fresh_venv(tmp_path/"venv")
    install_wheel(py, wheel)
    elsewhere = tmp_path/"elsewhere"; elsewhere.mkdir()
    assert not elsewhere.resolve().is_relative_to(ROOT)
    check_installed(py, elsewhere)
