"""The import layers of `reconciler/`: no cycle, and no import from a lower layer to a higher.

Every import counts, at the top of a module or inside a function (a lazy import is still an
arrow). A module's layer is that of the longest prefix below that names it. Modules of one
layer may import each other (without a cycle); the emulator is a tower of its own beside the
others: it may use only the two lowest layers.
"""

from __future__ import annotations

import ast
from pathlib import Path

import reconciler

ROOT = Path(reconciler.__file__).parent
EMULATOR = "reconciler.emulator"

# The layer order, written once: lowest first.
LAYERS: tuple[tuple[str, ...], ...] = (
    # words, errors, markers, empty forms, untrusted text, safe writes, credential names,
    # the file policy, value sources, the YAML reader, the settings' forms, the vendored
    # OpenAPI schema (binding kinds) and what is derived from it
    (
        "reconciler",
        "reconciler.errors",
        "reconciler.words",
        "reconciler.markers",
        "reconciler.empty",
        "reconciler.untrusted",
        "reconciler.safewrite",
        "reconciler.credentials",
        "reconciler.file_policy",
        "reconciler.asset_files",
        "reconciler.values",
        "reconciler.facets",
        "reconciler.yamlpos",
        "reconciler.yaml_errors",
        "reconciler.settings_forms",
        "reconciler.openapi",
    ),
    # the shared model both sides load into
    ("reconciler.state",),
    # desired side, live side, the plan
    ("reconciler.manifest", "reconciler.cloudflare", "reconciler.plan"),
    # carrying plans out, export, the workflow both front ends run
    (
        "reconciler.apply",
        "reconciler.apply_guard",
        "reconciler.apply_secrets",
        "reconciler.apply_steps",
        "reconciler.export",
        "reconciler.export_facets",
        "reconciler.local",
        "reconciler.workflow",
    ),
    # what both front ends say
    ("reconciler.sentences", "reconciler.documents"),
    # the two front ends, side by side: the CLI's modules and the MCP server
    ("reconciler.cli.", "reconciler.mcp"),
    # the program: both front ends' commands on one click group (`reconciler/cli/__init__`)
    ("reconciler.cli", "reconciler.__main__"),
)
# Front ends that stand side by side: neither may import the other.
PEERS = ("reconciler.cli.", "reconciler.mcp")
# What the emulator may use besides itself: the lowest layers (words, errors, the file
# policy, the YAML reader with positions, the model's constants).
EMULATOR_MAY_USE = LAYERS[0] + LAYERS[1]


def _modules() -> dict[str, Path]:
    found = {}
    for path in ROOT.rglob("*.py"):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """Every reconciler module `name` imports, anywhere in the file."""
    tree = ast.parse(path.read_text(), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
                for alias in node.names
            ]
        else:
            continue
        out |= {t for t in targets if t in MODULES}
    out.discard(name)
    return out


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _matches(name: str, prefix: str) -> bool:
    """`a.b` names the module a.b and everything below it; `a.b.` only what is below it;
    the top package `reconciler` names only itself (its `__init__`)."""
    if prefix.endswith("."):
        return name.startswith(prefix)
    if prefix == "reconciler":
        return name == prefix
    return name == prefix or name.startswith(prefix + ".")


def _prefix(name: str, prefixes: tuple[str, ...]) -> str | None:
    matches = [p for p in prefixes if _matches(name, p)]
    return max(matches, key=len) if matches else None


def _layer(name: str) -> int:
    best: tuple[int, int] | None = None  # (prefix length, layer)
    for rank, prefixes in enumerate(LAYERS):
        prefix = _prefix(name, prefixes)
        if prefix is not None and (best is None or len(prefix) > best[0]):
            best = (len(prefix), rank)
    assert best is not None, f"{name} is in no layer: add it to LAYERS"
    return best[1]


def test_every_module_has_a_layer() -> None:
    for name in MODULES:
        if not name.startswith(EMULATOR + ".") and name != EMULATOR:
            _layer(name)


def test_no_import_runs_up_a_layer() -> None:
    wrong = []
    for name, targets in GRAPH.items():
        if name == EMULATOR or name.startswith(EMULATOR + "."):
            continue
        for target in targets:
            if target == EMULATOR or target.startswith(EMULATOR + "."):
                continue  # the emulator is a tower beside the layers; see the next test
            if _layer(target) > _layer(name):
                wrong.append(f"{name} (layer {_layer(name)}) imports {target} ({_layer(target)})")
    assert wrong == []


def test_front_ends_do_not_import_each_other() -> None:
    wrong = []
    for name, targets in GRAPH.items():
        mine = _prefix(name, PEERS)
        if mine is None:
            continue
        wrong += [f"{name} imports {t}" for t in targets if _prefix(t, PEERS) not in (None, mine)]
    assert wrong == []


def test_the_emulator_uses_only_the_lowest_layer() -> None:
    wrong = []
    for name, targets in GRAPH.items():
        if not (name == EMULATOR or name.startswith(EMULATOR + ".")):
            continue
        for target in targets:
            inside = target == EMULATOR or target.startswith(EMULATOR + ".")
            if not inside and _prefix(target, EMULATOR_MAY_USE) is None:
                wrong.append(f"{name} imports {target}")
    assert wrong == []


def test_no_import_cycle() -> None:
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(name: str) -> None:
        state[name] = 1
        path.append(name)
        for target in sorted(GRAPH[name]):
            if state.get(target) == 1:
                cycles.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target)
        path.pop()
        state[name] = 2

    for name in sorted(GRAPH):
        if name not in state:
            visit(name)
    assert cycles == []


def test_the_checks_see_lazy_imports() -> None:
    """A function-level import is found like any other (workflow imports export lazily)."""
    assert "reconciler.export" in GRAPH["reconciler.workflow"]
