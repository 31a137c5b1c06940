"""EXPLAIN (FORMAT JSON) plans: the indexes they use, and their layout as EXPLAIN's text."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

_PLAN_DETAILS = (
    "Hash Cond",
    "Merge Cond",
    "Join Filter",
    "Index Cond",
    "Recheck Cond",
    "Filter",
    "Rows Removed by Filter",
    "Rows Removed by Index Recheck",
    "Heap Fetches",
)
_BUFFERS = (
    ("Shared Hit Blocks", "hit"),
    ("Shared Read Blocks", "read"),
    ("Shared Dirtied Blocks", "dirtied"),
)


def _plan_nodes(node: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    yield node
    for child in node.get("Plans", ()):
        yield from _plan_nodes(child)


def plan_indexes(plan: Mapping[str, Any]) -> tuple[str, ...]:
    """Index names an EXPLAIN (FORMAT JSON) plan scans, in plan order, each once."""
    names = [n["Index Name"] for n in _plan_nodes(plan) if "Index Name" in n]
    return tuple(dict.fromkeys(names))


def _count(value: Any) -> str:
    # PostgreSQL 18 reports actual rows as averages per loop, with decimals.
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.2f}"
    return str(int(value))


def _node_head(n: Mapping[str, Any]) -> str:
    head = str(n.get("Node Type", "?"))
    if n.get("Parallel Aware"):
        head = f"Parallel {head}"
    if "Index Name" in n:
        # As EXPLAIN's text says it: a bitmap index scan is "on" its index.
        on_index = n.get("Node Type") == "Bitmap Index Scan"
        head += f" {'on' if on_index else 'using'} {n['Index Name']}"
    if "Relation Name" in n:
        head += f" on {n['Relation Name']}"
        alias = n.get("Alias")
        if alias and alias != n["Relation Name"]:
            head += f" {alias}"
    if "Total Cost" in n:
        head += (
            f"  (cost={n.get('Startup Cost', 0):.2f}..{n['Total Cost']:.2f}"
            f" rows={n.get('Plan Rows', 0)} width={n.get('Plan Width', 0)})"
        )
    if "Actual Total Time" in n:
        head += (
            f" (actual time={n.get('Actual Startup Time', 0):.3f}..{n['Actual Total Time']:.3f}"
            f" rows={_count(n.get('Actual Rows', 0))} loops={_count(n.get('Actual Loops', 1))})"
        )
    return head


def _node_details(n: Mapping[str, Any]) -> list[str]:
    details: list[str] = []
    if "Sort Key" in n:
        details.append(f"Sort Key: {', '.join(n['Sort Key'])}")
    if "Sort Method" in n:
        space = f"  {n.get('Sort Space Type', 'Memory')}: {n.get('Sort Space Used', 0)}kB"
        details.append(f"Sort Method: {n['Sort Method']}{space}")
    for key in _PLAN_DETAILS:
        if key in n and n[key] not in (None, 0):
            details.append(f"{key}: {n[key]}")
    buffers = [f"{name}={n[key]}" for key, name in _BUFFERS if n.get(key)]
    if buffers:
        details.append(f"Buffers: shared {' '.join(buffers)}")
    return details


def _render_node(n: Mapping[str, Any], depth: int, lines: list[str]) -> None:
    if depth == 0:
        lines.append(_node_head(n))
        indent = " " * 2
    else:
        lines.append(" " * (6 * depth - 4) + "->  " + _node_head(n))
        indent = " " * (6 * depth + 2)
    lines.extend(indent + detail for detail in _node_details(n))
    for child in n.get("Plans", ()):
        _render_node(child, depth + 1, lines)


def render_plan(document: Mapping[str, Any]) -> str:
    """An EXPLAIN (FORMAT JSON) document laid out like PostgreSQL's text format."""
    lines: list[str] = []
    _render_node(document["Plan"], 0, lines)
    if "Planning Time" in document:
        lines.append(f"Planning Time: {document['Planning Time']:.3f} ms")
    if "Execution Time" in document:
        lines.append(f"Execution Time: {document['Execution Time']:.3f} ms")
    return "\n".join(lines)
