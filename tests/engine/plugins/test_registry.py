"""PluginRegistry.from_entry_points with real (synthetic) distributions written to a temporary folder.

Each test writes a `*.dist-info` folder (METADATA + entry_points.txt) and a module beside it, so the
entry points carry a real distribution, exactly as an installed third-party plugin would.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from importlib.metadata import EntryPoint, distributions
from pathlib import Path

import pytest

from engine.builtins.http import plugin as http_plugin
from engine.plugins import (
    DuplicatePluginError,
    InvalidPluginError,
    PluginLoadError,
    PluginRegistry,
    PluginSpec,
    RetryPolicy,
    UnknownPluginError,
)

GOOD = """
from engine.plugins import RetryPolicy

class Lookup:
    name = "{name}"
    config_schema = {{"type": "object"}}
    input_schema = {{"type": "object", "properties": {{"id": {{"type": "string"}}}}}}
    output_schema = {{"type": "object"}}
    idempotent = True
    retry = RetryPolicy(attempts=3)

    async def run(self, ctx, inputs):
        return {{"found": inputs.get("id")}}

plugin = Lookup()

def make():
    return Lookup()
"""

ANY: dict[str, object] = {}
BAD_SCHEMA: dict[str, object] = {"type": 5}


class Distributions:
    """Writes synthetic distributions into one folder on sys.path."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.root = root
        monkeypatch.syspath_prepend(str(root))
        self.modules: list[str] = []

    def add(self, dist: str, entry_points: dict[str, str], modules: dict[str, str]) -> list[EntryPoint]:
        """Write distribution `dist` 1.0 with `entry_points` and modules; return its entry points."""
        info = self.root / f"{dist.replace('-', '_')}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
        lines = "".join(f"{name} = {value}\n" for name, value in entry_points.items())
        (info / "entry_points.txt").write_text("[waypost.steps]\n" + lines)
        for module, source in modules.items():
            (self.root / f"{module}.py").write_text(textwrap.dedent(source))
            self.modules.append(module)
        (found,) = [d for d in distributions(path=[str(self.root)]) if d.metadata["Name"] == dist]
        return list(found.entry_points.select(group="waypost.steps"))


@pytest.fixture
def dists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Distributions]:
    """A fresh folder of synthetic distributions; their modules are forgotten after the test."""
    made = Distributions(tmp_path, monkeypatch)
    yield made
    for module in made.modules:
        sys.modules.pop(module, None)


def errors_for(registry: PluginRegistry, name: str) -> list[PluginLoadError]:
    """The registry's load errors for entry point `name`."""
    return [err for err in registry.errors if err.name == name]


def test_built_in_plugins_register_through_entry_points() -> None:
    """http and email come from the same entry point group as third-party plugins."""
    registry = PluginRegistry.from_entry_points()
    assert {"http", "email"} <= set(registry.names())
    assert registry.get("http").name == "http"
    assert registry.distribution("http").startswith("distribution waypost ")


def test_good_plugin_object_and_factories(dists: Distributions) -> None:
    """An entry point may name a plugin object, a class, or a zero-argument function."""
    eps = dists.add(
        "acme-steps",
        {"acme.obj": "acme_mod:plugin", "acme.cls": "acme_cls:Lookup", "acme.fn": "acme_fn:make"},
        {
            "acme_mod": GOOD.format(name="acme.obj"),
            "acme_cls": GOOD.format(name="acme.cls"),
            "acme_fn": GOOD.format(name="acme.fn"),
        },
    )
    registry = PluginRegistry.from_entry_points(extra=eps)
    assert {"acme.obj", "acme.cls", "acme.fn"} <= set(registry)
    assert registry.errors == ()
    spec = registry.spec("acme.cls")
    assert isinstance(spec, PluginSpec)
    assert spec.retry == RetryPolicy(attempts=3)
    assert registry.distribution("acme.fn") == "distribution acme-steps 1.0"


