"""The house rules, read from the source: a folder is a layer, and layers import only downwards.

    pages/  ->  ui/  ->  wgan_core (cli, presets)  ->  serve  ->  lessons, files  ->  draw, engine

- ``wgan_core/engine``   the engine: imports nothing else of wgan_core (usable from a notebook);
- ``wgan_core/draw``     pictures and chart specs from plain arrays: imports nothing else of wgan_core;
- ``wgan_core/lessons``  the lessons' computations: the engine and draw;
- ``wgan_core/files``    files in and out: the engine and draw;
- ``wgan_core/serve``    worker processes and run handles: the engine, lessons and files;
- ``wgan_core`` (top)    presets and the command line: any layer of wgan_core;
- nothing in wgan_core imports streamlit or ui; ui never imports pages.
Every import is found by walking the syntax tree (top-level and inside functions), so a
lazy import counts too.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ALLOWED = {
    "engine": {"engine"},
    "draw": {"draw"},
    "lessons": {"lessons", "engine", "draw"},
    "files": {"files", "engine", "draw"},
    "serve": {"serve", "engine", "lessons", "files"},
    "top": {"top", "engine", "draw", "lessons", "files", "serve"},
}
MAX_LINES = 350


def layer_of(path: Path) -> str:
    parts = path.relative_to(ROOT / "wgan_core").parts
    return parts[0] if len(parts) > 1 else "top"


def imported_modules(path: Path, root: Path = ROOT) -> list[str]:
    """Absolute names of every module a file imports (relative imports resolved against ``root``)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = ".".join(path.relative_to(root).with_suffix("").parts[:-1])
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(up + ([base] if base else []))
            names += [base] + [f"{base}.{a.name}" for a in node.names]
    return names


def wgan_layer(module: str) -> str | None:
    """The layer a ``wgan_core...`` module name belongs to (None for other packages)."""
    parts = module.split(".")
    if parts[0] != "wgan_core":
        return None
    if len(parts) > 1 and parts[1] in ALLOWED:
        return parts[1]
    return "top"


SOURCES = sorted((ROOT / "wgan_core").rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_each_layer_imports_only_what_it_may(path):
    mine = layer_of(path)
    bad = sorted({m for m in imported_modules(path)
                  if (lay := wgan_layer(m)) is not None and lay not in ALLOWED[mine]})
    assert not bad, f"{path.relative_to(ROOT)} ({mine}) imports {bad}; {mine} may import {sorted(ALLOWED[mine])}"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_engine_side_never_imports_the_ui(path):
    bad = [m for m in imported_modules(path) if m.split(".")[0] in ("streamlit", "ui", "pages")]
    assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def test_ui_never_imports_pages():
    for path in sorted((ROOT / "ui").rglob("*.py")):
        assert not [m for m in imported_modules(path) if m.split(".")[0] == "pages"], path


def test_a_folder_is_a_layer():
    """Every module of wgan_core lives in one of the declared layers (or at the top)."""
    folders = {p.name for p in (ROOT / "wgan_core").iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert folders == set(ALLOWED) - {"top"}


def test_no_source_file_is_longer_than_the_house_limit():
    files = [p for d in ("wgan_core", "ui", "pages", "benchmarks", "tests") for p in (ROOT / d).rglob("*.py")]
    files += [ROOT / "app.py"] + list((ROOT / "ui").rglob("*.js"))
    long = {str(p.relative_to(ROOT)): n for p in files if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not long, f"over {MAX_LINES} lines: {long}"


def test_the_checker_sees_a_forbidden_import(tmp_path):
    """The rule has teeth: an engine module importing serve (absolute), draw (relative) or streamlit is caught."""
    probe = tmp_path / "wgan_core" / "engine" / "probe.py"
    probe.parent.mkdir(parents=True)
    probe.write_text("import streamlit\nfrom wgan_core.serve import pool\n\ndef f():\n    from ..draw import render\n")
    names = imported_modules(probe, root=tmp_path)
    assert "streamlit" in names and "wgan_core.serve.pool" in names and "wgan_core.draw.render" in names
    assert {wgan_layer(m) for m in names} - {None} - ALLOWED["engine"] == {"serve", "draw"}


def _magic_written(tree: ast.Module) -> list[int]:
    """Lines of expression statements Streamlit's magic would write on the page: any expression on its own
    line that is not a call, a docstring, a yield or an await (``a and f()`` writes None or False)."""
    found = []

    def block(body: list, docstring_ok: bool) -> None:
        for i, node in enumerate(body):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                block(node.body, True)
            elif isinstance(node, ast.Expr):
                if isinstance(node.value, (ast.Call, ast.Yield, ast.YieldFrom, ast.Await)):
                    continue
                if docstring_ok and i == 0 and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                    continue
                found.append(node.lineno)
            else:
                for field in ("body", "orelse", "finalbody", "handlers", "cases"):
                    for sub in getattr(node, field, []) or []:
                        block(sub.body, False) if isinstance(sub, (ast.ExceptHandler, ast.match_case)) \
                            else block([sub], False)

    block(tree.body, True)
    return sorted(found)


@pytest.mark.parametrize("path", [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py"))], ids=lambda p: p.name)
def test_no_page_writes_a_stray_value(path):
    """A page is run with Streamlit's magic on: a bare ``x and f()`` would print None or True on screen."""
    assert _magic_written(ast.parse(path.read_text())) == []


def test_the_magic_checker_sees_a_stray_value():
    assert _magic_written(ast.parse('"""doc"""\nx = 1\nx and print(x)\ndef f():\n    """doc"""\n    '
                                    'print(1) if x else None\n    if x:\n        [print(i) for i in x]\n')) == [3, 6, 8]
