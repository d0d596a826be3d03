"""The type stub describes the native module as it is."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import capsim
from capsim import _capsim

STUB = Path(capsim.__file__).with_name("_capsim.pyi")


def stub_names() -> dict[str, set[str]]:
    """Top-level names of the stub, and each class's members; TypedDicts
    describe the dicts the Python layer passes in and exist only here."""
    tree = ast.parse(STUB.read_text())
    names: dict[str, set[str]] = {"": set()}
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and any(
            isinstance(b, ast.Name) and b.id == "TypedDict" for b in node.bases
        ):
            continue
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names[""].add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names[""].add(node.target.id)
        if isinstance(node, ast.ClassDef):
            names[node.name] = {n.name for n in node.body if isinstance(n, ast.FunctionDef)}
    return names


def test_the_stub_lists_every_native_name():
    stub = stub_names()
    public = {n for n in dir(_capsim) if not n.startswith("_") or n == "__version__"}
    assert stub[""] == public
    for cls in ("NativeRun", "NativeSweep"):
        members = {n for n in dir(getattr(_capsim, cls)) if not n.startswith("_")}
        assert stub[cls] == members, cls


def test_the_stub_and_py_typed_ship_with_the_package():
    assert STUB.is_file() and STUB.with_name("py.typed").is_file()


def test_native_functions_take_the_stubs_parameters():
    tree = ast.parse(STUB.read_text())
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            sig = inspect.signature(getattr(_capsim, node.name))
            assert list(sig.parameters) == [a.arg for a in node.args.args], node.name
