#!/usr/bin/env python3
"""Render the docs site from the executed notebooks that `scripts/execute_nbs.py` left in `_exec/`.

The site shows what a reader running the notebooks sees, without running them a second time: in a staging copy of the
project, each notebook in `nbs/` is replaced by its executed copy (outputs included), with a banner under its title
saying when and on what machine its numbers were measured (from the copy's `finetune_course.run` metadata). nbdev's
docs processing then runs there as `nbdev_docs` does (sidebar, doc links, API entries: it re-runs only imports, exported
cells and `show_doc` cells, keeping every other cell's outputs), widget outputs are dropped (a widget needs a live
kernel and JavaScript from a CDN; each has a static fallback beside it), and Quarto renders the pages without executing
anything (`quarto render` never runs a notebook's cells unless asked to). The site is written to `_docs/`.

A notebook with no up-to-date executed copy (none, or its source changed since) is rendered from its source, with a
banner saying so, unless `--strict`, which makes that an error. Needs Quarto on PATH:
`../shared/tools/install-quarto PREFIX` on the course's offline machines, `nbdev_install_quarto` or quarto.org elsewhere.
"""
import argparse, json, os, re, shutil, subprocess, sys, tempfile, time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from execute_nbs import EXEC, META_KEY, ROOT, notebooks, sha256  # noqa: E402

WIDGET = "application/vnd.jupyter.widget-view+json"
_PROC = ("import nbdev.quarto as q; q._ensure_quarto = lambda: None; "  # quarto is on PATH; don't let nbdev install it
         "q._pre_docs(n_workers={n})")

def fresh_copy(nb:Path, exec_dir:Path=EXEC) -> Path|None:
    "The executed copy of `nb` in `exec_dir` if it was run from the notebook as it is now, else None"
    ex = Path(exec_dir)/nb.name
    if not ex.exists(): return None
    run = json.loads(ex.read_text()).get("metadata", {}).get(META_KEY, {}).get("run", {})
    return ex if run.get("source_sha256") == sha256(nb) else None

def banner(run:dict|None) -> str:
    "The note under a page's title: where and when its outputs were measured"
    if not run:
        return ("::: {.callout-warning .run-banner}\nThis page was built without running its notebook, so it shows no "
                "outputs: run the notebook to see its numbers.\n:::")
    return ("::: {.callout-note appearance=\"simple\" .run-banner}\n"
            f"**Measured** on {run['date']}, on {run['cpu']} ({run['cores']} cores), torch {run['torch']}, "
            f"Python {run['python']}: the outputs on this page are that run's, in {run['seconds']:.0f} s. "
            "Running the notebook on your machine prints your own numbers.\n:::")

def add_banner(nb:dict, run:dict|None) -> dict:
    "Insert the banner as a markdown cell after the notebook's `# Title` cell (at the top if it has none)"
    cells = nb["cells"]
    at = next((i + 1 for i, c in enumerate(cells) if c["cell_type"] == "markdown"
               and "".join(c["source"]).lstrip().startswith("# ")), 0)
    cells.insert(at, {"cell_type": "markdown", "metadata": {}, "source": banner(run)})
    return nb

def drop_widgets(nb:dict) -> dict:
    "Remove widget views (and the widget state nbdev stores) that would make Quarto load widget JavaScript from a CDN"
    nb.get("metadata", {}).pop("widgets", None)
    for c in nb["cells"]:
        if c["cell_type"] != "code": continue
        outs = []
        for o in c.get("outputs", []):
            if WIDGET in o.get("data", {}):
                o["data"].pop(WIDGET)
                if set(o["data"]) <= {"text/plain"}: continue  # only the widget's repr, e.g. "interactive(children=...)"
            outs.append(o)
        c["outputs"] = outs
    return nb

def html_as_markdown(nb:dict) -> dict:
    """Hand script-free HTML outputs (pandas tables) to Quarto as markdown holding the same HTML: it renders them alike,
    but any `text/html` output makes Quarto load require.js and jQuery from a CDN for 'javascript widgets'."""
    for o in (o for c in nb["cells"] for o in c.get("outputs", [])):
        data = o.get("data", {})
        html = "".join(data.get("text/html", ""))
        if html and "<script" not in html.lower() and "text/markdown" not in data:
            data["text/markdown"] = html; data.pop("text/html")
    return nb

def copy_project(dst:Path) -> Path:
    "Copy the nbdev project (settings, notebooks, package, docs config, the notebooks' test helpers) to `dst`"
    dst.mkdir(parents=True)
    for name in ["settings.ini", "setup.py", "_quarto.yml", "README.md"]: shutil.copy2(ROOT/name, dst/name)
    shutil.copytree(ROOT/"nbs", dst/"nbs", symlinks=True, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "nbdev.yml", "sidebar.yml"))
    shutil.copytree(ROOT/"finetune_course", dst/"finetune_course", ignore=shutil.ignore_patterns("__pycache__"))
    (dst/"tests").mkdir(); shutil.copy2(ROOT/"tests"/"pdf_builders.py", dst/"tests"/"pdf_builders.py")  # 04a/04b import it
    return dst

