"""The plugin registry: finds step plugins through entry points and validates them as they register.

There is no module-global registry and nothing is loaded at import time: each engine instance (and
each test) builds its own with `PluginRegistry.from_entry_points()`. A broken plugin does not stop
the others from loading; it is listed in `registry.errors` with its entry point and distribution.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING, Any, cast

from workflows import PluginSpec, RetryPolicy

if TYPE_CHECKING:
    from engine.plugins import StepPlugin

__all__ = [
    "DuplicatePluginError",
    "InvalidPluginError",
    "PluginError",
    "PluginLoadError",
    "PluginRegistry",
    "UnknownPluginError",
    "plugin_spec",
]

ENTRY_POINT_GROUP = "waypost.steps"
_ATTRIBUTES = ("name", "config_schema", "input_schema", "output_schema", "idempotent", "retry", "run")


class PluginError(Exception):
    """Base class of the registry's errors."""


class InvalidPluginError(PluginError, ValueError):
    """An object does not meet the StepPlugin protocol; the message lists every problem found."""


class PluginLoadError(PluginError):
    """An entry point could not be turned into a valid plugin: import failure, bad factory, invalid.

    `name` is the entry point name, `entry_point` its full text ("name = module:attr") and
    `distribution` the package that declared it, so an administrator knows what to fix or uninstall.
    """

    def __init__(self, name: str, entry_point: str, distribution: str, reason: str) -> None:
        self.name = name
        self.entry_point = entry_point
        self.distribution = distribution
        self.reason = reason
        super().__init__(f"step plugin entry point '{entry_point}' from {distribution}: {reason}")


class DuplicatePluginError(PluginLoadError):
    """Two distributions declare a plugin of the same name; neither is used until one is removed."""

    def __init__(
        self,
        name: str,
        entry_point: str,
        distribution: str,
        other: str,
        *,
        consequence: str = "neither is loaded until one is uninstalled or renamed",
    ) -> None:
        self.other_distribution = other
        super().__init__(
            name,
            entry_point,
            distribution,
            f"plugin name '{name}' is also declared by {other}; {consequence}",
        )


class UnknownPluginError(PluginError, LookupError):
    """No plugin of that name is registered; the message suggests close names and load errors."""

    def __init__(self, name: str, known: Iterable[str], reasons: Iterable[str] = ()) -> None:
        self.name = name
        message = f"no step plugin named '{name}' is installed"
        close = difflib.get_close_matches(name, list(known), n=3, cutoff=0.6)
        if close:
            message += "; did you mean " + " or ".join(f"'{c}'" for c in close) + "?"
        for reason in reasons:
            message += f" ({reason})"
        super().__init__(message)


def plugin_spec(plugin: object) -> PluginSpec:
    """Check that `plugin` meets the StepPlugin protocol and return its PluginSpec.

    Every problem is collected into one InvalidPluginError: missing attributes, a bad name, schemas
    that are not valid draft 2020-12 JSON Schemas, a retry that is not a RetryPolicy, and a `run`
    that is not an `async def` taking `(ctx, inputs)`.
    """
    missing = [attr for attr in _ATTRIBUTES if not hasattr(plugin, attr)]
    if missing:
        raise InvalidPluginError(
            f"{type(plugin).__name__} object is not a step plugin: missing " + ", ".join(missing)
        )
    values: dict[str, Any] = {attr: getattr(plugin, attr) for attr in _ATTRIBUTES}
    problems: list[str] = []
    run = values.pop("run")
    if not inspect.iscoroutinefunction(run):
        problems.append("run must be a coroutine function (async def run(self, ctx, inputs))")
    else:
        try:
            inspect.signature(run).bind(None, None)
        except TypeError:
            problems.append("run must accept two arguments: (ctx, inputs)")
    if not isinstance(values["retry"], RetryPolicy):
        problems.append(f"retry must be a RetryPolicy, not {type(values['retry']).__name__}")
        values["retry"] = RetryPolicy()
    spec: PluginSpec | None = None
    try:
        spec = PluginSpec(**values)
    except (TypeError, ValueError) as err:
        problems.append(str(err))
    if spec is None or problems:
        label = values["name"] if isinstance(values["name"], str) else type(plugin).__name__
        raise InvalidPluginError(f"plugin '{label}' is invalid: " + "; ".join(problems))
    return spec


@dataclass(frozen=True, slots=True)
class _Entry:
    plugin: StepPlugin
    spec: PluginSpec
    distribution: str


