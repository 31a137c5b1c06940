"""The Collector: reads a QueryMetrics once and computes every figure of the panel."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from cachetools import LRUCache

from db.diagnostics.analysis import (
    ActionAnalysis,
    analyze_action,
    display_label,
    elide_sql,
    is_cancelled,
)
from db.diagnostics.figures import (
    CHART_KINDS,
    DIAGNOSTICS_KIND,
    LATENCY_KINDS,
    ActionSummary,
    Figures,
    Health,
    LatencyFigures,
    LatencyRow,
    PanelSettings,
    ResilienceFigures,
    ServerReport,
    SlowFigures,
    SlowRow,
    ThumbnailFigures,
)
from db.diagnostics.health import health_score
from db.metrics import ActionRecord, QueryMetrics, percentiles

Label = Callable[[str], str]


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1000


def latency_row(kind: str, title: str, values: Sequence[float]) -> LatencyRow:
    p = percentiles(values)
    return LatencyRow(kind, title, p.count, _ms(p.p50), _ms(p.p95), _ms(p.p99), _ms(p.max))


def _labeller(reference_of: Callable[[int], str | None] | None) -> Label:
    references: dict[int, str | None] = {}

    def reference(inspection_id: int) -> str | None:
        # Memoised for this call: a lookup may scan the inspection list.
        if inspection_id not in references:
            references[inspection_id] = reference_of(inspection_id) if reference_of else None
        return references[inspection_id]

    def label(raw: str) -> str:
        return display_label(raw, reference)

    return label


class Collector:
    """Computes the panel's Figures from a QueryMetrics, remembering each action's analysis
    (actions never change once finished, and the panel asks up to four times a second)."""

    def __init__(self, metrics: QueryMetrics, settings: PanelSettings | None = None) -> None:
        self.metrics = metrics
        self.settings = settings or PanelSettings()
        self._analyses: LRUCache[tuple[Any, ...], ActionAnalysis] = LRUCache(maxsize=64)

    def analysis(self, record: ActionRecord, label: str) -> ActionAnalysis:
        key = (
            record.id,
            label,
            self.metrics.slow_threshold_s,
            self.settings.n_plus_one_threshold,
        )
        found = self._analyses.get(key)
        if found is None:
            found = analyze_action(
                record,
                label,
                slow_threshold_s=self.metrics.slow_threshold_s,
                n_plus_one_threshold=self.settings.n_plus_one_threshold,
            )
            self._analyses[key] = found
        return found

    def collect(
        self,
        *,
        thumbnails: ThumbnailFigures | None = None,
        server: ServerReport | None = None,
        reference_of: Callable[[int], str | None] | None = None,
    ) -> Figures:
        """Read the metrics once and compute every figure of the panel."""
        metrics, settings = self.metrics, self.settings
        label = _labeller(reference_of)
        threshold_s = metrics.slow_threshold_s
        records = [r for r in reversed(metrics.recent()) if r.kind != DIAGNOSTICS_KIND]
        analyses = [self.analysis(r, label(r.label)) for r in records[: settings.statement_actions]]
        rows = [row for a in analyses for row in a.statements]
        counters = dict(metrics.counters)
        return Figures(
            taken_at=time.time(),
            settings=settings,
            last_action=self._last_action(records, label),
            actions=tuple(a.summary for a in analyses),
            statements=tuple(rows[: settings.max_statement_rows]),
            statements_truncated=max(0, len(rows) - settings.max_statement_rows),
            n_plus_one=tuple(w for a in analyses for w in a.n_plus_one),
            latency=self._latency(threshold_s),
            slow=self._slow(threshold_s, label),
            thumbnails=thumbnails,
            resilience=ResilienceFigures(
                actions=counters["actions"],
                statements=counters["statements"],
                fallbacks=counters["fallbacks"],
                retries=counters["retries"],
                errors=counters["errors"],
                last_error=metrics.last_error,
            ),
            health=self._health(counters, thumbnails),
            server=server,
        )

    def _last_action(self, records: Sequence[ActionRecord], label: Label) -> ActionSummary | None:
        # The media load is the one with a strategy, and the one the product's claim is about;
        # the checklist load of the same selection finishes at about the same time, in either
        # order, so "the last action" is the last media load when there is one.
        last_record = next(
            (r for r in records if r.kind == "load_media" and not is_cancelled(r)),
            next((r for r in records if not is_cancelled(r)), None),
        )
        if last_record is None:
            return None
        return self.analysis(last_record, label(last_record.label)).summary

    def _latency(self, threshold_s: float) -> LatencyFigures:
        metrics, settings = self.metrics, self.settings
        rows = []
        recent: dict[str, tuple[float, ...]] = {}
        for kind, title in LATENCY_KINDS:
            values = metrics.samples(kind)
            rows.append(latency_row(kind, title, values))
            if kind in CHART_KINDS:
                tail = values[-settings.chart_points :] if settings.chart_points > 0 else []
                recent[kind] = tuple(v * 1000 for v in tail)
        return LatencyFigures(
            window=metrics.window,
            rows=tuple(rows),
            recent_ms=recent,
            slow_threshold_ms=threshold_s * 1000,
        )

    def _slow(self, threshold_s: float, label: Label) -> SlowFigures:
        metrics = self.metrics
        rows = tuple(
            SlowRow(
                s.finished_at,
                s.action_id,
                label(s.label),
                elide_sql(s.sql),
                s.parameters,
                s.seconds * 1000,
                s.rows,
                s.error,
            )
            for s in reversed(metrics.slow_statements())
        )
        return SlowFigures(threshold_s * 1000, metrics.slow_limit, rows)

    def _health(self, counters: dict[str, int], thumbnails: ThumbnailFigures | None) -> Health:
        metrics = self.metrics
        return health_score(
            actions=counters["actions"],
            errors=counters["errors"],
            media_loads=metrics.actions_by_kind.get("load_media", 0),
            fallbacks=counters["fallbacks"],
            p95_s=metrics.latency("load_media").p95,
            p95_target_s=self.settings.p95_target_s,
            cache_hits=thumbnails.hits if thumbnails else 0,
            cache_lookups=thumbnails.hits + thumbnails.misses if thumbnails else 0,
        )


def collect(
    metrics: QueryMetrics,
    *,
    thumbnails: ThumbnailFigures | None = None,
    server: ServerReport | None = None,
    settings: PanelSettings | None = None,
    reference_of: Callable[[int], str | None] | None = None,
) -> Figures:
    """Every figure of the panel, once (the panel keeps a Collector instead)."""
    return Collector(metrics, settings).collect(
        thumbnails=thumbnails, server=server, reference_of=reference_of
    )
