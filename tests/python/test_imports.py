"""The Python package's shape: no import circle, a thin __init__.py, no file over 500 lines.

Read from the source tree with `ast` (nothing is imported), so a circle that Python happens to
survive today (a function-level import, an ``if TYPE_CHECKING:`` block, a late import at the
bottom of a module) still fails here.
"""
import ast
import os

import pytest

PACKAGE = "capexsim"


def _package_dir(source_dir):
    return os.path.join(source_dir, "python", PACKAGE)


def _modules(root: str) -> dict:
    """{dotted module name: file} for every .py file under the package (sub-packages too)."""
    found = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        rel = os.path.relpath(folder, os.path.dirname(root))
        package = rel.replace(os.sep, ".")
        for f in sorted(files):
            if f.endswith(".py"):
                name = package if f == "__init__.py" else f"{package}.{f[:-3]}"
                found[name] = os.path.join(folder, f)
            elif f.endswith(".pyi") and f[:-1] not in files:  # a compiled module (_core)
                found[f"{package}.{f[:-4]}"] = None
    return found


def _is_package(name: str, modules: dict) -> bool:
    return modules[name] is not None and modules[name].endswith("__init__.py")


def _targets(name: str, node, modules: dict) -> set:
    """The package's modules an import statement in module `name` runs (without the parent
    packages Python imports on the way, which are added by the caller)."""
    out = set()
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.name == PACKAGE or alias.name.startswith(PACKAGE + "."):
                parts = alias.name.split(".")
                # `import capexsim.a.b` runs capexsim, capexsim.a, capexsim.a.b
                out.update(".".join(parts[:k]) for k in range(1, len(parts) + 1)
                           if ".".join(parts[:k]) in modules)
        return out
    assert isinstance(node, ast.ImportFrom)
    if node.level == 0:
        if node.module is None or not (node.module == PACKAGE or node.module.startswith(PACKAGE + ".")):
            return out
        base = node.module
    else:
        package = name if _is_package(name, modules) else name.rpartition(".")[0]
        for _ in range(node.level - 1):
            package = package.rpartition(".")[0]
        base = f"{package}.{node.module}" if node.module else package
    if base not in modules:
        raise AssertionError(f"{modules[name]}: imports {base}, which is no module of the package")
    for alias in node.names:
        sub = f"{base}.{alias.name}"
        # `from . import result` is the module capexsim.result; `from . import _count` a name
        # that capexsim/__init__.py defines or imports
        out.add(sub if sub in modules else base)
    return out


def import_graph(root: str) -> dict:
    """{module: set of package modules it imports}, module-level and function-level alike."""
    modules = _modules(root)
    graph = {}
    for name, path in modules.items():
        if path is None:  # compiled: imports no Python module of the package
            graph[name] = set()
            continue
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read(), filename=path)
        edges = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for target in _targets(name, node, modules):
                    # importing capexsim.plotting.results first runs capexsim.plotting; the
                    # root package, and the importer's own packages, are already running
                    if target != name:
                        edges.add(target)
                    parts = target.split(".")
                    for k in range(2, len(parts)):
                        t = ".".join(parts[:k])
                        if t in modules and t != name and not name.startswith(t + "."):
                            edges.add(t)
        graph[name] = edges
    return graph


def find_cycle(graph: dict):
    """One cycle as a list of modules [a, b, ..., a], or None."""
    state = {}  # 1: on the stack, 2: done
    stack = []

    def visit(node):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_the_import_graph_reads_every_kind_of_import(tmp_path):
    pkg = tmp_path / PACKAGE
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("from .a import f\nfrom . import b, _ext\n")
    (pkg / "_ext.pyi").write_text("")
    (pkg / "a.py").write_text("def f():\n    from . import helper\n")  # a name of __init__
    (pkg / "b.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                              "    from .sub.c import C\n")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "c.py").write_text("import capexsim.a\nfrom .. import b\n")
    g = import_graph(str(pkg))
    assert g["capexsim"] == {"capexsim.a", "capexsim.b", "capexsim._ext"}
    assert g["capexsim.a"] == {"capexsim"}
    assert g["capexsim.b"] == {"capexsim.sub", "capexsim.sub.c"}
    assert g["capexsim.sub.c"] == {"capexsim", "capexsim.a", "capexsim.b"}
    assert find_cycle(g) is not None


def test_the_package_has_no_import_circle(source_dir):
    graph = import_graph(_package_dir(source_dir))
    assert "capexsim.result" in graph and "capexsim.report" in graph
    cycles = []
    while (cycle := find_cycle(graph)) is not None:  # each circle, by removing one edge of it
        cycles.append(" -> ".join(cycle))
        graph[cycle[-2]].discard(cycle[-1])
    assert not cycles, "import circles:\n" + "\n".join(cycles)


def test_plotting_does_not_import_result(source_dir):
    """result imports plotting for its plot_* methods; no chart module imports result back,
    not even under ``if TYPE_CHECKING:``."""
    graph = import_graph(_package_dir(source_dir))
    charts = [m for m in graph if m == "capexsim.plotting" or m.startswith("capexsim.plotting.")]
    assert charts
    for m in charts:
        assert "capexsim.result" not in graph[m], m


def test_init_is_a_thin_face(source_dir):
    """capexsim/__init__.py holds imports, ``__all__`` and the version: no code of its own."""
    path = os.path.join(_package_dir(source_dir), "__init__.py")
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    for k, node in enumerate(tree.body):
        if k == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # the docstring
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        if isinstance(node, ast.Assign) and [t.id for t in node.targets if isinstance(t, ast.Name)] \
                in (["__all__"], ["__version__"]):
            continue
        raise AssertionError(f"__init__.py line {node.lineno}: {ast.dump(node)[:80]}: the package's "
                             "face holds imports, __all__ and __version__ only; put code in a module")


def test_every_public_name_is_importable_from_the_package():
    import capexsim
    for name in capexsim.__all__:
        assert getattr(capexsim, name) is not None, name
    assert isinstance(capexsim.__version__, str) and capexsim.__version__


@pytest.mark.parametrize("name", ["plot_fan", "plot_hist", "plot_cdf", "plot_compare", "plot_diff",
                                  "plot_tornado", "plot_sobol", "plot_sobol_over_time",
                                  "scenario_events"])
def test_charts_stay_capexsim_plotting_names(name):
    import capexsim
    import capexsim.plotting
    assert getattr(capexsim.plotting, name) is getattr(capexsim, name)


def test_no_module_is_over_500_lines(source_dir):
    """One role per file: every module of the package under 500 lines."""
    long = []
    for name, path in _modules(_package_dir(source_dir)).items():
        if path is None:
            continue
        with open(path, encoding="utf-8") as f:
            n = sum(1 for _ in f)
        if n > 500:
            long.append(f"{os.path.relpath(path, source_dir)}: {n} lines")
    assert not long, "\n".join(long)
