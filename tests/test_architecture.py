"""The floors of ../shared/ARCHITECTURE.md, checked: a module imports only from modules below it.

Floor 2 holds rooms that use each other (train runs gguf_export as a stage, quality scores with data's chat format), so
within a floor the order below is the rule: data and gguf_export, then quality, then the two jobs. Modules the plan
does not name yet sit where their imports put them: records and budget (nothing of ours) on floor 1, scaling (it reads
train's config) on floor 3 beside sweep."""
import ast
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent/"finetune_course"
FLOORS = {"core": 0,
          "lora": 1, "dora": 1.1, "nf4": 1.1, "pdftext": 1, "records": 1, "budget": 1,
          "data": 2, "gguf_export": 2, "quality": 2.1, "train": 2.2, "classify": 2.2,
          "sweep": 3, "scaling": 3,
          "compare": 4}

def _ours(tree) -> set:
    "The package modules a module's code imports, at the top or inside functions"
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1 and node.module: out.add(node.module.split(".")[0])
            elif node.level == 0 and (node.module or "").startswith("finetune_course."): out.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            out |= {a.name.split(".")[1] for a in node.names if a.name.startswith("finetune_course.")}
    return out

def test_every_module_has_a_floor():
    mods = {p.stem for p in PKG.glob("*.py") if not p.stem.startswith("_")}
    assert mods == set(FLOORS), f"give these a floor here (and in ARCHITECTURE.md's plan): {mods ^ set(FLOORS)}"

def test_imports_go_down():
    bad = []
    for name, floor in FLOORS.items():
        for dep in _ours(ast.parse((PKG/f"{name}.py").read_text())) - {name}:
            if FLOORS.get(dep, 99) >= floor: bad.append(f"{name} (floor {floor}) imports {dep} (floor {FLOORS.get(dep)})")
    assert not bad, "\n".join(bad)

def test_core_imports_nothing_of_ours():
    assert _ours(ast.parse((PKG/"core.py").read_text())) <= {"core"}
