"""Arrow types as the spec's ``DataType`` message.

Wherever the API takes a type (``cast``, ``lit_null``, ``lit(..., type=)``)
it accepts a ``pyarrow.DataType`` or the name of a simple one (``"int64"``,
``"string"``, ...), the names pyarrow itself uses.

>>> data_type("int32")
int32 {
}
<BLANKLINE>
>>> import pyarrow as pa
>>> data_type(pa.decimal128(10, 2)).decimal128.scale
2
"""

from __future__ import annotations

from typing import Any, Union

import pyarrow as pa

from ballista import proto
from ballista.errors import PlanError

#: What the API accepts as a type: a pyarrow type or a pyarrow type name.
TypeLike = Union[pa.DataType, str]

_UNITS = {
    "s": proto.TIME_UNIT_SECOND,
    "ms": proto.TIME_UNIT_MILLISECOND,
    "us": proto.TIME_UNIT_MICROSECOND,
    "ns": proto.TIME_UNIT_NANOSECOND,
}

#: Time units by name, as pyarrow writes them.
TIME_UNITS: dict[str, int] = dict(_UNITS)


def time_unit(unit: str) -> int:
    """The spec's ``TimeUnit`` for ``"s"``, ``"ms"``, ``"us"`` or ``"ns"``."""
    try:
        return _UNITS[unit]
    except KeyError:
        raise PlanError(f"unknown time unit {unit!r}: valid units are s, ms, us, ns") from None


def _empty(kind: str) -> Any:
    return proto.DataType(**{kind: proto.EmptyType()})


def _field(f: pa.Field) -> Any:
    return proto.Field(
        name=f.name,
        data_type=data_type(f.type),
        nullable=f.nullable,
        metadata=[
            proto.KeyValue(key=k.decode(), value=v.decode()) for k, v in (f.metadata or {}).items()
        ],
    )


def data_type(t: TypeLike) -> Any:
    """The spec's ``DataType`` for a pyarrow type or type name."""
    if isinstance(t, str):
        try:
            t = pa.type_for_alias(t)
        except ValueError:
            raise PlanError(
                f"unknown type name {t!r}: use a pyarrow type or one of pyarrow's names "
                "such as 'int64', 'float64', 'string', 'bool', 'date32'"
            ) from None
    simple = [
        (pa.types.is_null, "null"),
        (pa.types.is_boolean, "bool"),
        (pa.types.is_int8, "int8"),
        (pa.types.is_int16, "int16"),
        (pa.types.is_int32, "int32"),
        (pa.types.is_int64, "int64"),
        (pa.types.is_uint8, "uint8"),
        (pa.types.is_uint16, "uint16"),
        (pa.types.is_uint32, "uint32"),
        (pa.types.is_uint64, "uint64"),
        (pa.types.is_float16, "float16"),
        (pa.types.is_float32, "float32"),
        (pa.types.is_float64, "float64"),
        (pa.types.is_string, "utf8"),
        (pa.types.is_large_string, "large_utf8"),
        (pa.types.is_string_view, "utf8_view"),
        (pa.types.is_binary, "binary"),
        (pa.types.is_large_binary, "large_binary"),
        (pa.types.is_binary_view, "binary_view"),
        (pa.types.is_date32, "date32"),
        (pa.types.is_date64, "date64"),
    ]
    for test, kind in simple:
        if test(t):
            return _empty(kind)
    if pa.types.is_fixed_size_binary(t):
        return proto.DataType(fixed_size_binary=t.byte_width)
    if pa.types.is_time32(t):
        return proto.DataType(time32=time_unit(t.unit))
    if pa.types.is_time64(t):
        return proto.DataType(time64=time_unit(t.unit))
    if pa.types.is_timestamp(t):
        ts = proto.TimestampType(unit=time_unit(t.unit))
        if t.tz is not None:
            ts.timezone = t.tz
        return proto.DataType(timestamp=ts)
    if pa.types.is_duration(t):
        return proto.DataType(duration=time_unit(t.unit))
    if pa.types.is_interval(t):
        return proto.DataType(interval=proto.INTERVAL_UNIT_MONTH_DAY_NANO)
    for test, kind in [
        (pa.types.is_decimal32, "decimal32"),
        (pa.types.is_decimal64, "decimal64"),
        (pa.types.is_decimal128, "decimal128"),
        (pa.types.is_decimal256, "decimal256"),
    ]:
        if test(t):
            return proto.DataType(
                **{kind: proto.DecimalType(precision=t.precision, scale=t.scale)}
            )
    if pa.types.is_list(t):
        return proto.DataType(list=_field(t.value_field))
    if pa.types.is_large_list(t):
        return proto.DataType(large_list=_field(t.value_field))
    if pa.types.is_fixed_size_list(t):
        return proto.DataType(
            fixed_size_list=proto.FixedSizeListType(element=_field(t.value_field), size=t.list_size)
        )
    if pa.types.is_struct(t):
        return proto.DataType(struct=proto.StructType(fields=[_field(f) for f in t]))
    if pa.types.is_map(t):
        entries = pa.field(
            "entries",
            pa.struct([t.key_field, t.item_field]),
            nullable=False,
        )
        return proto.DataType(map=proto.MapType(entries=_field(entries), keys_sorted=t.keys_sorted))
    if pa.types.is_dictionary(t):
        return proto.DataType(
            dictionary=proto.DictionaryType(key=data_type(t.index_type), value=data_type(t.value_type))
        )
    raise PlanError(f"the plan spec cannot express the Arrow type {t}")
