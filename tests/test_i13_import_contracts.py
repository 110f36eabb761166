"""Issue 13, the layers as imports (read with ast, so an import inside a function or under
TYPE_CHECKING counts too): the canvas modules import each other without circles, the engine
never reaches the designer or Qt, the layer catalogue never reaches training or code
generation, and the canvas never reaches the training panel."""

from __future__ import annotations

import pytest
from import_graph import cycles, import_graph, imported_names, project_modules, reachable

QT = ("PySide6", "pyqtgraph", "shiboken6")
# (the modules under this name, through any chain of imports, never load these)
FORBIDDEN = (
    ("engine", ("designer",) + QT),
    ("engine.layers", ("engine.training", "engine.codegen")),
    ("designer.canvas", ("designer.training",)),
)
# Copied word for word into exported scripts, so it imports nothing of the project: any
# layer may use it (its file checks name a folder or a pipe the same way everywhere).
LEAF = "engine.training.portable"


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return import_graph()


def test_the_canvas_modules_import_each_other_without_circles(graph):
    canvas = [name for name in graph if _under(name, "designer.canvas")]
    assert len(canvas) > 10
    assert cycles(graph, canvas) == []


def test_a_circle_is_found_however_the_import_is_written(tmp_path, monkeypatch):
    """The check itself: a circle closed by an import inside a function is a circle."""
    import import_graph as graph_module
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg.b import thing\n")
    (package / "b.py").write_text("def thing():\n    from . import a\n")
    monkeypatch.setattr(graph_module, "ROOT", tmp_path)
    modules = {graph_module.module_name(p): p for p in package.rglob("*.py")}
    assert cycles(import_graph(modules), modules) == [["pkg.a", "pkg.b", "pkg.a"]]


@pytest.mark.parametrize(("layer", "never"), FORBIDDEN, ids=[f[0] for f in FORBIDDEN])
def test_layers_import_only_downwards(graph, layer, never):
    modules = project_modules()
    offenders = {}
    for name in graph:
        if not _under(name, layer):
            continue
        loaded = reachable(graph, name) | {name}
        names = set().union(*(imported_names(modules[m]) for m in loaded))
        bad = sorted(n for n in names if any(_under(n, forbidden) for forbidden in never)
                     and not _under(n, LEAF))
        if bad:
            offenders[name] = bad
    assert offenders == {}


def test_the_portable_code_imports_nothing_of_the_project(graph):
    modules = project_modules()
    portable = [name for name in graph if _under(name, LEAF)]
    assert portable
    names = set().union(*(imported_names(modules[m]) for m in portable))
    assert sorted(n for n in names if _under(n, "engine") and not _under(n, LEAF)) == []
    assert not any(_under(n, "designer") for n in names)
