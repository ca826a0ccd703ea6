#!/usr/bin/env python3
"""Run every notebook as `nbdev_test` does, and keep the executed copies for the docs site.

`python scripts/execute_nbs.py --flags slow` runs each notebook in `nbs/` (in course order, one at a time) exactly as
`nbdev_test --flags slow --n_workers 1` does: the same cell rules (cells whose test flags are not given are skipped,
`#| eval: false` cells and `nbdev_export()` calls never run, `skip_exec` notebooks are left alone), the same shell
(execnb's CaptureShell, in the notebook's folder, with IN_TEST=1), stopping a notebook at its first error. Unlike
nbdev_test's one worker, which runs them all in one process, each notebook runs in a fresh Python process: run after
00-05c in one process, 06's llama.cpp cells died with a segmentation fault (CI, twice), and alone they pass. The other
difference is that it writes what it ran, outputs included, to `_exec/NAME.ipynb` (git-ignored; written to a temporary
name and renamed, so a notebook that fails leaves no copy), with where and when it ran in the notebook's metadata
(`finetune_course.run`: CPU model, cores, torch version, date, seconds, the source notebook's SHA-256).
`scripts/build_site.py` renders the docs site from those copies. Exits 1 if any notebook fails, after running the rest.
"""
import argparse, hashlib, os, platform, signal, subprocess, sys, time, traceback
from datetime import datetime, timezone
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXEC = ROOT/"_exec"
META_KEY = "finetune_course"

def sha256(path:Path) -> str: return hashlib.sha256(Path(path).read_bytes()).hexdigest()

def cpu_model() -> str:
    "The CPU's model name as the OS reports it"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"): return line.split(":", 1)[1].strip()
    except OSError: pass
    return platform.processor() or platform.machine()

def machine() -> dict:
    "Where the notebooks run: what a page's banner says"
    return {"cpu": cpu_model(), "cores": os.cpu_count(), "torch": version("torch"), "python": platform.python_version(),
            "os": f"{platform.system()} {platform.release()}"}

def notebooks(path:Path=ROOT/"nbs") -> list[Path]:
    "The notebooks nbdev_test would run: every .ipynb not starting with `_` or `.`, in name (course) order"
    return sorted(p for p in Path(path).glob("*.ipynb") if not p.name.startswith(("_", ".")))

def run_notebook(fn:Path, flags:set, dest_dir:Path=EXEC) -> tuple[bool, float, str]:
    "Run `fn` as nbdev.test.test_nb does; on success write the executed copy to `dest_dir`. (ok, seconds, error text)"
    from execnb.shell import CaptureShell
    from execnb.nbio import read_nb, write_nb
    from fastcore.basics import str2bool
    from fastcore.xtras import working_directory
    from nbdev.frontmatter import FrontmatterProc
    from nbdev.process import NBProcessor, nb_lang
    from nbdev.config import get_config
    fn = Path(fn).resolve()
    skip = set(get_config().get("tst_flags", "").split()) - flags  # nbdev_test: skip_flags = tst_flags - --flags
    fm = getattr(NBProcessor(fn, procs=FrontmatterProc, process=True).nb, "frontmatter_", {})
    nb = NBProcessor(fn).nb  # as test_nb runs it: the `#|` directive lines parsed and taken out of the sources...
    sources = [c.source for c in read_nb(fn).cells]  # ...and put back in the copy that is written
    dest = Path(dest_dir)/fn.name
    if dest.exists(): dest.unlink()  # never leave a copy from an older run next to a failed one
    if str2bool(fm.get("skip_exec", False)) or nb_lang(nb) != "python": return True, 0., ""

    def _no_eval(cell):  # nbdev.test.test_nb's rules
        if cell.cell_type != "code": return True
        if "nbdev_export" + "(" in cell.source: return True
        direc = getattr(cell, "directives_", {}) or {}
        if direc.get("eval:", [""])[0].lower() == "false": return True
        return skip & direc.keys()

    os.environ["IN_TEST"] = "1"
    started, t0 = datetime.now(timezone.utc), time.time()
    k = CaptureShell(fn)
    try:
        with working_directory(fn.parent): k.run_all(nb, exc_stop=True, preproc=_no_eval)
    except BaseException:
        try: err = k.prettytb(fname=fn)
        except Exception: err = traceback.format_exc()
        return False, time.time() - t0, err
    secs = time.time() - t0
    for c, src in zip(nb.cells, sources, strict=True): c.pop("directives_", None); c.source = src
    nb.metadata[META_KEY] = {"run": {**machine(), "date": started.strftime("%Y-%m-%d %H:%M UTC"), "seconds": round(secs, 1),
                                     "flags": sorted(flags), "source_sha256": sha256(fn)}}
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.tmp-{os.getpid()}")
    try: write_nb(nb, tmp); os.replace(tmp, dest)
    finally: tmp.unlink(missing_ok=True)
    return True, secs, ""

def run_isolated(fn:Path, flags:set, dest_dir:Path) -> tuple[bool, float, str]:
    "`run_notebook` in a fresh Python process, so no notebook inherits another's threads, memory or native libraries' state"
    t0 = time.time()
    r = subprocess.run([sys.executable, "-X", "faulthandler", __file__, "--single", "--flags", " ".join(sorted(flags)),
                        "--out", str(dest_dir), "--path", str(fn)], capture_output=True, text=True)
    if r.returncode == 0: return True, time.time() - t0, ""
    why = f"killed by signal {-r.returncode} ({signal.Signals(-r.returncode).name})" if r.returncode < 0 else f"exit status {r.returncode}"
    return False, time.time() - t0, f"{fn.name}: {why}\n{r.stdout[-4000:]}{r.stderr[-12000:]}"

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--flags", default="", help="test flags to run, as nbdev_test's --flags (e.g. slow)")
    ap.add_argument("--path", nargs="*", help="notebooks to run (default: every notebook in nbs/)")
    ap.add_argument("--out", default=str(EXEC), help="folder for the executed copies (default: _exec/)")
    ap.add_argument("--single", action="store_true", help="run the notebooks in this process (default: each in a fresh one)")
    a = ap.parse_args(argv)
    files = [Path(p) for p in a.path] if a.path else notebooks()
    run = run_notebook if a.single else run_isolated
    failed, t0 = [], time.time()
    for fn in files:
        ok, secs, err = run(fn, set(a.flags.split()), Path(a.out))
        if a.single and len(files) == 1 and ok: return 0   # the parent process reports
        print(f"{'ok  ' if ok else 'FAIL'} {fn.name} {secs:.0f} s", flush=True)
        if not ok: sys.stderr.write(err + "\n"); failed.append(fn.name)
    print(f"{len(files) - len(failed)}/{len(files)} notebooks ran in {time.time() - t0:.0f} s; executed copies in {a.out}")
    if failed: print(f"nbdev Tests Failed On The Following Notebooks:\n" + "\n".join(failed), file=sys.stderr)
    return 1 if failed else 0

if __name__ == "__main__": sys.exit(main())
