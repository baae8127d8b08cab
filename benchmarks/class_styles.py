"""What defining our value classes costs at import, per way of writing them (issue 15).

The ``@record`` classes a function zip defines while ``index`` is imported are read from the zip
itself (names, fields, which have defaults); the same shapes are then written out in each style:
``record`` (shared/records.py, from the zip), ``dataclass`` (frozen), ``namedtuple``
(``typing.NamedTuple``) and ``slots`` (a plain class with ``__slots__`` and hand-written
``__init__``, ``__eq__``, ``__hash__``, ``__repr__`` and a refusing ``__setattr__``: what
``record`` generates, written once per class). Each style is one module, compiled to a .pyc by
the runtime's Python, imported in a fresh interpreter that has already imported ``typing``,
``dataclasses`` and ``shared.records`` (so only the classes are timed), many times round-robin.
NamedTuple cannot extend a base's fields and has no default factories: the synthetic classes are
flattened and use immutable defaults, so this measures the class statements, not a port.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
from pathlib import Path
from typing import Any

from deploy.bytecode import PROJECT_PYC_MODE, compile_tree

STYLES = ("record", "dataclass", "namedtuple", "slots")
_SHAPES_SCRIPT = """
import importlib, json, sys
sys.path[0] = sys.argv[1]
importlib.import_module("index")
shapes = []
for name, module in sorted(sys.modules.items()):
    if not name.startswith("shared"):
        continue
    for value in vars(module).values():
        specs = getattr(value, "__record__", None)
        if isinstance(value, type) and specs is not None and value.__module__ == name:
            shapes.append({"name": value.__name__,
                           "fields": [[s.name, s.has_default] for s in specs]})
print(json.dumps(shapes))
"""
_TIMING_SCRIPT = """
import sys, time, typing, dataclasses
sys.path[0] = sys.argv[1]
import shared.records
started = time.perf_counter()
__import__(sys.argv[2])
print((time.perf_counter() - started) * 1000)
"""


def record_shapes(python: str, zip_dir: Path) -> list[dict[str, Any]]:
    """The ``@record`` classes importing ``index`` defines: name and (field, has default)."""
    done = subprocess.run(
        [python, "-S", "-s", "-c", _SHAPES_SCRIPT, str(zip_dir)],
        cwd=zip_dir, capture_output=True, text=True, check=True,
        env={"PYTHONDONTWRITEBYTECODE": "1", "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    shapes: list[dict[str, Any]] = json.loads(done.stdout)
    return shapes


def _class_source(style: str, number: int, fields: list[list[Any]]) -> str:
    name = f"C{number}"
    if style in ("record", "dataclass", "namedtuple"):
        head = {"record": "@record\n", "dataclass": "@dataclass(frozen=True)\n", "namedtuple": ""}
        base = "(NamedTuple)" if style == "namedtuple" else ""
        body = [f"    {field}: str{' = None' if default else ''}" for field, default in fields]
        return f"{head[style]}class {name}{base}:\n" + "\n".join(body or ["    pass"]) + "\n"
    names = [field for field, _ in fields]
    params = ", ".join(f"{field}=None" if default else field for field, default in fields)
    values = "(" + "".join(f"self.{field}, " for field in names) + ")"
    other = "(" + "".join(f"other.{field}, " for field in names) + ")"
    shown = ", ".join(f"{field}={{self.{field}!r}}" for field in names)
    init = [f"        object.__setattr__(self, {field!r}, {field})" for field in names]
    return "\n".join([
        f"class {name}:",
        f"    __slots__ = {tuple(names)!r}",
        f"    def __init__(self{', ' if params else ''}{params}):",
        *(init or ["        pass"]),
        "    def __eq__(self, other):",
        f"        return other.__class__ is self.__class__ and {values} == {other}",
        "    def __hash__(self):",
        f"        return hash({values})",
        "    def __repr__(self):",
        f'        return f"{name}({shown})"',
        "    def __setattr__(self, name, value):",
        '        raise AttributeError("frozen")',
        "",
    ])  # fmt: skip


def style_module(style: str, shapes: list[dict[str, Any]]) -> str:
    header = [
        "from __future__ import annotations",
        "from dataclasses import dataclass",
        "from typing import NamedTuple",
        "from shared.records import record",
        "",
    ]
    classes = [_class_source(style, n, shape["fields"]) for n, shape in enumerate(shapes)]
    return "\n".join(header) + "\n" + "\n\n".join(classes)


def time_styles(python: str, zip_dir: Path, work: Path, runs: int) -> dict[str, float]:
    """Median ms to import each style's module of the zip's record classes."""
    shapes = record_shapes(python, zip_dir)
    tree = work / "styles"
    shutil.rmtree(tree, ignore_errors=True)
    shutil.copytree(zip_dir / "shared", tree / "shared")
    modules = {style: f"synth_{style}" for style in STYLES}
    for style, module in modules.items():
        (tree / f"{module}.py").write_text(style_module(style, shapes), encoding="utf-8")
    compile_tree(python, tree, [f"{m}.py" for m in modules.values()], PROJECT_PYC_MODE)
    times: dict[str, list[float]] = {style: [] for style in STYLES}
    for _ in range(runs):
        for style, module in modules.items():
            done = subprocess.run(
                [python, "-S", "-s", "-c", _TIMING_SCRIPT, str(tree), module],
                cwd=tree, capture_output=True, text=True, check=True,
                env={"PYTHONDONTWRITEBYTECODE": "1", "PATH": "/usr/bin:/bin"},
            )  # fmt: skip
            times[style].append(float(done.stdout))
    medians = {style: statistics.median(values) for style, values in times.items()}
    medians["classes"] = float(len(shapes))
    return medians
