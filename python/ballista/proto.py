"""The spec's message classes (``proto/ballista/v1``), generated at import.

The native module embeds the ``FileDescriptorSet`` that ``ballista-proto``'s
build script compiles from ``proto/`` (with protox, no ``protoc`` needed).
This module builds the message classes from it with ``google.protobuf``,
exactly as a protoc-generated ``_pb2.py`` file does, so the Python classes
always match the ``.proto`` files the wheel was built from and nothing is
hand-copied or vendored.

Every message and enum of package ``ballista.v1`` is an attribute of this
module under its protobuf name:

>>> from ballista import proto
>>> rel = proto.Relation(read_table=proto.ReadTable(table=proto.TableReference(table="t")))
>>> rel.WhichOneof("rel_type")
'read_table'
>>> proto.JoinType.Name(proto.JOIN_TYPE_LEFT)
'JOIN_TYPE_LEFT'

This module must not hold logic beyond loading the classes: builders live in
:mod:`ballista.expr` and :mod:`ballista.dataframe`.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import any_pb2, descriptor_pb2, descriptor_pool, json_format
from google.protobuf import message as _message
from google.protobuf import message_factory
from google.protobuf.internal import enum_type_wrapper

from ballista import _native

#: The package of the spec's messages.
PACKAGE = "ballista.v1"

#: A private pool, so that the spec never clashes with descriptors that other
#: libraries add to protobuf's default pool.
POOL = descriptor_pool.DescriptorPool()


def _load() -> dict[str, Any]:
    files = descriptor_pb2.FileDescriptorSet.FromString(_native.FILE_DESCRIPTOR_SET)
    # Well-known types the spec imports; added from protobuf's own copy when
    # the set does not carry them.
    known = {f.name for f in files.file}
    if "google/protobuf/any.proto" not in known:
        any_file = descriptor_pb2.FileDescriptorProto.FromString(any_pb2.DESCRIPTOR.serialized_pb)
        POOL.Add(any_file)
    for f in files.file:
        POOL.Add(f)
    names: dict[str, Any] = {}
    for f in files.file:
        if f.package != PACKAGE:
            continue
        fd = POOL.FindFileByName(f.name)
        for name, msg in fd.message_types_by_name.items():
            names[name] = message_factory.GetMessageClass(msg)
        for name, enum in fd.enum_types_by_name.items():
            wrapper = enum_type_wrapper.EnumTypeWrapper(enum)
            names[name] = wrapper
            for value in enum.values:
                names[value.name] = value.number
    return names


_CLASSES = _load()
globals().update(_CLASSES)


def __getattr__(name: str) -> Any:
    """Message classes and enums are module attributes (set at import)."""
    try:
        return _CLASSES[name]
    except KeyError:
        raise AttributeError(f"ballista.v1 has no message or enum named {name!r}") from None


def message_class(name: str) -> type[_message.Message]:
    """The class of message ``ballista.v1.<name>``.

    >>> message_class("Relation").DESCRIPTOR.full_name
    'ballista.v1.Relation'
    """
    cls = _CLASSES.get(name)
    if not isinstance(cls, type):
        raise KeyError(f"ballista.v1 has no message named {name!r}")
    return cls


def to_json(msg: _message.Message) -> dict[str, Any]:
    """The canonical proto3 JSON mapping of ``msg`` (lowerCamelCase names,
    enums by name, 64-bit integers as strings, defaults omitted), as a
    parsed JSON value.

    >>> to_json(Relation(sql=Sql(query="SELECT 1")))
    {'sql': {'query': 'SELECT 1'}}
    """
    result: dict[str, Any] = json_format.MessageToDict(msg)
    return result
