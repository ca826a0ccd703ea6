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

# ---- nbdev's docs processing on every notebook ---------------------------------------------------------------------
# nbdev's docs step (`nbdev_docs`, `nbdev_preview`, `nbdev_proc_nbs`) runs `_pre_docs`: it writes nbdev.yml and
# sidebar.yml, rebuilds _modidx.py and processes every notebook into _proc/. Processing executes, in a fresh kernel,
# only the cells the docs need: exports, `show_doc` calls, `#| exec_doc` cells, and every cell holding an import
# (nbdev.processors._do_eval). So imports sit in cells of their own, and those cells must run without the rest.
import ast, json, re, shutil
from pathlib import Path
import pytest
from conftest import copy_project
from nbdev.process import NBProcessor
from nbdev.processors import _do_eval, _show_docs, _want_doc

NBS = sorted((ROOT/"nbs").glob("*.ipynb"))
_DOCS = ("import nbdev.quarto as q; q._ensure_quarto = lambda: None; "  # nbdev would try to install quarto (with sudo) first
         "q._pre_docs(n_workers=1)")
_DOC_DIRS = {"export", "exports", "exporti", "exec_doc"}

@pytest.fixture(scope="module")
def processed_docs(tmp_path_factory):
    "A project copy after nbdev's docs processing of every notebook, and the CompletedProcess that did it"
    proj = copy_project(tmp_path_factory.mktemp("docs")/"project")
    return proj, run([sys.executable, "-c", _DOCS], cwd=proj, timeout=900)

def _cells(nb_path): return [c for c in NBProcessor(nb_path).nb.cells if c.cell_type == "code"]

def _text(o) -> str:
    "All the text of one cell output"
    if o.get("output_type") == "error": return "\n".join([o.get("ename", ""), o.get("evalue", "")] + o.get("traceback", []))
    if "text" in o: return "".join(o["text"])
    return "\n".join("".join(v) if isinstance(v, list) else str(v) for k, v in o.get("data", {}).items() if k.startswith("text/"))

def _has_docs(cells) -> bool:
    "nbdev runs nothing at docs time in a notebook with no exports and no show_doc (index.ipynb)"
    return any(_want_doc(c) or _show_docs(c.parsed_() or []) for c in cells)

def test_docs_time_cells_are_imports_exports_and_show_doc_only():
    "What the docs processor runs must be runnable alone: no cell mixes imports with other code"
    bad = []
    for nb in NBS:
        cells = _cells(nb)
        if not _has_docs(cells): continue
        for c in cells:
            if not _do_eval(c) or c.directives_.keys() & _DOC_DIRS: continue
            trees = c.parsed_()
            if not all(isinstance(t, (ast.Import, ast.ImportFrom)) or "show_doc" in ast.unparse(t) for t in trees):
                bad.append(f"{nb.name}:\n{c.source}")
    assert not bad, "cells that nbdev's docs step would run but that are more than imports (split them):\n\n" + "\n\n".join(bad)

def test_docs_processing_succeeds_on_every_notebook(processed_docs):
    proj, r = processed_docs
    assert r.returncode == 0, r.stderr[-6000:]
    assert "Found cells containing imports and other code" not in r.stderr, r.stderr[-6000:]
    for nb in NBS: assert (proj/"_proc"/nb.name).exists(), f"{nb.name} was not processed"

def test_processed_docs_have_no_errors(processed_docs):
    proj, r = processed_docs
    assert r.returncode == 0, r.stderr[-6000:]
    bad = []
    for nb in NBS:
        for c in json.loads((proj/"_proc"/nb.name).read_text())["cells"]:
            for o in c.get("outputs", []):
                t = _text(o)
                if o.get("output_type") == "error" or o.get("name") == "stderr" or re.search(r"Traceback|^\w*(Error|Exception): ", t, re.M):
                    bad.append(f"{nb.name}: {''.join(c.get('source', ''))[:200]}\n--> {t[:500]}")
    assert not bad, "\n\n".join(bad)

