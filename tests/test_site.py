"""The docs site as a reader meets it: built from the notebooks executed once (scripts/execute_nbs.py, the README's test
command), it has a page per notebook with that notebook's outputs and figures, maths rendered without any network,
nothing loaded from outside the site, and in a real (headless) Chromium the maths, images and search work."""
import json, os, re, shutil, subprocess, sys, threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT/"scripts"))
import build_site  # noqa: E402
from execute_nbs import EXEC, notebooks  # noqa: E402

NBS = notebooks(ROOT/"nbs")
QUARTO_HINT = ("quarto is not on PATH, so the docs site can't be built: on the course's offline machines "
               "`export PATH=\"$(../shared/tools/install-quarto /opt/quarto):$PATH\"`; elsewhere `nbdev_install_quarto` "
               "or the installer from https://quarto.org")

def _page(nb:Path) -> str:
    from nbdev.doclinks import _nbpath2html  # how nbdev names a notebook's page: 07_qlora_bert.ipynb -> qlora_bert.html
    return _nbpath2html(nb).name

def test_every_notebook_has_an_executed_copy_of_its_current_source():
    "The README's test command runs every notebook once and keeps the executed copy; the site is built from those"
    stale = [nb.name for nb in NBS if build_site.fresh_copy(nb) is None]
    if stale and not os.environ.get("CI"):
        pytest.skip(f"no up-to-date executed copy in _exec/ of {stale}: `python scripts/execute_nbs.py --flags slow`")
    assert not stale, f"no up-to-date executed copy in _exec/ of {stale}"

@pytest.fixture(scope="module")
def site(tmp_path_factory):
    "The site built from _exec/ (pages without a fresh copy come from the source), and {notebook: run metadata or None}"
    if not shutil.which("quarto"):
        if os.environ.get("CI"): pytest.fail(QUARTO_HINT, pytrace=False)  # .ci/run installs it
        pytest.skip(QUARTO_HINT)
    tmp = tmp_path_factory.mktemp("site")
    runs = build_site.build(tmp/"_docs", EXEC, strict=bool(os.environ.get("CI")), keep=tmp/"work")
    return tmp/"_docs", tmp/"work"/"project"/"_proc", runs

def _expected(proc_nb:Path) -> tuple[int, int]:
    "(code cells with an output, image outputs) in the notebook Quarto renders, leaving out hidden and `asis` cells"
    cells, images = 0, 0
    for c in json.loads(proc_nb.read_text())["cells"]:
        src = "".join(c.get("source", ""))
        if c["cell_type"] != "code" or re.search(r"^#\|\s*(output|include):\s*false", src, re.M): continue
        if re.search(r"^#\|\s*output:\s*asis", src, re.M): continue  # show_doc: its markdown becomes the page itself
        outs = [o for o in c.get("outputs", []) if o.get("output_type") != "error"]
        cells += bool(outs)
        images += sum(any(k.startswith("image/") for k in o.get("data", {})) for o in outs)
    return cells, images

_counts = build_site.page_counts

def test_one_page_per_notebook_with_its_outputs_and_images(site):
    docs, proc, runs = site
    report = []
    for nb in NBS:
        page = docs/_page(nb)
        assert page.exists(), f"{nb.name} has no page {page.name}"
        html = page.read_text()
        cells, images = _expected(proc/nb.name)
        n_out, n_img = _counts(html)
        report.append(f"{page.name}: {n_out} outputs, {n_img} images (notebook: {cells} cells with output, {images} images)")
        if runs[nb.name] is None: continue  # rendered from the source (only outside CI): nothing to find
        assert "run-banner" in html and runs[nb.name]["cpu"] in html and runs[nb.name]["torch"] in html, f"{page.name}: no banner"
        assert n_out >= cells, f"{page.name}: {n_out} outputs on the page, {cells} cells with outputs in the notebook"
        assert n_img == images, f"{page.name}: {n_img} images on the page, {images} in the notebook"
        for src in re.findall(r'<img [^>]*src="([^"]+)"', html):
            if not src.startswith("data:"): assert (page.parent/src).exists(), f"{page.name}: image {src} is not in the site"
    print("\n".join(report))
    assert sum(r is not None for r in runs.values()) >= 1, "no page was built from an executed notebook"

def test_every_export_has_its_api_entry(site):
    "nbdev's doc links point at an anchor on the right page for every exported function and class"
    from test_docs import _exported_defs
    from finetune_course._modidx import d
    docs, anchors = site[0], {}
    for mod, defs in _exported_defs().items():
        for name in defs:
            page, anchor = d["syms"][f"finetune_course.{mod}"][f"finetune_course.{mod}.{name}"][0].split("#")
            anchors.setdefault(page, set()).add(anchor)
    assert anchors and set(anchors) <= {_page(nb) for nb in NBS}
    for page, want in anchors.items():
        html = (docs/page).read_text()
        missing = [a for a in want if f'id="{a}"' not in html]
        assert not missing, f"{page}: no API entry for {missing[:10]}"
    assert "finetune-course" in (docs/"index.html").read_text()

