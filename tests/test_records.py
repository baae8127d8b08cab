"""shared.records: frozen value classes that behave like frozen dataclasses where we rely on it."""

from __future__ import annotations

import pytest

from shared.records import FrozenRecordError, as_dict, field, record, replace


@record
class Point:
    x: int
    y: int = 0
    tags: list[str] = field(default_factory=list)
    secret: str = field(default="s", repr=False)


@record
class Other:
    x: int
    y: int = 0
    tags: list[str] = field(default_factory=list)
    secret: str = field(default="s", repr=False)


@record
class Base:
    a: int


@record
class Child(Base):
    b: str = "b"


def test_positional_keyword_and_defaults() -> None:
    p = Point(1, y=2)
    assert (p.x, p.y, p.tags, p.secret) == (1, 2, [], "s")
    assert Point(x=3).y == 0


def test_default_factory_gives_a_fresh_value_each_time() -> None:
    first, second = Point(1), Point(1)
    assert first.tags == [] and first.tags is not second.tags


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((), {}, "missing argument 'x'"),
        ((1,), {"x": 2}, "two values for 'x'"),
        ((1,), {"z": 2}, "unexpected argument 'z'"),
        ((1, 2, [], "s", 5), {}, "takes 4 arguments, got 5"),
    ],
)
def test_bad_arguments_are_type_errors(
    args: tuple[object, ...], kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(TypeError, match=message):
        Point(*args, **kwargs)  # type: ignore[arg-type]


def test_equality_and_hash_are_by_class_and_values() -> None:
    assert Point(1, 2) == Point(1, 2)
    assert Point(1, 2) != Point(1, 3)
    assert Point(1, 2) != Other(1, 2)  # same values, another class
    assert Point(1, 2) != (1, 2, [], "s")
    assert hash(Child(1)) == hash(Child(1))
    assert len({Child(1), Child(1), Child(2)}) == 2


def test_repr_names_fields_and_hides_repr_false() -> None:
    assert repr(Point(1, 2, secret="hidden")) == "Point(x=1, y=2, tags=[])"


def test_fields_cannot_be_assigned_or_deleted() -> None:
    p = Point(1)
    with pytest.raises(FrozenRecordError, match="cannot assign to field 'x'"):
        p.x = 2  # type: ignore[misc]
    with pytest.raises(FrozenRecordError, match="cannot delete field 'x'"):
        del p.x  # type: ignore[misc]
    assert isinstance(FrozenRecordError("x"), AttributeError)


def test_subclass_appends_its_fields_after_the_base() -> None:
    child = Child(1, "c")
    assert as_dict(child) == {"a": 1, "b": "c"}
    assert repr(child) == "Child(a=1, b='c')"


def test_a_required_field_after_a_default_is_refused() -> None:
    with pytest.raises(TypeError, match="non-default field 'b' after a default"):

        @record
        class Bad:
            a: int = 0
            b: int


def test_replace_and_as_dict() -> None:
    p = Point(1, 2)
    moved = replace(p, y=5)
    assert (moved.x, moved.y, p.y) == (1, 5, 2)
    assert as_dict(moved) == {"x": 1, "y": 5, "tags": [], "secret": "s"}
    with pytest.raises(TypeError, match="unexpected argument 'nope'"):
        replace(p, nope=1)
    with pytest.raises(ValueError, match="both default and default_factory"):
        field(default=1, default_factory=int)
