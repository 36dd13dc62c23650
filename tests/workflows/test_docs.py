"""docs/workflows.md stays true: its first example loads, its diagram is the real one, every key is
documented."""

from __future__ import annotations

import re
from pathlib import Path

from workflows import PluginSpec, StepKind, workflow_schema

from ._fixtures import EMAIL, HTTP, load

DOCS = (Path(__file__).resolve().parents[2] / "docs" / "workflows.md").read_text("utf-8")


def _block(language: str, after: str) -> str:
    """The first fenced block of ``language`` after the heading ``after``."""
    start = DOCS.index(after)
    match = re.search(rf"```{language}\n(.*?)```", DOCS[start:], flags=re.DOTALL)
    assert match is not None, f"no {language} block after {after!r}"
    return match.group(1)


# The documented http answer has an untyped body; this spec describes it, so that the example's
# `result.body.reference` has a known shape here.
HTTP_WITH_BODY = PluginSpec(
    name="http",
    config_schema=HTTP.config_schema,
    input_schema=HTTP.input_schema,
    output_schema={
        "type": "object",
        "properties": {
            "status": {"type": "integer"},
            "body": {"type": "object", "properties": {"reference": {"type": "string"}}},
        },
    },
    idempotent=True,
    retry=HTTP.retry,
)


def test_first_example_loads_and_its_diagram_is_the_generated_one() -> None:
    """The example at the top of the page is a valid workflow, and the Mermaid block beside it is
    exactly what to_mermaid() draws for it."""
    text = _block("yaml", "## A first workflow")
    workflow = load(text, "workflows/child_concern.yaml", plugins={"email": EMAIL, "http": HTTP_WITH_BODY})
    assert workflow.to_mermaid() == _block("mermaid", "## A first workflow")


def test_every_key_and_step_kind_is_documented() -> None:
    """Each key the schema allows, and each step kind, appears in the reference."""
    schema = workflow_schema()
    keys = set(schema["properties"])
    defs = schema["$defs"]
    keys |= set(defs["step"]["properties"]) | set(defs["route"]["properties"])
    for nested in ("task", "retry", "wait"):
        keys |= set(defs["step"]["properties"][nested]["properties"])
    missing = sorted(k for k in keys if f"`{k}" not in DOCS)
    assert missing == []
    assert all(f"| {kind.value} |" in DOCS for kind in StepKind)