def test_pages_render_everything(site):
    docs, _, _ = site
    for nb in NBS:
        page = docs/_page(nb)
        html = page.read_text()
        text = re.sub(r"<(script|style)\b.*?</\1>", "", html, flags=re.S)
        code = re.sub(r'<pre[^>]*class="[^"]*sourceCode.*?</pre>', "", text, flags=re.S)  # code may say "Traceback" or `\(`
        assert ":::" not in code, f"{page.name}: a Quarto directive was not rendered"
        assert not re.search(r"\\\(|\\\[", code), f"{page.name}: raw maths delimiters \\( or \\[ (maths not rendered)"
        outputs = re.findall(r'class="cell-output[^"]*"[^>]*>(.*?)</div>', html, flags=re.S)
        assert not [o for o in outputs if re.search(r"Traceback|\w+(Error|Exception): ", o)], f"{page.name} shows an error"
        assert "cell-output-error" not in html, f"{page.name} shows an error"

def test_maths_is_mathml(site):
    docs, _, _ = site
    with_maths = [nb for nb in NBS if "<math" in (docs/_page(nb)).read_text()]
    assert len(with_maths) >= 3, f"MathML on only {[p.name for p in with_maths]}"
    assert not [f for f in docs.rglob("*.html") if "mathjax" in f.read_text().lower() or "katex" in f.read_text().lower()]

_re_external = re.compile(r"""<(?:script|link|img|iframe|source|video|audio)\b[^>]*\b(?:src|href)=["'](?:https?:)?//""", re.I)

def test_nothing_is_loaded_from_outside_the_site(site):
    "No script, stylesheet, font, image or frame on any page, nor any url() in the site's CSS, comes from another host"
    docs, _, _ = site
    bad = []
    for f in docs.rglob("*.html"):
        bad += [f"{f.name}: {m.group(0)}" for m in _re_external.finditer(f.read_text())]
    for f in docs.rglob("*.css"):
        bad += [f"{f.name}: {m}" for m in re.findall(r"""(?:url\(|@import\s+)["']?(?:https?:)?//[^)"';]+""", f.read_text())]
    assert not bad, "\n".join(bad[:20])

# ---- in a browser ----------------------------------------------------------------------------------------------------
@pytest.fixture
def served(site):
    "The built site on a local HTTP server on 127.0.0.1; always stopped"
    docs = site[0]
    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *a): pass
    srv = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(docs)))
    t = threading.Thread(target=srv.serve_forever, daemon=True); t.start()
    try: yield f"http://127.0.0.1:{srv.server_address[1]}", site
    finally: srv.shutdown(); srv.server_close()

def _pages_to_open(site) -> list[str]:
    "The home page and two notebook pages: ones with maths and images, built from executed copies where there are some"
    docs, _, runs = site
    def score(nb):
        html = (docs/_page(nb)).read_text()
        return (runs[nb.name] is not None, "<math" in html, html.count("<img "))
    best = sorted((nb for nb in NBS if nb.stem != "index"), key=score, reverse=True)
    return ["index.html"] + [_page(nb) for nb in best[:2]]

def test_site_in_a_browser_renders_maths_images_and_search(served):
    from test_jupyterlab import CHROMIUM, CHROMIUM_ARGS, _missing
    if _missing():
        if os.environ.get("CI"): pytest.fail(_missing(), pytrace=False)
        pytest.skip(_missing())
    from playwright.sync_api import sync_playwright
    url, site = served
    pages = _pages_to_open(site)
    errors, outside = [], []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.on("console", lambda m: m.type == "error" and errors.append(f"{page.url}: {m.text}"))
            page.on("pageerror", lambda e: errors.append(f"{page.url}: {e}"))
            page.on("request", lambda r: r.url.startswith(("http:", "https:")) and not r.url.startswith(url) and outside.append(r.url))
            page.on("requestfailed", lambda r: r.failure != "net::ERR_ABORTED"  # a request the next page.goto cancelled (the favicon) is no failure
                    and errors.append(f"failed to load {r.url} ({r.failure})"))
            for name in pages:
                resp = page.goto(f"{url}/{name}", wait_until="load")
                assert resp and resp.ok, f"{name}: HTTP {resp and resp.status}"
                if name == "index.html": continue
                assert page.locator("math").count() >= 1, f"{name}: no rendered maths (<math>)"
                box = page.locator("math").first.bounding_box()
                assert box and box["width"] > 0 and box["height"] > 0, f"{name}: the maths has no size"
                widths = page.eval_on_selector_all(".cell-output-display img", "els => els.map(e => e.complete ? e.naturalWidth : -1)")
                assert widths and all(w > 0 for w in widths), f"{name}: images not loaded (natural widths {widths})"
            page.goto(f"{url}/index.html", wait_until="load")
            page.locator("#quarto-search").click()
            box = page.locator("input.aa-Input")
            box.wait_for(timeout=10_000)
            box.fill("LoRA")
            hits = page.locator(".aa-Item")
            hits.first.wait_for(timeout=15_000)
            assert hits.count() >= 2, "search for LoRA found fewer than two results"
        finally: browser.close()
    assert not outside, f"requests to other hosts: {outside[:10]}"
    assert not errors, "\n".join(errors[:20])