def _exported_defs() -> dict:
    "module -> {name: AST node} of every function and class in the module's `__all__`"
    res = {}
    for f in sorted((ROOT/"finetune_course").glob("[!_]*.py")):
        tree = ast.parse(f.read_text())
        names = next((ast.literal_eval(n.value) for n in tree.body if isinstance(n, ast.Assign)
                      and any(getattr(t, "id", None) == "__all__" for t in n.targets)), [])
        defs = {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
        res[f.stem] = {n: defs[n] for n in names if n in defs}
    return res

def test_every_exported_function_and_class_has_a_docstring():
    missing = [f"{mod}.{name}" for mod, defs in _exported_defs().items() for name, node in defs.items() if not ast.get_docstring(node)]
    assert sum(map(len, _exported_defs().values())) > 50
    assert not missing, f"exported without a docstring (show_doc would render an empty entry): {missing}"

def _norm(s:str) -> str:
    "Markdown reduced to its words: links to their text, no backticks, emphasis or extra spaces"
    s = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", s)
    return " ".join(re.sub(r"[`*\\]", "", s).split())

def test_processed_docs_show_every_export_with_its_docstring(processed_docs):
    proj, r = processed_docs
    assert r.returncode == 0, r.stderr[-6000:]
    from finetune_course._modidx import d
    missing = []
    for mod, defs in _exported_defs().items():
        for name, node in defs.items():
            page = d["syms"][f"finetune_course.{mod}"][f"finetune_course.{mod}.{name}"][0].split(".html")[0]
            nb = next(p for p in NBS if _page(p) == f"{page}.html")
            cells = json.loads((proj/"_proc"/nb.name).read_text())["cells"]
            shown = ["".join(o.get("data", {}).get("text/markdown", "")) for c in cells if f"show_doc({name})" in "".join(c.get("source", ""))
                     for o in c.get("outputs", [])]
            if not any(f"### {name}" in s and _norm(ast.get_docstring(node)) in _norm(s) for s in shown):
                missing.append(f"{nb.name}: {name}")
    assert not missing, f"no show_doc entry with the docstring for: {missing}"

# ---- doc links in the prose ----------------------------------------------------------------------------------------
# nbdev turns `name` and `name()` in markdown into a link when `name` is in _modidx.py (NbdevLookup). A backticked
# name that looks like code (CamelCase, or followed by parentheses) and is neither ours, nor a notebook's own helper,
# nor a name in the libraries the course compares against, is a broken reference: a renamed or misspelt export.
# The libraries' names that the prose cites are listed rather than looked up: importing them all takes minutes.
_EXTERNAL = {"python": "ValueError NaN", "torch": "F.linear state_dict",
             "transformers": "AutoModelForSequenceClassification BitsAndBytesConfig Qwen3ForCausalLM LlamaModel get_memory_footprint",
             "peft": "LoraConfig PeftModel merge_and_unload", "trl": "SFTConfig SFTTrainer",
             "bitsandbytes": "Linear4bit bnb.nn.Linear4bit MatMul4Bit", "gguf": "GGUFReader TensorNameMap"}
_EXTERNAL_NAMES = {n for names in _EXTERNAL.values() for n in names.split()}
_re_ref = re.compile(r"`([A-Za-z_][\w.]*)(\(\))?`")  # what nbdev would link: `name` or `name()`
_re_camel = re.compile(r"_?[A-Z][a-z0-9]+[A-Z0-9]\w*|_?[A-Z]{2,}[a-z]\w*")

def _notebook_names() -> set:
    "Names the notebooks define at top level (helpers that are not exported, such as `rank_report`)"
    names = set()
    for nb in NBS:
        for c in _cells(nb):
            try: trees = ast.parse(c.source).body
            except SyntaxError: continue
            for t in trees:
                if isinstance(t, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)): names.add(t.name)
                for n in (n for tg in getattr(t, "targets", []) for n in ast.walk(tg)):
                    if isinstance(n, ast.Name): names.add(n.id)
    return names

def _ours() -> tuple[set, set]:
    "Our modules and top-level names, and the last part of every symbol (methods included), from _modidx.py"
    from finetune_course._modidx import d
    full = {k for m in d["syms"].values() for k in m}
    return {k.split(".")[2] for k in full} | set(d["syms"]) | {"finetune_course"}, {k.split(".")[-1] for k in full}