def test_broken_plugins_are_reported_and_the_rest_still_load(dists: Distributions) -> None:
    """Import failures, missing attributes and failing factories are listed; good plugins stay."""
    eps = dists.add(
        "shaky-steps",
        {
            "shaky.boom": "shaky_boom:plugin",
            "shaky.missing": "shaky_ok:nothing_here",
            "shaky.factory": "shaky_ok:explode",
            "shaky.ok": "shaky_ok:plugin",
        },
        {
            "shaky_boom": "raise ImportError('needs the pnc client library')\n",
            "shaky_ok": GOOD.format(name="shaky.ok")
            + "\ndef explode():\n    raise RuntimeError('no licence')\n",
        },
    )
    registry = PluginRegistry.from_entry_points(extra=eps)
    assert "shaky.ok" in registry
    assert {"http", "email"} <= set(registry)
    (boom,) = errors_for(registry, "shaky.boom")
    assert boom.distribution == "distribution shaky-steps 1.0"
    assert boom.entry_point == "shaky.boom = shaky_boom:plugin"
    assert "needs the pnc client library" in str(boom)
    assert "shaky_boom:plugin" in str(boom)
    assert "shaky-steps 1.0" in str(boom)
    assert "nothing_here" in errors_for(registry, "shaky.missing")[0].reason
    assert "no licence" in errors_for(registry, "shaky.factory")[0].reason


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ('name = "Bad-Name"', "plugin name 'Bad-Name' is not valid"),
        ('input_schema = {"type": "nonsense"}', "input_schema is not a valid JSON Schema"),
        ("retry = 3", "retry must be a RetryPolicy"),
        ("idempotent = 'yes'", "idempotent must be True or False"),
        ("def run(self, ctx, inputs): return {}", "run must be a coroutine function"),
        ("async def run(self): return {}", "run must accept two arguments"),
    ],
)
def test_invalid_plugins_are_refused_at_registration(dists: Distributions, change: str, problem: str) -> None:
    """A plugin breaking the protocol is refused when it registers, naming the problem."""
    source = GOOD.format(name="bad.one") + f"\nclass Broken(Lookup):\n    {change}\n\nplugin = Broken()\n"
    eps = dists.add("bad-steps", {"bad.one": "bad_mod:plugin"}, {"bad_mod": source})
    registry = PluginRegistry.from_entry_points(extra=eps)
    assert "bad.one" not in registry
    (error,) = errors_for(registry, "bad.one")
    assert problem in error.reason
    with pytest.raises(UnknownPluginError, match=problem):
        registry.get("bad.one")


def test_all_problems_of_a_plugin_are_listed_together() -> None:
    """Several problems in one plugin are reported in one error, not one at a time."""

    class Broken:
        name = "UPPER"
        config_schema = BAD_SCHEMA
        input_schema = ANY
        output_schema = ANY
        idempotent = True
        retry = None

        def run(self, ctx: object, inputs: object) -> dict[str, object]:
            return {}

    with pytest.raises(InvalidPluginError) as caught:
        PluginRegistry().register(Broken())
    message = str(caught.value)
    for part in ("run must be a coroutine function", "retry must be a RetryPolicy", "plugin name 'UPPER'"):
        assert part in message


def test_object_without_plugin_members_is_named() -> None:
    """An object that is not a plugin at all lists the missing members."""
    with pytest.raises(InvalidPluginError, match=r"missing .*config_schema.*run"):
        PluginRegistry().register(object())


def test_entry_point_name_must_match_the_plugin_name(dists: Distributions) -> None:
    """An entry point named differently from its plugin is refused (workflows use one name)."""
    eps = dists.add("odd-steps", {"odd.alias": "odd_mod:plugin"}, {"odd_mod": GOOD.format(name="odd.real")})
    registry = PluginRegistry.from_entry_points(extra=eps)
    assert "odd.alias" not in registry
    assert "odd.real" not in registry
    assert "named 'odd.alias' but the plugin 'odd.real'" in errors_for(registry, "odd.alias")[0].reason


