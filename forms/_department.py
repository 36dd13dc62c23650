"""``department.yaml``: a department's id, title and the roles its people can hold."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from dsl import Diagnostics, Position, YMap, key_name, load_yaml, to_json
from forms._canonical import get, str_value, text_of
from forms._schemacheck import check_definition
from forms._text import Text


@dataclass(frozen=True, slots=True)
class Department:
    """A department: ``roles`` maps each role id to its title.

    ``connections`` keeps the settings for back-end systems as plain data (workflows give them
    meaning); ``role_positions`` says where each role was defined, for positioned errors.
    """

    id: str
    title: Text
    position: Position = field(repr=False)
    roles: Mapping[str, Text] = field(default_factory=lambda: MappingProxyType({}))
    description: Text | None = None
    connections: Mapping[str, Mapping[str, Any]] = field(default_factory=lambda: MappingProxyType({}))
    role_positions: Mapping[str, Position] = field(default_factory=lambda: MappingProxyType({}), repr=False)


def load_department(text: str, name: str) -> Department:
    """Load ``department.yaml`` from its text; raises :class:`~dsl.DefinitionError` with every
    problem found, each at its line and column."""
    root = load_yaml(text, name)
    data = to_json(root)
    diagnostics = Diagnostics()
    check_definition(root, data, "department", diagnostics)
    diagnostics.raise_if_errors()
    ident = str_value(get(root, "department")) or ""
    title = text_of(get(root, "title")) or Text(ident)
    roles: dict[str, Text] = {}
    positions: dict[str, Position] = {}
    roles_node = get(root, "roles")
    if isinstance(roles_node, YMap):
        for key, value in roles_node.items():
            role = key_name(key)
            roles[role] = text_of(get(value, "title")) or Text(role)
            positions[role] = key.pos
    connections = data.get("connections", {}) if isinstance(data, dict) else {}
    return Department(
        id=ident,
        title=title,
        position=root.pos,
        roles=MappingProxyType(roles),
        description=text_of(get(root, "description")),
        connections=MappingProxyType({k: MappingProxyType(v) for k, v in connections.items()}),
        role_positions=MappingProxyType(positions),
    )