def stage(dst:Path, exec_dir:Path=EXEC, strict:bool=False, only:list|None=None) -> dict:
    "A copy of the project in `dst` whose notebooks are the executed copies, bannered. {notebook name: run or None}"
    copy_project(dst)
    runs, stale = {}, []
    for nb in notebooks(ROOT/"nbs"):
        if only and nb.name not in only: (dst/"nbs"/nb.name).unlink(); continue  # a partial site, for a quick look
        ex = fresh_copy(nb, exec_dir)
        if ex is None: stale.append(nb.name)
        d = json.loads((ex or nb).read_text())
        runs[nb.name] = d.get("metadata", {}).get(META_KEY, {}).get("run") if ex else None
        (dst/"nbs"/nb.name).write_text(json.dumps(add_banner(d, runs[nb.name]), indent=1))
    if stale and strict:
        raise SystemExit(f"no up-to-date executed copy in {exec_dir} of: {', '.join(stale)}. "
                         "Run `python scripts/execute_nbs.py --flags slow` (or `--path nbs/NAME.ipynb` for one) first.")
    if stale: print(f"rendered from the source, without outputs (no up-to-date executed copy): {', '.join(stale)}", file=sys.stderr)
    return runs

def build(out:Path=ROOT/"_docs", exec_dir:Path=EXEC, strict:bool=False, n_workers:int=1, keep:Path|None=None,
          only:list|None=None) -> dict:
    "Stage, process with nbdev, render with Quarto; the site ends in `out`. {notebook name: run or None}"
    if not shutil.which("quarto"):
        raise SystemExit("quarto is not on PATH: `export PATH=\"$(../shared/tools/install-quarto /opt/quarto):$PATH\"` "
                         "on the course's offline machines, `nbdev_install_quarto` or https://quarto.org elsewhere")
    tmp = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="ftc-site-"))
    try:
        proj = tmp/"project"
        runs = stage(proj, exec_dir, strict, only)
        env = os.environ | {"HF_HUB_OFFLINE": "1", "PYTHONPATH": str(proj)}
        subprocess.run([sys.executable, "-c", _PROC.format(n=n_workers)], cwd=proj, env=env, check=True)
        for p in (proj/"_proc").glob("*.ipynb"):
            p.write_text(json.dumps(html_as_markdown(drop_widgets(json.loads(p.read_text()))), indent=1))
        subprocess.run(["quarto", "render", "--no-cache"], cwd=proj/"_proc", env=env, check=True)
        out = Path(out)
        old = out.with_name(out.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if out.exists(): out.rename(old)
        shutil.move(str(proj/"_proc"/"_docs"), str(out))
        shutil.rmtree(old, ignore_errors=True)
        return runs
    finally:
        if not keep: shutil.rmtree(tmp, ignore_errors=True)

def page_counts(html:str) -> tuple[int, int]:
    "(output blocks, images inside outputs) on a rendered page"
    outs = re.findall(r'<div class="cell-output cell-output-\w+', html)
    imgs = re.findall(r'<img [^>]*src="[^"]*_files/figure-html/', html)  # Quarto writes every image output there
    return len(outs), len(imgs)

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=str(ROOT/"_docs"), help="where the site goes (default: _docs/)")
    ap.add_argument("--exec-dir", default=str(EXEC), help="the executed notebooks (default: _exec/)")
    ap.add_argument("--strict", action="store_true", help="fail if a notebook has no up-to-date executed copy")
    ap.add_argument("--n-workers", type=int, default=1, help="processes for nbdev's docs processing")
    ap.add_argument("--only", nargs="*", help="build a partial site of these notebooks only (names, e.g. 00_core.ipynb)")
    a = ap.parse_args(argv)
    t0 = time.time()
    runs = build(Path(a.out), Path(a.exec_dir), a.strict, a.n_workers, only=a.only)
    from nbdev.doclinks import _nbpath2html
    for nb in (nb for nb in notebooks(ROOT/"nbs") if nb.name in runs):
        page = Path(a.out)/_nbpath2html(nb).name
        n_out, n_img = page_counts(page.read_text()) if page.exists() else (0, 0)
        print(f"{page.name:24} {n_out:4} outputs {n_img:3} images  {'measured ' + runs[nb.name]['date'] if runs.get(nb.name) else 'NOT EXECUTED'}")
    print(f"site in {a.out} ({sum(r is not None for r in runs.values())}/{len(runs)} pages with outputs) in {time.time() - t0:.0f} s")
    return 0

if __name__ == "__main__": sys.exit(main())
