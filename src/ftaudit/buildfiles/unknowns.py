"""Why a build description may compile more than the sources its extension targets list.

`targets()` of setup.py, meson.build and CMakeLists.txt read what they can, and a target whose
sources were not all understood is `complete=False`. That is enough to name a module's files, not to
say a file is *not* built: a setup.py can append to a source list after naming it, import an
`Extension` list from a local module (matplotlib's `setupext.py`), glob, `cythonize("*.pyx")`, build
a static library (`libraries=[("name", {"sources": ...})]`) or subclass `Extension`; a meson.build
can name a module through a variable; a CMake file can add a library linked into a module.
`reasons(kind, text, path, targets)` lists each such construct met in one build file (empty when the
file's targets are all its extensions compile, as far as a static reading can tell); a caller that
needs "not built" answers treats any reason as "unknown". Nothing is run; only the file's text and
the names of its directory's entries are read.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Sequence

from . import BuildTarget, source_path
from .setuppy import call_name as _call_name

# Calls that change a list in place: a source list named before them is not all it will hold.
_MUTATORS = frozenset({"append", "extend", "insert", "__iadd__"})
# numpy.distutils and setuptools ways of building a module without an `Extension(...)` call.
_OTHER_BUILDERS = frozenset({"add_extension", "add_library", "Library", "Configuration", "configuration"})


# The reasons (as `reasons` words them) that may build a module no target names, rather than only more
# sources of the named ones: with one, a target an environment variable adds is not known to be the module's only build.
_MODULE_REASONS = (
    "imports the local module",
    "relative import",
    "derives from Extension",
    "without an Extension",
    "cythonize()",
    "with no Extension call read",
    "with a computed name",
)


def may_add_modules(why: Sequence[str]) -> bool:
    """Does any of the reasons `why` (from `reasons`) say the file may build modules no target names?"""
    return any(marker in w for w in why for marker in _MODULE_REASONS)


def reasons(kind: str, text: str, path: str, targets: Sequence[BuildTarget]) -> list[str]:
    """The constructs of one build file (`kind`: its file name) that may build sources no target lists."""
    out = [
        f"{os.path.basename(t.path)}:{t.line}: sources of {t.name} not all literal" for t in targets if not t.complete
    ]
    if kind == "setup.py":
        out += _setup_py(text, path, targets)
    elif kind == "meson.build":
        out += _counted(text, path, r"\bextension_module\s*\(", len(targets), "extension_module() with a computed name")
    elif kind == "CMakeLists.txt":
        out += _cmake(text, path, len(targets))
    return out


def _counted(text: str, path: str, pattern: str, found: int, what: str) -> list[str]:
    """A reason when the file makes more targets (by `pattern`) than the reader understood."""
    calls = len(re.findall(pattern, text, re.I))
    return [f"{os.path.basename(path)}: {what}"] if calls > found else []


_CMAKE_UNKNOWN = re.compile(
    r"^\s*(add_library|add_subdirectory|include|file\s*\(\s*GLOB\w*|FetchContent_\w+|ExternalProject_Add|"
    r"target_link_libraries)\s*\(",
    re.I | re.M,
)


def _cmake(text: str, path: str, found: int) -> list[str]:
    modules = r"\b(?:pybind11_add_module|nanobind_add_module|python3?_add_library)\s*\("
    out = _counted(text, path, modules, found, "a module target with a computed name")
    for m in _CMAKE_UNKNOWN.finditer(text):
        line = text.count("\n", 0, m.start()) + 1
        word = m.group(1).split("(")[0].strip()
        out.append(f"{os.path.basename(path)}:{line}: {word}() may add sources to a module")
    return out


def _setup_py(text: str, path: str, targets: Sequence[BuildTarget]) -> list[str]:
    tree = ast.parse(text, filename=path)
    name = os.path.basename(path)
    base = os.path.dirname(os.path.abspath(path))
    out: list[str] = []
    found = len(targets)
    extension_calls = 0
    source_names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            out += _local_imports(node, base, name)
        elif isinstance(node, ast.ClassDef) and any("Extension" in _call_name(b) for b in node.bases):
            out.append(f"{name}:{node.lineno}: class {node.name} derives from Extension")
        elif isinstance(node, ast.Call):
            called = _call_name(node.func)
            if called.endswith("Extension"):
                extension_calls += 1
                for arg in [*node.args[1:2], *(k.value for k in node.keywords if k.arg == "sources")]:
                    source_names |= {n.id for n in ast.walk(arg) if isinstance(n, ast.Name)}
            elif called in _OTHER_BUILDERS:
                out.append(f"{name}:{node.lineno}: {called}() builds code without an Extension")
            elif called == "cythonize" and node.args and not _listed_pyx(node.args[0], base, targets):
                out.append(f"{name}:{node.lineno}: cythonize() of file names or patterns")
            elif called == "setup" and any(k.arg == "libraries" for k in node.keywords):
                out.append(f"{name}:{node.lineno}: setup(libraries=...) builds C libraries")
            elif called == "setup" and any(k.arg == "ext_modules" for k in node.keywords) and not found:
                out.append(f"{name}:{node.lineno}: setup(ext_modules=...) with no Extension call read")
        elif isinstance(node, ast.Dict) and any(
            isinstance(k, ast.Constant) and k.value == "sources" for k in node.keys
        ):
            out.append(f"{name}:{node.lineno}: a {{'sources': ...}} build specification")
        elif isinstance(node, ast.Attribute) and node.attr == "sources" and not isinstance(node.ctx, ast.Load):
            out.append(f"{name}:{node.lineno}: .sources assigned")
    if extension_calls > found:
        out.append(f"{name}: {extension_calls - found} Extension call(s) with a computed name")
    out += _mutated(tree, name, _closure(tree, source_names))
    return out


def _listed_pyx(node: ast.expr, base: str, targets: Sequence[BuildTarget]) -> bool:
    """Does `cythonize(node)` name only Cython files whose generated C a target lists (msgpack's
    `cythonize("msgpack/_cmsgpack.pyx")` for `sources=["msgpack/_cmsgpack.cpp"]`), or no file at all
    (`cythonize(extensions)`, `cythonize([Extension(...)])`)? A pattern (`*.pyx`) or another file is
    a module no target names."""
    stems = {os.path.splitext(s)[0] for t in targets for s in t.sources}
    todo: list[ast.AST] = [node]
    while todo:
        n = todo.pop()
        if isinstance(n, ast.Call) and _call_name(n.func).endswith("Extension"):
            continue  # cythonize([Extension(...)]): the Extension is read as a target
        todo += ast.iter_child_nodes(n)
        if not isinstance(n, ast.Constant) or not isinstance(n.value, str):
            continue
        if any(c in n.value for c in "*?[") or os.path.splitext(source_path(base, n.value))[0] not in stems:
            return False
    return True


def _local_imports(node: ast.Import | ast.ImportFrom, base: str, name: str) -> list[str]:
    """An import of a module that lives beside the setup.py (it may define or change Extensions)."""
    if isinstance(node, ast.ImportFrom) and node.level:
        return [f"{name}:{node.lineno}: relative import"]
    modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
    out = []
    for module in modules:
        top = module.split(".", 1)[0]
        if top and (os.path.isfile(os.path.join(base, top + ".py")) or os.path.isdir(os.path.join(base, top))):
            out.append(f"{name}:{node.lineno}: imports the local module {top}")
    return out


def _closure(tree: ast.Module, names: set[str]) -> set[str]:
    """`names` and the names their assignments (anywhere in the file) are computed from."""
    assigned: dict[str, set[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            used = {n.id for n in ast.walk(node.value) if isinstance(n, ast.Name)}
            for t in targets:
                for n in ast.walk(t):
                    if isinstance(n, ast.Name):
                        assigned.setdefault(n.id, set()).update(used)
    seen = set(names)
    todo = list(names)
    while todo:
        for more in assigned.get(todo.pop(), ()):
            if more not in seen:
                seen.add(more)
                todo.append(more)
    return seen


def _mutated(tree: ast.Module, name: str, names: set[str]) -> list[str]:
    """A reason per name a source list is computed from that is bound more than once or changed in place."""
    bindings: dict[str, int] = {}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            bindings[node.id] = bindings.get(node.id, 0) + 1
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name) and node.target.id in names:
            out.append(f"{name}:{node.lineno}: {node.target.id} extended")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in _MUTATORS
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in names
        ):
            out.append(f"{name}:{node.lineno}: {node.func.value.id}.{node.func.attr}()")
    out += [f"{name}: {n} assigned {bindings[n]} times" for n in sorted(names) if bindings.get(n, 0) > 1]
    return out
