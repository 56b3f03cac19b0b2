"""The architecture as a test: imports go down the layers, never up or sideways."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Lower numbers are lower layers; a module may import its own package and lower layers only.
LAYERS = {
    "kb.core": 0,
    "kb.ingest": 1, "kb.search": 1, "kb.catalogue": 1,
    "kb.curation": 2, "kb.assessment": 2,
    "kb.evaluation": 3,  # it measures search and the recommendations
    "kb.web": 4,
    "kb.cli": 5,
}
BLUEPRINTS = ("main", "api", "assess", "curate")


def package(module: str) -> str | None:
    return next((p for p in sorted(LAYERS, key=len, reverse=True)
                 if module == p or module.startswith(p + ".")), None)


def imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found += [node.module] + [f"{node.module}.{a.name}" for a in node.names]
    return [m for m in found if m.startswith("kb.")]


def modules():
    for path in sorted((ROOT / "kb").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        yield path, ".".join(p for p in parts if p != "__init__")


def test_every_module_belongs_to_a_layer():
    assert [name for _, name in modules() if name != "kb" and package(name) is None] == []


def test_imports_only_go_down_the_layers():
    wrong = []
    for path, name in modules():
        own = package(name)
        for target in imports(path):
            other = package(target)
            if other is None or other == own:
                continue
            if own is None or LAYERS[other] >= LAYERS[own]:
                wrong.append(f"{name} imports {target}")
    assert wrong == []


def test_blueprints_do_not_import_each_other():
    wrong = []
    for path, name in modules():
        parts = name.split(".")
        if len(parts) > 2 and parts[1] == "web" and parts[2] in BLUEPRINTS:
            for target in imports(path):
                t = target.split(".")
                if len(t) > 2 and t[1] == "web" and t[2] in BLUEPRINTS and t[2] != parts[2]:
                    wrong.append(f"{name} imports {target}")
    assert wrong == []


def test_a_package_says_what_it_owns():
    for folder in ("core", "curation", "assessment", "evaluation", "search", "ingest", "web"):
        doc = ast.get_docstring(ast.parse((ROOT / "kb" / folder / "__init__.py").read_text()))
        assert doc and len(doc) > 40, folder


def test_the_check_sees_an_import_that_goes_up(tmp_path):
    upward = tmp_path / "upward.py"
    upward.write_text("from kb.web.services import db\nimport kb.curation.review\n")
    assert imports(upward) == ["kb.web.services", "kb.web.services.db", "kb.curation.review"]
    assert LAYERS[package("kb.web.services")] > LAYERS[package("kb.search.documents")]