def broken_doc_links(markdown:str, local_names:set=frozenset()) -> list:
    "Backticked references in `markdown` that look like code but resolve neither to an export nor to a known library name"
    from nbdev.doclinks import NbdevLookup
    lookup, (top, last) = NbdevLookup(), _ours()
    bad = []
    for m in _re_ref.finditer(re.sub(r"```.*?```", "", markdown, flags=re.S)):
        name, call = m.groups()
        head, tail = name.split(".")[0], name.split(".")[-1]
        looks_like_code = call or _re_camel.fullmatch(tail) or tail in last or head == "finetune_course"
        if not looks_like_code or lookup[name] or name in top or name in _EXTERNAL_NAMES: continue
        if "." in name and head[0].islower() and head not in top: name = tail  # `layer.merge()`: a method of some object
        if name in local_names or name in _EXTERNAL_NAMES or (name in last and name not in top): continue  # a method of ours
        bad.append(m.group(0))
    return bad

def test_doc_links_resolve():
    local, bad = _notebook_names(), {}
    for nb in NBS:
        for c in json.loads(nb.read_text())["cells"]:
            if c["cell_type"] == "markdown":
                if found := broken_doc_links("".join(c["source"]), local): bad.setdefault(nb.name, []).extend(found)
    assert not bad, f"backticked references that resolve to nothing (renamed or misspelt?): {bad}"

def test_doc_link_check_catches_a_bogus_name():
    ok = "`LoRALinear` and `merge_lora()` from 01, `LoRALinear.merge()`, peft's `LoraConfig`, `F.linear`, `layer.merged_weight()`"
    assert broken_doc_links(ok) == []
    assert broken_doc_links("`LoRALinaer` wraps a layer; `merge_loras()` folds it; `finetune_course.lora.add_loras`") == \
        ["`LoRALinaer`", "`merge_loras()`", "`finetune_course.lora.add_loras`"]

# ---- widgets, sidebar, the rendered site ---------------------------------------------------------------------------
def test_widgets_have_a_static_fallback():
    "A widget renders only with a live kernel: each has a printed table or figure for several values next to it, and says so"
    for nb in NBS:
        cells = json.loads(nb.read_text())["cells"]
        for i, c in enumerate(cells):
            if c["cell_type"] != "code" or "interact(" not in "".join(c["source"]): continue
            near = ["".join(o["source"]) for o in cells[max(0, i - 5):i]]
            assert any(re.search(r"print\(|plt\.|Markdown\(", s) and "interact" not in s for s in near), f"{nb.name}: no static fallback before the widget"
            assert any("static" in s and "JupyterLab" in s for s in near), f"{nb.name}: no sentence saying where the fallback shows"

def test_exec_doc_cells_show_their_output_on_the_site(processed_docs):
    "Cells marked `#| exec_doc` (the static fallbacks that are cheap enough) run when the docs are built"
    proj, r = processed_docs
    assert r.returncode == 0, r.stderr[-6000:]
    n = 0
    for nb in NBS:
        done = json.loads((proj/"_proc"/nb.name).read_text())["cells"]  # nbdev drops the directive lines there
        for c in _cells(nb):
            if "exec_doc" not in c.directives_ or "hide" in c.directives_: continue  # hidden ones are setup, e.g. sys.path
            body = [l for l in c.source.splitlines() if not l.startswith("#|")][0]
            outs = [o for d in done if body in "".join(d.get("source", "")) for o in d.get("outputs", [])]
            assert any(_text(o).strip() for o in outs), f"{nb.name}: the exec_doc cell starting {body!r} has no output"
            n += 1
    assert n >= 1

def test_sidebar_follows_course_order_with_index_as_home(project_copy):
    import yaml
    r = run([sys.executable, "-c", "from nbdev.quarto import nbdev_sidebar; nbdev_sidebar(printit=True)"], cwd=project_copy, timeout=120)
    assert r.returncode == 0, r.stderr
    contents = yaml.safe_load(r.stdout)["website"]["sidebar"]["contents"]
    course = re.findall(r"^\| `(\d\d[a-z]?_\w+)` \|", (ROOT/"README.md").read_text(), flags=re.M)  # README's course-order table
    assert course and contents == ["index.ipynb"] + [f"{n}.ipynb" for n in course] == ["index.ipynb"] + [p.name for p in NBS if p.stem != "index"]
    assert "contents" not in yaml.safe_load((ROOT/"_quarto.yml").read_text())["website"]["sidebar"], "_quarto.yml would override the sidebar"

def _page(nb:Path) -> str:
    from nbdev.doclinks import _nbpath2html  # how nbdev names a notebook's page: 07_qlora_bert.ipynb -> qlora_bert.html
    return _nbpath2html(nb).name

# The rendered site (Quarto, from the executed notebooks) is tested in tests/test_site.py.
