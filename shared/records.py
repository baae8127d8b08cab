"""Immutable value classes for the shipped code, without ``dataclasses``' import-time cost.

``@dataclass`` writes and ``exec``s fresh source for ``__init__``, ``__repr__``, ``__eq__``,
``__hash__`` and ``__setattr__`` of every class it decorates, on every SCF cold start; ``@record``
gives the same frozen-value behaviour with methods written once, here. Type checkers see it as a
dataclass through ``dataclass_transform`` (PEP 681), so constructors stay typed.

Why it is kept (issue 15), measured by ``python -m benchmarks.machinery`` on the real zips
(Python 3.12, .pyc present, median of 31 cold starts per variant, 2-core VM; docs/performance.md
"Machinery"): with ``dataclass(frozen=True)`` instead, a cold start (import + first event) costs
+29 ms CPU on the upload function (114 -> 143 ms, +25 %) and +27 ms on the callback (126 -> 153
ms, +21 %); ``slots=True`` the same. Of the standard alternatives that are not drop-in, the same
34 classes as ``typing.NamedTuple`` import in 6-9 ms against record's 0.9 ms (and would bring
tuple equality and indexing, no inherited fields, no default factories); written out as plain
``__slots__`` classes they import as fast (1.0 ms) but need every ``__init__``/``__eq__``/
``__hash__``/``__repr__`` written per class: 630 lines instead of 324 for the upload zip's
classes, which would double shared/models.py. Warm CPU per event is the same either way
(dataclass 1.01-1.02x of record).

Only what the project uses: fields with a default, a ``field(default_factory=...)`` or
``field(repr=False)``; inheritance (a subclass appends its fields); ``replace``, ``fields`` and
``as_dict`` (shallow). Not supported, on purpose: ``__post_init__``, ``ClassVar``, ordering,
slots.
This module imports nothing from the project and does no work at import beyond defining these.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

_MISSING: Any = object()
_C = TypeVar("_C", bound=type)
_R = TypeVar("_R")


class FrozenRecordError(AttributeError):
    """Assigning to or deleting a field of a record (they are immutable)."""


class _FieldSpec:
    """One field: its name, its annotation as written (a string), and its options."""

    __slots__ = ("default", "default_factory", "name", "repr", "type")

    def __init__(
        self,
        name: str,
        type: Any,
        default: Any,
        default_factory: Callable[[], Any] | None,
        repr: bool,
    ) -> None:
        self.name = name
        self.type = type
        self.default = default
        self.default_factory = default_factory
        self.repr = repr

    @property
    def has_default(self) -> bool:
        return self.default is not _MISSING or self.default_factory is not None


class _Field:
    __slots__ = ("default", "default_factory", "repr")

    def __init__(self, default: Any, default_factory: Callable[[], Any] | None, repr: bool) -> None:
        self.default = default
        self.default_factory = default_factory
        self.repr = repr


def field(
    *,
    default: Any = _MISSING,
    default_factory: Callable[[], Any] | None = None,
    repr: bool = True,
) -> Any:
    """Per-field options of a record, like ``dataclasses.field``."""
    if default is not _MISSING and default_factory is not None:
        raise ValueError("cannot give both default and default_factory")
    return _Field(default, default_factory, repr)


if TYPE_CHECKING:
    from typing_extensions import dataclass_transform
else:

    def dataclass_transform(**_options: Any) -> Callable[[_R], _R]:
        return lambda decorated: decorated


def _own_annotations(cls: type) -> dict[str, Any]:
    # The class's own annotations only: on 3.9 ``cls.__annotations__`` may be a base's.
    own = cls.__dict__.get("__annotations__")  # noqa: RUF063 -- inspect is too costly to import
    if own is None and sys.version_info >= (3, 10):
        own = cls.__annotations__  # lazily created (3.14: evaluated on demand)
    return dict(own or {})


def _fields_of(cls: type) -> tuple[_FieldSpec, ...]:
    specs: dict[str, _FieldSpec] = {spec.name: spec for spec in getattr(cls, "__record__", ())}
    for name, annotation in _own_annotations(cls).items():
        value = cls.__dict__.get(name, _MISSING)
        if isinstance(value, _Field):
            specs[name] = _FieldSpec(
                name, annotation, value.default, value.default_factory, value.repr
            )
            delattr(cls, name)  # the class attribute must not shadow a missing instance value
        else:
            specs[name] = _FieldSpec(name, annotation, value, None, True)
    ordered = tuple(specs.values())
    seen_default = False
    for spec in ordered:
        if seen_default and not spec.has_default:
            raise TypeError(f"{cls.__name__}: non-default field {spec.name!r} after a default")
        seen_default = seen_default or spec.has_default
    return ordered


def _init(self: Any, *args: Any, **kwargs: Any) -> None:
    specs: tuple[_FieldSpec, ...] = type(self).__record__
    name = type(self).__name__
    if len(args) > len(specs):
        raise TypeError(f"{name}() takes {len(specs)} arguments, got {len(args)}")
    for spec, value in zip(specs, args):
        if spec.name in kwargs:
            raise TypeError(f"{name}() got two values for {spec.name!r}")
        kwargs[spec.name] = value
    values: dict[str, Any] = {}
    for spec in specs:
        value = kwargs.pop(spec.name, _MISSING)
        if value is _MISSING:
            if spec.default_factory is not None:
                value = spec.default_factory()
            elif spec.default is not _MISSING:
                value = spec.default
            else:
                raise TypeError(f"{name}() missing argument {spec.name!r}")
        values[spec.name] = value
    if kwargs:
        unexpected = next(iter(kwargs))
        raise TypeError(f"{name}() got an unexpected argument {unexpected!r}")
    object.__setattr__(self, "__dict__", values)  # one store instead of one per field


def _values(record: Any) -> tuple[Any, ...]:
    return tuple(getattr(record, spec.name) for spec in type(record).__record__)


def _eq(self: Any, other: object) -> object:
    if other.__class__ is not self.__class__:
        return NotImplemented
    return _values(self) == _values(other)


def _hash(self: Any) -> int:
    return hash(_values(self))


def _repr(self: Any) -> str:
    shown = (f"{s.name}={getattr(self, s.name)!r}" for s in type(self).__record__ if s.repr)
    return f"{type(self).__qualname__}({', '.join(shown)})"


def _refuse_setattr(self: Any, name: str, value: Any) -> None:
    raise FrozenRecordError(f"cannot assign to field {name!r} of {type(self).__name__}")


def _refuse_delattr(self: Any, name: str) -> None:
    raise FrozenRecordError(f"cannot delete field {name!r} of {type(self).__name__}")


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def record(cls: _C) -> _C:
    """Make ``cls`` an immutable value class over its annotated fields (see module docstring)."""
    cls.__record__ = _fields_of(cls)  # type: ignore[attr-defined]
    cls.__init__ = _init  # type: ignore[misc]
    cls.__eq__ = _eq  # type: ignore[method-assign,assignment]
    cls.__hash__ = _hash  # type: ignore[method-assign,assignment]
    cls.__repr__ = _repr  # type: ignore[method-assign,assignment]
    cls.__setattr__ = _refuse_setattr  # type: ignore[method-assign,assignment]
    cls.__delattr__ = _refuse_delattr  # type: ignore[method-assign,assignment]
    return cls


def fields(value: Any) -> tuple[_FieldSpec, ...]:
    """The fields of a record class or instance, in order (``.name``, ``.type``)."""
    cls: Any = value if isinstance(value, type) else type(value)
    return tuple(cls.__record__)


def as_dict(value: Any) -> dict[str, Any]:
    """The record's fields as a dict (shallow: nested records stay records)."""
    return {spec.name: getattr(value, spec.name) for spec in type(value).__record__}


def replace(value: _R, **changes: Any) -> _R:
    """A copy of the record with some fields changed (unknown names raise TypeError)."""
    return type(value)(**{**as_dict(value), **changes})
