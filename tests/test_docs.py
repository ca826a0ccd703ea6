"The top-level _quarto.yml is the file that configures the docs: nbdev's docs step reads it through nbs/_quarto.yml."
import sys
from conftest import ROOT, run

def test_nbs_quarto_yml_is_the_top_level_file():
    link = ROOT/"nbs"/"_quarto.yml"
    assert link.is_symlink() and link.resolve() == (ROOT/"_quarto.yml").resolve()

def test_top_level_setting_reaches_processed_docs(project_copy):
    "Change a setting in the top-level file only; nbdev's docs processing must carry it into _proc/"
    top = project_copy/"_quarto.yml"
    top.write_text(top.read_text().replace("every number in this course", "SENTINEL-7f3a every number"))
    for nb in (project_copy/"nbs").glob("[0-9]*.ipynb"): nb.unlink()  # index.ipynb is enough, and fast
    code = ("from nbdev.quarto import refresh_quarto_yml; from nbdev.serve import proc_nbs; "
            "refresh_quarto_yml(); print(proc_nbs(n_workers=1))")
    r = run([sys.executable, "-c", code], cwd=project_copy, timeout=300)
    assert r.returncode == 0, r.stderr
    assert (project_copy/"nbs"/"_quarto.yml").is_symlink(), "nbdev replaced the link with its own default"
    processed = (project_copy/"_proc"/"_quarto.yml").read_text()
    assert "SENTINEL-7f3a" in processed
    assert (project_copy/"_proc"/"index.ipynb").exists()
