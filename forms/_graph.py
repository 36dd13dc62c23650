"""Small graph helpers for dependency ordering: strongly connected components, a cycle to
show the author, and a topological order that keeps document order where it can.

All iterative: a generated form of thousands of fields must not hit Python's recursion limit.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import TypeVar

K = TypeVar("K", bound=Hashable)


def cycles(nodes: Sequence[K], deps: Callable[[K], Iterable[K]]) -> list[list[K]]:
    """Every cycle (strongly connected component with a loop), as the nodes of one loop in order,
    starting at the component's earliest node in ``nodes`` order. Deps outside ``nodes`` are
    ignored."""
    rank = {node: i for i, node in enumerate(nodes)}
    index: dict[K, int] = {}
    low: dict[K, int] = {}
    stack: list[K] = []
    on_stack: set[K] = set()
    found: list[list[K]] = []
    counter = 0
    for start in nodes:
        if start in index:
            continue
        work: list[tuple[K, list[K]]] = [(start, [d for d in deps(start) if d in rank])]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, pending = work[-1]
            if pending:
                nxt = pending.pop()
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, [d for d in deps(nxt) if d in rank]))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component: list[K] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in set(deps(node)):
                    found.append(_loop(sorted(component, key=rank.__getitem__), deps))
    found.sort(key=lambda loop: rank[loop[0]])
    return found


def _loop(component: list[K], deps: Callable[[K], Iterable[K]]) -> list[K]:
    """One loop through ``component`` from its first node, by breadth-first search."""
    members = set(component)
    first = component[0]
    previous: dict[K, K] = {}
    frontier = [first]
    while frontier:
        following: list[K] = []
        for node in frontier:
            for nxt in deps(node):
                if nxt == first:
                    path = [node]
                    while path[-1] != first:
                        path.append(previous[path[-1]])
                    return list(reversed(path))
                if nxt in members and nxt not in previous:
                    previous[nxt] = node
                    following.append(nxt)
        frontier = following
    return [first]  # pragma: no cover - a component with a loop always closes


def topological(nodes: Sequence[K], deps: Callable[[K], Iterable[K]]) -> list[K]:
    """``nodes`` ordered so each comes after its deps (cycles are broken arbitrarily), otherwise
    in the given order."""
    known = set(nodes)
    done: set[K] = set()
    out: list[K] = []
    for start in nodes:
        if start in done:
            continue
        done.add(start)
        work: list[tuple[K, list[K]]] = [(start, [d for d in deps(start) if d in known][::-1])]
        while work:
            node, pending = work[-1]
            if pending:
                nxt = pending.pop()
                if nxt not in done:
                    done.add(nxt)
                    work.append((nxt, [d for d in deps(nxt) if d in known][::-1]))
                continue
            work.pop()
            out.append(node)
    return out
