"""Making and copying frozen records fast: the one-step ``__init__``, ``evolve`` and ``restore``.

A frozen dataclass's generated ``__init__`` sets each field with its own
``object.__setattr__``, and ``dataclasses.replace`` runs it again for every
copy; the engine's hot path makes and copies some twenty records per task
(bench/lifecycle.py). These helpers give the same records for less: they
apply the same defaults and factories, and keep the records frozen. The
domain's records (``placet.domain.models``) use them; nothing here knows
those records.
"""

from __future__ import annotations

import inspect
from dataclasses import MISSING, fields
from typing import Any, TypeVar, cast

Record = TypeVar("Record")


def evolve(record: Record, **changes: Any) -> Record:
    """A copy of a frozen record with some fields changed.

    ``dataclasses.replace`` runs the generated ``__init__``, one
    ``object.__setattr__`` per field; a task has eighteen and the lifecycle
    copies one at every step. No domain record has ``__post_init__``, so
    copying the field values is the same result, once the fields ``__init__``
    does not take (caches such as ``Event.payload_json``) are set back to
    their defaults, as ``replace`` leaves them.
    """
    cls = type(record)
    unknown = changes.keys() - field_names(cls)
    if unknown:
        raise TypeError(f"{cls.__name__} has no field {', '.join(sorted(unknown))}")
    copy = object.__new__(cls)
    copy.__dict__.update(record.__dict__, **changes)
    for name, default, factory in _init_less_defaults(cls):
        copy.__dict__[name] = default if factory is None else factory()
    return copy


def restore(cls: type[Record], values: dict[str, Any]) -> Record:
    """A record from the complete values of its fields, as read back from the store.

    The generated ``__init__`` of a frozen record costs about as much as the
    query that read the row (9 us for a task); the values were checked when
    the record was made, so reading one back skips it. ``values`` must hold
    every field: the store's row modules check their columns against the
    fields once, when imported.
    """
    made = object.__new__(cls)
    made.__dict__.update(values)
    return made


def one_step_init(cls: type[Record]) -> type[Record]:
    """Give a frozen dataclass an ``__init__`` that sets every field in one step.

    The generated ``__init__`` of a frozen dataclass sets each field with its
    own ``object.__setattr__``: a task costs ~2.3 us to make, a stream chunk
    ~0.5 us, and the lifecycle makes some twenty records per item (3% of an
    item, bench/lifecycle.py). This one takes the same arguments, applies the
    same defaults and factories, and sets the instance's ``__dict__`` at once;
    the record stays frozen. Put it above ``@dataclass(frozen=True)``.
    """
    made_by_dataclass = getattr(cls, "__dataclass_params__", None)
    if made_by_dataclass is None or not made_by_dataclass.frozen:
        raise TypeError(f"{cls.__name__} is not a frozen dataclass")
    if hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__} has __post_init__, which this __init__ would skip")
    namespace: dict[str, Any] = {"_set_all": object.__setattr__, "_absent": _ABSENT}
    exec(_init_source(cls, namespace), namespace)  # as dataclasses makes its own __init__
    made = namespace["__init__"]
    made.__qualname__ = f"{cls.__qualname__}.__init__"
    if _call_shape(made) != _call_shape(cls.__init__):
        raise TypeError(f"{cls.__name__}: the one-step __init__ would take other arguments")
    cls.__init__ = made  # type: ignore[method-assign]
    return cls


def _init_source(cls: type, namespace: dict[str, Any]) -> str:
    """The one-step ``__init__``'s code; the defaults it names are put in ``namespace``."""
    params: list[str] = []
    fill_ins: list[str] = []  # factory defaults, made per call
    values: list[str] = []
    for item in fields(cast(Any, cls)):
        if getattr(item, "kw_only", False):
            raise TypeError(f"{cls.__name__}.{item.name} is keyword-only; not supported here")
        default = f"_default_{item.name}"
        if item.default is not MISSING:
            namespace[default] = item.default
            param, value = f"{item.name}={default}", item.name if item.init else default
        elif item.default_factory is not MISSING:
            namespace[default] = item.default_factory
            param, value = f"{item.name}=_absent", item.name if item.init else f"{default}()"
            if item.init:
                fill_ins.append(f" if {item.name} is _absent: {item.name} = {default}()\n")
        elif item.init:
            param, value = item.name, item.name
        else:
            continue  # no init and no default: the dataclass leaves it unset too
        if item.init:
            params.append(param)
        values.append(f"{item.name!r}: {value}")
    return (
        f"def __init__(self, {', '.join(params)}):\n"
        + "".join(fill_ins)
        + f" _set_all(self, '__dict__', {{{', '.join(values)}}})\n"
    )


def _call_shape(init: Any) -> list[tuple[str, Any, bool]]:
    """What a caller sees of an ``__init__``: names, kinds, and which have defaults."""
    return [
        (param.name, param.kind, param.default is inspect.Parameter.empty)
        for param in inspect.signature(init).parameters.values()
    ]


class _Absent:
    """An argument left out, whose field's default comes from a factory."""

    def __repr__(self) -> str:
        return "<factory>"  # as dataclasses shows it in a signature


_ABSENT = _Absent()
_FIELD_NAMES: dict[type, frozenset[str]] = {}
_INIT_LESS: dict[type, tuple[tuple[str, Any, Any], ...]] = {}


def field_names(cls: type) -> frozenset[str]:
    """The names of a record's fields (worked out once per class)."""
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = frozenset(f.name for f in fields(cls))
    return names


def _init_less_defaults(cls: type) -> tuple[tuple[str, Any, Any], ...]:
    """The fields ``__init__`` does not take: name, default, factory (once per class).

    The same rule as the one-step ``__init__``: a default or a factory's
    value; a field with neither is left as it is.
    """
    found = _INIT_LESS.get(cls)
    if found is None:
        found = _INIT_LESS[cls] = tuple(
            (item.name, item.default, None if item.default is not MISSING else item.default_factory)
            for item in fields(cls)
            if not item.init
            and (item.default is not MISSING or item.default_factory is not MISSING)
        )
    return found
