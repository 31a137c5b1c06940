"""The figures as JSON and back: a generic (de)serialiser of frozen dataclasses."""

from __future__ import annotations

import dataclasses
import math
import types
from collections.abc import Mapping
from typing import Any, Union, get_args, get_origin, get_type_hints

from db.diagnostics.figures import Figures

SNAPSHOT_FORMAT = "inspection-viewer/performance"
SNAPSHOT_VERSION = 1


class SnapshotError(ValueError):
    """A JSON document that is not a performance snapshot this version can read."""


def snapshot(figures: Figures) -> dict[str, Any]:
    """Every figure as JSON-serialisable data (json.dumps takes it as it is)."""
    return {"format": SNAPSHOT_FORMAT, "version": SNAPSHOT_VERSION, **_to_json(figures)}


def load(data: Mapping[str, Any]) -> Figures:
    """The Figures a snapshot() was made of."""
    if data.get("format") != SNAPSHOT_FORMAT or data.get("version") != SNAPSHOT_VERSION:
        raise SnapshotError(
            f"not a performance snapshot of version {SNAPSHOT_VERSION}: "
            f"format={data.get('format')!r} version={data.get('version')!r}"
        )
    body = {k: v for k, v in data.items() if k not in ("format", "version")}
    try:
        figures = _from_json(Figures, body)
    except (KeyError, TypeError, ValueError) as exc:
        raise SnapshotError(f"malformed performance snapshot: {exc!r}") from exc
    assert isinstance(figures, Figures)
    return figures


def _to_json(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [_to_json(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _to_json(v) for k, v in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no NaN or infinity
    return value


def _from_json(tp: Any, data: Any) -> Any:
    origin = get_origin(tp)
    if origin is Union or origin is types.UnionType:
        args = [a for a in get_args(tp) if a is not type(None)]
        if data is None:
            return None
        if len(args) != 1:
            raise TypeError(f"cannot read {tp}")
        return _from_json(args[0], data)
    if origin is tuple:
        item = get_args(tp)[0]
        if not isinstance(data, list):
            raise TypeError(f"expected a list for {tp}, got {type(data).__name__}")
        return tuple(_from_json(item, v) for v in data)
    if origin is dict:
        _, item = get_args(tp)
        if not isinstance(data, dict):
            raise TypeError(f"expected an object for {tp}, got {type(data).__name__}")
        return {str(k): _from_json(item, v) for k, v in data.items()}
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        if not isinstance(data, dict):
            raise TypeError(f"expected an object for {tp.__name__}, got {type(data).__name__}")
        hints = get_type_hints(tp)
        return tp(
            **{
                f.name: _from_json(hints[f.name], data[f.name])
                for f in dataclasses.fields(tp)
                if f.init
            }
        )
    if tp is float:
        if isinstance(data, bool) or not isinstance(data, int | float):
            raise TypeError(f"expected a number, got {data!r}")
        return float(data)
    if tp is int or tp is str or tp is bool:
        if type(data) is not tp:
            raise TypeError(f"expected {tp.__name__}, got {data!r}")
        return data
    raise TypeError(f"cannot read {tp}")