def _distribution_label(ep: EntryPoint) -> str:
    dist = ep.dist
    if dist is None:
        return "an unknown distribution"
    return f"distribution {dist.metadata['Name']} {dist.version}"


def _instantiate(loaded: object) -> object:
    # A class is always a factory; a callable without a `run` attribute is a zero-argument factory.
    if inspect.isclass(loaded) or (callable(loaded) and not hasattr(loaded, "run")):
        return loaded()
    return loaded


class PluginRegistry:
    """The step plugins of one engine instance, by name, each validated when it registered."""

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}
        self._errors: list[PluginLoadError] = []

    @classmethod
    def from_entry_points(
        cls, group: str = ENTRY_POINT_GROUP, *, extra: Iterable[EntryPoint] = ()
    ) -> PluginRegistry:
        """Load every plugin declared in the entry point `group`, plus the `extra` entry points.

        Each entry point names a plugin object or a zero-argument factory (a class, say). Plugins
        that fail to import or validate, and names declared by two distributions, go to `errors`;
        the rest are registered.
        """
        registry = cls()
        seen: set[tuple[str, str, str]] = set()
        candidates: dict[str, list[tuple[EntryPoint, str, object]]] = {}
        for ep in [*entry_points(group=group), *extra]:
            dist = _distribution_label(ep)
            if (ep.name, ep.value, dist) in seen:
                continue  # the same declaration seen twice (e.g. passed in `extra` as well)
            seen.add((ep.name, ep.value, dist))
            try:
                plugin = _instantiate(ep.load())
                spec = plugin_spec(plugin)
            except Exception as err:  # any failure of third-party code is reported, not raised
                registry._fail(ep, dist, f"{type(err).__name__}: {err}")
                continue
            if spec.name != ep.name:
                registry._fail(ep, dist, f"the entry point is named '{ep.name}' but the plugin '{spec.name}'")
                continue
            candidates.setdefault(spec.name, []).append((ep, dist, plugin))
        for name, found in sorted(candidates.items()):
            if len(found) > 1:
                for (ep, dist, _), (_, other, _) in zip(found[1:], found, strict=False):
                    registry._errors.append(
                        DuplicatePluginError(name, f"{ep.name} = {ep.value}", dist, other)
                    )
                continue
            ep, dist, plugin = found[0]
            registry.register(plugin, distribution=dist)
        return registry

    def _fail(self, ep: EntryPoint, dist: str, reason: str) -> None:
        self._errors.append(PluginLoadError(ep.name, f"{ep.name} = {ep.value}", dist, reason))

    def register(self, plugin: object, *, distribution: str = "code (registered directly)") -> PluginSpec:
        """Validate `plugin` and add it; returns its spec.

        Raises InvalidPluginError for an invalid plugin and DuplicatePluginError when the name is
        taken (the registry is then unchanged).
        """
        spec = plugin_spec(plugin)
        existing = self._entries.get(spec.name)
        if existing is not None:
            raise DuplicatePluginError(
                spec.name,
                spec.name,
                distribution,
                existing.distribution,
                consequence="the one registered first is kept",
            )
        self._entries[spec.name] = _Entry(cast("StepPlugin", plugin), spec, distribution)
        return spec

    @property
    def errors(self) -> tuple[PluginLoadError, ...]:
        """The entry points that could not be registered, in the order they were found."""
        return tuple(self._errors)

    def get(self, name: str) -> StepPlugin:
        """The plugin called `name`; UnknownPluginError (a LookupError) if there is none."""
        entry = self._entries.get(name)
        if entry is None:
            reasons = [err.reason for err in self._errors if err.name == name]
            raise UnknownPluginError(name, self._entries, reasons)
        return entry.plugin

    def spec(self, name: str) -> PluginSpec:
        """The PluginSpec of the plugin called `name`; UnknownPluginError if there is none."""
        self.get(name)
        return self._entries[name].spec

    def specs(self) -> dict[str, PluginSpec]:
        """Every registered plugin's spec by name: what the workflow loader checks definitions with."""
        return {name: entry.spec for name, entry in sorted(self._entries.items())}

    def distribution(self, name: str) -> str:
        """The distribution that provided plugin `name`, for diagnostics."""
        self.get(name)
        return self._entries[name].distribution

    def names(self) -> list[str]:
        """The registered plugin names, sorted."""
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"<PluginRegistry {self.names()} errors={len(self._errors)}>"