def test_duplicate_names_are_an_error_naming_both_distributions(dists: Distributions) -> None:
    """Two distributions declaring one name: neither is used, and the error names both."""
    first = dists.add(
        "alpha-steps", {"dup.lookup": "alpha_mod:plugin"}, {"alpha_mod": GOOD.format(name="dup.lookup")}
    )
    second = dists.add(
        "beta-steps", {"dup.lookup": "beta_mod:plugin"}, {"beta_mod": GOOD.format(name="dup.lookup")}
    )
    registry = PluginRegistry.from_entry_points(extra=[*first, *second])
    assert "dup.lookup" not in registry
    (error,) = errors_for(registry, "dup.lookup")
    assert isinstance(error, DuplicatePluginError)
    assert "alpha-steps 1.0" in str(error)
    assert "beta-steps 1.0" in str(error)
    with pytest.raises(UnknownPluginError, match="also declared by"):
        registry.get("dup.lookup")


def test_a_third_party_plugin_cannot_shadow_a_built_in(dists: Distributions) -> None:
    """A distribution claiming `http` makes `http` unavailable rather than silently replacing it."""
    eps = dists.add("sneaky-steps", {"http": "sneaky_mod:plugin"}, {"sneaky_mod": GOOD.format(name="http")})
    registry = PluginRegistry.from_entry_points(extra=eps)
    assert "http" not in registry
    message = str(errors_for(registry, "http")[0])
    assert "sneaky-steps 1.0" in message
    assert "waypost" in message


def test_the_same_entry_point_twice_is_not_a_duplicate(dists: Distributions) -> None:
    """One declaration seen twice (installed and passed in `extra`) registers once, no error."""
    eps = dists.add(
        "twice-steps", {"twice.one": "twice_mod:plugin"}, {"twice_mod": GOOD.format(name="twice.one")}
    )
    registry = PluginRegistry.from_entry_points(extra=[*eps, *eps])
    assert "twice.one" in registry
    assert errors_for(registry, "twice.one") == []


def test_each_call_builds_a_fresh_registry() -> None:
    """Registries are independent: what one registers, another does not see."""
    first = PluginRegistry.from_entry_points()
    second = PluginRegistry.from_entry_points()
    assert first is not second
    first_names = set(first)
    extra = PluginRegistry()
    extra.register(http_plugin)
    assert set(second) == first_names
    assert list(extra) == ["http"]


def test_an_empty_group_gives_an_empty_registry() -> None:
    """A group with no entry points registers nothing and reports nothing."""
    registry = PluginRegistry.from_entry_points(group="waypost.nothing_here")
    assert len(registry) == 0
    assert registry.errors == ()


def test_importing_the_api_loads_no_plugin() -> None:
    """Importing engine.plugins imports no plugin module: loading happens in from_entry_points only."""
    code = (
        "import sys, engine.plugins; "
        "print('engine.builtins.http' in sys.modules, 'waypost_pnc_check' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "False"]


def test_unknown_names_suggest_close_ones() -> None:
    """get() of a misspelt name raises a LookupError suggesting the installed name."""
    registry = PluginRegistry.from_entry_points()
    with pytest.raises(LookupError, match=r"no step plugin named 'htp' is installed; did you mean 'http'\?"):
        registry.get("htp")
    with pytest.raises(UnknownPluginError):
        registry.spec("nothing.like.it")


def test_direct_registration_refuses_a_taken_name_and_keeps_the_first() -> None:
    """register() of a taken name raises DuplicatePluginError and leaves the first plugin in place."""
    registry = PluginRegistry()
    registry.register(http_plugin, distribution="first")

    class Other:
        name = "http"
        config_schema = ANY
        input_schema = ANY
        output_schema = ANY
        idempotent = False
        retry = RetryPolicy()

        async def run(self, ctx: object, inputs: object) -> dict[str, object]:
            return {}

    with pytest.raises(DuplicatePluginError, match="also declared by first"):
        registry.register(Other(), distribution="second")
    assert registry.get("http") is http_plugin
    assert registry.specs()["http"].idempotent is True
