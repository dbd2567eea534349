"""Models keep the dataclass semantics under the faster ``__init__`` of `models._base`.

Every model module is imported and every frozen slotted `Model` subclass is
checked: built with its own fields, it must equal a field-by-field copy, stay
frozen, replace, pickle and hash like a dataclass, and refuse missing or unknown
arguments with the dataclass's TypeError.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pickle
import pkgutil
from typing import Any

import pytest

import enphase_local.models as models_pkg
from enphase_local.errors import EnvoyParseError
from enphase_local.models._base import Model, _fast_init
from enphase_local.models.energy import EnergyReading, PhaseReadings
from enphase_local.models.meters import Electrical, MeterChannel
from enphase_local.models.production import ProductionReport
from enphase_local.sources.table import SOURCES
from tests.support import needs_real, real_body

PATH_TO_FILE = str.maketrans({"/": "_", "?": "_", "=": "_", "&": "_"})


def _all_models() -> list[type[Model]]:
    for info in pkgutil.iter_modules(models_pkg.__path__):
        importlib.import_module(f"enphase_local.models.{info.name}")
    found: list[type[Model]] = []
    todo: list[type[Any]] = [Model]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if dataclasses.is_dataclass(cls) and "__slots__" in cls.__dict__:
            found.append(cls)
    return found


def test_every_model_gets_the_fast_init() -> None:
    models = _all_models()
    assert len(models) > 40
    assert [m.__name__ for m in models if _fast_init(m) is None] == []


def test_fast_init_is_installed_at_first_construction() -> None:
    EnergyReading(watts=1.0, wh_today=None, wh_last_7_days=None, wh_lifetime=None, source="s")
    assert "_Twin" in EnergyReading.__init__.__code__.co_names
    assert inspect.signature(MeterChannel).parameters["phase"].kind.name == "POSITIONAL_OR_KEYWORD"


def test_reading_behaves_like_a_frozen_dataclass() -> None:
    reading = EnergyReading(watts=1, wh_today=2.0, wh_last_7_days=None, wh_lifetime=3.0, source="s")
    assert type(reading) is EnergyReading
    assert reading.reading_time is None and reading.watts == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        reading.watts = 5  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del reading.watts  # type: ignore[misc]
    assert not hasattr(reading, "__dict__")
    changed = dataclasses.replace(reading, watts=7.0)
    assert (changed.watts, changed.source, reading.watts) == (7.0, "s", 1)
    assert pickle.loads(pickle.dumps(reading)) == reading
    assert hash(reading) == hash(dataclasses.replace(reading))
    assert reading.to_dict()["wh_lifetime"] == 3.0


def test_positional_defaults_and_factories() -> None:
    reading = EnergyReading(1.0, None, None, None, "p", 10)
    assert reading.reading_time == 10 and reading.active_count is None
    assert PhaseReadings(consumption=reading).consumption is reading
    first, second = ProductionReport(), ProductionReport()
    assert first.phases == {} and first.phases is not second.phases  # default_factory per call


def test_inherited_fields_are_set() -> None:
    values = {
        name: float(i) for i, name in enumerate(f.name for f in dataclasses.fields(Electrical))
    }
    channel = MeterChannel(**values, phase="L2", eid=5, timestamp=6)
    assert isinstance(channel, Electrical) and type(channel) is MeterChannel
    assert channel.hz == values["hz"] and channel.phase == "L2"
    with pytest.raises(dataclasses.FrozenInstanceError):
        channel.phase = "L1"  # type: ignore[misc]


def test_argument_errors_are_the_dataclass_ones() -> None:
    with pytest.raises(TypeError, match=r"__init__\(\) missing 1 required positional argument"):
        EnergyReading(watts=1.0, wh_today=None, wh_last_7_days=None, wh_lifetime=None)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="unexpected keyword argument 'volt'"):
        EnergyReading(1.0, None, None, None, "s", volt=3)  # type: ignore[call-arg]


# --- equality, hashing and repr are those dataclasses would write ---------------------------


def _stock_twin(cls: type[Any]) -> type[Any]:
    """The same fields declared with a plain ``@dataclass(frozen=True)``: the reference."""
    spec = [
        (f.name, Any, dataclasses.field(repr=f.repr, compare=f.compare, hash=f.hash))
        for f in dataclasses.fields(cls)
    ]
    twin = dataclasses.make_dataclass(cls.__name__, spec, frozen=True)
    twin.__qualname__ = cls.__qualname__
    return twin


def _models_in(value: Any) -> list[Model]:
    if isinstance(value, Model):
        found = [value]
        for f in dataclasses.fields(value):  # type: ignore[arg-type]
            found += _models_in(getattr(value, f.name))
        return found
    if isinstance(value, dict):
        return [m for v in value.values() for m in _models_in(v)]
    if isinstance(value, tuple | list):
        return [m for v in value for m in _models_in(v)]
    return []


@needs_real
@pytest.mark.parametrize("folder", ["8.3.5169_with_generator", "8.3.1598_collar"])
def test_eq_hash_repr_match_stock_dataclasses(folder: str) -> None:
    checked: set[str] = set()
    for source in SOURCES.values():
        body = real_body(folder, source.path.lstrip("/").translate(PATH_TO_FILE))
        if body is None:
            continue
        try:
            parsed = source.parse(body)
        except EnvoyParseError:
            continue
        for model in _models_in(parsed):
            twin = _stock_twin(type(model))(
                **{f.name: getattr(model, f.name) for f in dataclasses.fields(model)}  # type: ignore[arg-type]
            )
            assert repr(model) == repr(twin)
            assert model == dataclasses.replace(model)  # type: ignore[type-var]
            assert model != twin  # another class: NotImplemented both ways
            try:
                assert hash(model) == hash(twin)
            except TypeError:  # an unhashable field value: the stock one refuses too
                with pytest.raises(TypeError):
                    hash(twin)
            checked.add(type(model).__name__)
    assert len(checked) > 10


def test_eq_compares_only_compared_fields() -> None:
    a = EnergyReading(1.0, None, None, None, "a")
    assert a == EnergyReading(1.0, None, None, None, "a")
    assert a != EnergyReading(2.0, None, None, None, "a")
    assert (a == object()) is False and a.__eq__(object()) is NotImplemented
    assert len({a, EnergyReading(1.0, None, None, None, "a")}) == 1
    assert repr(a).startswith("EnergyReading(watts=1.0, wh_today=None,")
