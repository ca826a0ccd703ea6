"""Whole-course wall time and peak memory: `nbdev_test` of each notebook (slow cells included), the README's main job
(`ftc-walkthrough`) and `ftc-imdb` on their defaults. Each runs alone, one after the other, in a fresh process; peak
memory is the largest resident set of any process it started. Takes about an hour on 2 cores; writes
benchmarks/course_times.json, which `benchmarks/run` reports (with its date) unless asked to measure it again."""
from __future__ import annotations
import argparse, json, os, subprocess, sys, tempfile
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "course_times.json"

def timed(cmd: list[str], cwd=ROOT) -> dict:
    "Run `cmd` in a child that reports its own wall time and the peak RSS of everything it waited for"
    probe = ("import resource, subprocess, sys, time, json; t = time.perf_counter(); "
             "rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode; "
             "print(json.dumps(dict(rc=rc, seconds=time.perf_counter() - t, "
             "peak_mb=resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)))")
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    out = subprocess.run([sys.executable, "-c", probe, *cmd], cwd=cwd, env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])

def jobs(tmp: Path) -> dict[str, list[str]]:
    "What the course runs: every notebook's tests, then the two jobs a reader starts from the command line"
    bin_ = Path(sys.executable).parent
    nbs = {f"nbdev_test {p.name}": [str(bin_ / "nbdev_test"), "--path", str(p), "--flags", "slow"] for p in sorted((ROOT / "nbs").glob("*.ipynb"))}
    return nbs | {"main job: ftc-walkthrough (defaults)": [str(bin_ / "ftc-walkthrough"), "--out", str(tmp / "walkthrough")],
                  "ftc-imdb (defaults)": [str(bin_ / "ftc-imdb"), "--output-dir", str(tmp / "imdb")]}

def main(only: list[str] | None = None):
    tmp = Path(tempfile.mkdtemp(prefix="course-time-"))
    results = json.loads(OUT.read_text()) if OUT.exists() else {}
    for name, cmd in jobs(tmp).items():
        if only and not any(o in name for o in only): continue
        print(f"{name} …", flush=True)
        results[name] = timed(cmd) | {"when": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        print(f"  {results[name]}", flush=True)
        tmp_out = OUT.with_suffix(".tmp"); tmp_out.write_text(json.dumps(results, indent=1)); tmp_out.replace(OUT)
    return results

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("only", nargs="*", help="measure only the jobs whose name contains one of these (default: all)")
    main(ap.parse_args().only)
