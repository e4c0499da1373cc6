"""Grafana dashboards as code: `python -m pulse.dashboards` writes deploy/grafana/dashboards/*.json.

Built with grafana-foundation-sdk (Grafana's own typed builders; the `dashboards` extra, not a
runtime dependency). Its SDK has no builder for the ClickHouse plugin's queries, so `ClickHouseSQL`
below is one: a raw-SQL target in the plugin's JSON shape. The JSON files are committed and
tests/unit/test_dashboards.py fails when they differ from what this module generates; every
ClickHouse query is run against a migrated database by tests/integration/test_metrics_and_dashboards.py
(with the plugin's macros expanded by `expand_clickhouse_macros`).

Datasource uids are those of deploy/grafana/provisioning/datasources/datasources.yml.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import cast

from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.builders import prometheus, stat, table, timeseries
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as model

OUT_DIR = Path(__file__).resolve().parents[1] / "deploy" / "grafana" / "dashboards"
PROMETHEUS = model.DataSourceRef(type_val="prometheus", uid="prometheus")
CLICKHOUSE = model.DataSourceRef(type_val="grafana-clickhouse-datasource", uid="clickhouse")
# The ClickHouse plugin's query formats (its `Format` enum).
CH_TIME_SERIES, CH_TABLE = 0, 1
DIMENSIONS = ("brand", "hashtag", "platform", "author", "post")


# ---------------------------------------------------------------- ClickHouse plugin queries
class ClickHouseQueryModel(cogvariants.Dataquery):
    def __init__(self, sql: str, ref_id: str, fmt: int) -> None:
        self.sql, self.ref_id, self.fmt = sql, ref_id, fmt

    def to_json(self) -> dict[str, object]:
        return {"datasource": CLICKHOUSE.to_json(), "editorType": "sql", "format": self.fmt,
                "queryType": "timeseries" if self.fmt == CH_TIME_SERIES else "table",
                "rawSql": self.sql, "refId": self.ref_id}


class ClickHouseSQL(cogbuilder.Builder[cogvariants.Dataquery]):
    """A raw-SQL query of grafana-clickhouse-datasource (v4), which expands the macros Grafana-side."""

    def __init__(self, sql: str, ref_id: str = "A", fmt: int = CH_TIME_SERIES) -> None:
        self._query = ClickHouseQueryModel(dedent_sql(sql), ref_id, fmt)

    def build(self) -> cogvariants.Dataquery:
        return self._query


class ClickHouseAnnotationTarget(model.AnnotationTarget):
    """Annotations from ClickHouse rows (columns time, timeEnd, text, tags)."""

    def __init__(self, sql: str) -> None:
        super().__init__()
        self.sql = dedent_sql(sql)

    def to_json(self) -> dict[str, object]:
        return ClickHouseQueryModel(self.sql, "Anno", CH_TABLE).to_json()


def dedent_sql(sql: str) -> str:
    return "\n".join(line.strip() for line in sql.strip().splitlines())


def prom(expr: str, legend: str = "", ref_id: str = "A") -> prometheus.Dataquery:
    return prometheus.Dataquery().expr(expr).legend_format(legend or "__auto").ref_id(ref_id)


def ts(title: str, description: str, unit: str, *targets: cogbuilder.Builder[cogvariants.Dataquery],
       datasource: model.DataSourceRef = PROMETHEUS, span: int = 12, stacked: bool = False) -> timeseries.Panel:
    panel = (timeseries.Panel().title(title).description(description).unit(unit).datasource(datasource)
             .span(span).height(8).fill_opacity(10)
             .legend(common_builders.VizLegendOptions().display_mode(common.LegendDisplayMode.LIST)
                     .placement(common.LegendPlacement.BOTTOM).show_legend(True))
             .tooltip(common_builders.VizTooltipOptions().mode(common.TooltipDisplayMode.MULTI)
                      .sort(common.SortOrder.DESCENDING)))
    if stacked:
        panel = panel.stacking(common_builders.StackingConfig().mode(common.StackingMode.NORMAL)).fill_opacity(40)
    for target in targets:
        panel = panel.with_target(target)
    return panel


# ---------------------------------------------------------------- ops dashboard (Prometheus)
RATE = "$__rate_interval"


def ops_dashboard() -> db.Dashboard:
    d = (db.Dashboard("Social Pulse — pipeline health").uid("pulse-ops").tags(["social-pulse", "ops"])
         .description("Throughput, lag, errors, dead letters and sink health of the pipeline's own processes")
         .time("now-1h", "now").refresh("30s").timezone("utc").editable())
    d = d.with_row(db.Row("Throughput"))
    d = d.with_panel(ts(
        "Events through the stages", "Raw messages read (route), unique events stored (store) and duplicates "
        "dropped, per second, all replicas.", "ops",
        prom(f"sum(rate(pulse_events_in_total[{RATE}]))", "raw in", "A"),
        prom(f"sum(rate(pulse_events_stored_total[{RATE}]))", "stored (unique)", "B"),
        prom(f"sum(rate(pulse_duplicates_dropped_total[{RATE}]))", "duplicates dropped", "C"),
        prom(f"sum(rate(pulse_dead_letters_total[{RATE}]))", "dead letters", "D")))
    d = d.with_panel(ts(
        "Valid events by platform and kind", "Events the route stage accepted, per second.", "ops",
        prom(f"sum by (platform, kind) (rate(pulse_events_valid_total[{RATE}]))", "{{platform}} {{kind}}"),
        stacked=True))
    d = d.with_row(db.Row("Lag and latency"))
    d = d.with_panel(ts(
        "Consumer lag by stage", "Messages waiting in Kafka behind each stage (highwater - position, summed "
        "over partitions). Steady growth means a stage reads slower than input arrives.", "short",
        prom("sum by (stage, topic) (pulse_consumer_lag_messages)", "{{stage}} ({{topic}})")))
    d = d.with_panel(ts(
        "Processing latency p50 / p99 by stage", "From an input message's Kafka timestamp to the end of "
        "its batch.", "s",
        prom(f"histogram_quantile(0.5, sum by (le, stage) (rate(pulse_processing_latency_seconds_bucket[{RATE}])))",
             "p50 {{stage}}", "A"),
        prom(f"histogram_quantile(0.99, sum by (le, stage) (rate(pulse_processing_latency_seconds_bucket[{RATE}])))",
             "p99 {{stage}}", "B")))
    d = d.with_row(db.Row("Errors and dead letters"))
    d = d.with_panel(ts(
        "Dead letters by reason", "Raw messages rejected to social.dlq per second; the reason is the field "
        "or check that failed. See the table below for samples.", "ops",
        prom(f"sum by (reason) (rate(pulse_dead_letters_total[{RATE}]))", "{{reason}}"), stacked=True))
    d = d.with_panel(ts(
        "ClickHouse insert errors", "Failed insert attempts per second by table and error class (each is "
        "retried until ClickHouse acknowledges the rows).", "ops",
        prom(f"sum by (table, error) (rate(pulse_clickhouse_insert_errors_total[{RATE}]))", "{{table}} {{error}}")))
    d = d.with_panel(
        table.Panel().show_header(True).title("Recent dead letters").datasource(CLICKHOUSE).span(24).height(8)
        .description("The newest rejected inputs from the dead_letters view (ClickHouse).")
        .with_target(ClickHouseSQL("""
            SELECT received_at, error, topic, partition, offset, substring(raw, 1, 300) AS raw_start
            FROM dead_letters
            WHERE $__timeFilter(received_at)
            ORDER BY received_at DESC
            LIMIT 100""", fmt=CH_TABLE)))
    d = d.with_row(db.Row("ClickHouse sink"))
    d = d.with_panel(ts(
        "Rows inserted per second by table", "", "rows/s",
        prom(f"sum by (table) (rate(pulse_sink_batch_rows_sum[{RATE}]))", "{{table}}"), span=8))
    d = d.with_panel(ts(
        "Insert latency p99 by table", "One synchronous insert, including the materialized views it feeds.", "s",
        prom(f"histogram_quantile(0.99, sum by (le, table) (rate(pulse_sink_insert_seconds_bucket[{RATE}])))",
             "{{table}}"), span=8))
    d = d.with_panel(ts(
        "Insert retries per second by table", "Non-zero for minutes: see the PulseSinkFailing alert.", "ops",
        prom(f"sum by (table) (rate(pulse_sink_retries_total[{RATE}]))", "{{table}}"), span=8))
    d = d.with_row(db.Row("Windows and alerts"))
    d = d.with_panel(ts(
        "Window state", "Active (dimension, key) pairs, minute buckets and detector states held in memory "
        "by the windows processes.", "short",
        prom("sum(pulse_window_active_keys)", "active keys", "A"),
        prom("sum(pulse_window_buckets)", "minute buckets", "B"),
        prom("sum(pulse_detector_states)", "detector states", "C"), span=8))
    d = d.with_panel(ts(
        "Late events and engagement updates", "Late: unique events older than the window grace (stored, not "
        "windowed).", "ops",
        prom(f"sum(rate(pulse_late_events_total[{RATE}]))", "late events", "A"),
        prom(f"sum(rate(pulse_engagement_updates_total[{RATE}]))", "engagement updates", "B"), span=8))
    d = d.with_panel(ts(
        "Alert changes by rule and severity", "", "short",
        prom(f"sum by (rule, severity, transition) (increase(pulse_alerts_total[{RATE}]))",
             "{{rule}} {{severity}} {{transition}}"), span=8))
    d = d.with_row(db.Row("Notify and processes"))
    d = d.with_panel(ts(
        "Notify deliveries, retries, failures", "Per subscriber, per second (pulse notify).", "ops",
        prom(f"sum by (subscriber) (rate(pulse_notify_deliveries_total[{RATE}]))", "delivered {{subscriber}}", "A"),
        prom(f"sum by (subscriber) (rate(pulse_notify_retries_total[{RATE}]))", "retried {{subscriber}}", "B"),
        prom(f"sum by (subscriber) (rate(pulse_notify_failures_total[{RATE}]))", "failed {{subscriber}}", "C")))
    d = d.with_panel(
        stat.Panel().title("Processes up").datasource(PROMETHEUS).span(12).height(8).unit("short")
        .reduce_options(common_builders.ReduceDataOptions().calcs(["lastNotNull"]))
        .description("Scraped pipeline processes answering now, by job (worker, windows, route, notify).")
        .with_target(prom('sum by (job) (up{job=~"pulse-.*"})', "{{job}}")))
    d = d.with_panel(ts(
        "Garbage collection pauses", "Seconds each process spent in garbage collections over 15 minutes, by "
        "generation: the older generations' passes are the ones that hold a batch (and its alerts) for "
        "a large fraction of a second.", "s",
        prom("sum by (job, generation) (increase(pulse_gc_pause_seconds_sum[15m]))",
             "{{job}} gen {{generation}}")))
    d = d.with_panel(ts(
        "Objects in reference cycles freed", "By the automatic collector, over 15 minutes: a steady rise "
        "points at a leak.", "short",
        prom("sum by (job) (increase(python_gc_objects_collected_total[15m]))", "{{job}}")))
    return d


# ---------------------------------------------------------------- engagement dashboard (ClickHouse)
KEY_FILTER = "has([${key:singlequote}], key)"
# An event belongs to a (dimension, key) as in the engagement_kind_mv of migration 0006.
EVENT_FILTER = """multiIf('${dimension}' = 'hashtag', hasAny(hashtags, [${key:singlequote}]),
'${dimension}' = 'brand', hasAny(brands, [${key:singlequote}]),
'${dimension}' = 'platform', has([${key:singlequote}], toString(platform)),
'${dimension}' = 'author', has([${key:singlequote}], actor_id),
has([${key:singlequote}], if(kind = 'post', id, target_id)))"""


def engagement_dashboard() -> db.Dashboard:
    dimension = (db.CustomVariable("dimension").label("Dimension").values(",".join(DIMENSIONS))
                 .current(model.VariableOption(selected=True, text="brand", value="brand")))
    keys = (db.QueryVariable("key").label("Keys").datasource(CLICKHOUSE).multi(True).include_all(True)
            .refresh(model.VariableRefresh.ON_TIME_RANGE_CHANGED)
            .description("The 50 most engaged keys of the dimension in the time range")
            .query(dedent_sql("""
                SELECT key FROM engagement_by_minute
                WHERE dimension = '${dimension}' AND $__timeFilter(minute)
                GROUP BY key ORDER BY sum(total) DESC LIMIT 50""")))
    alerts = (db.AnnotationQuery().name("Spike alerts").datasource(CLICKHOUSE).enable(True).icon_color("red"))
    alerts_target = ClickHouseAnnotationTarget("""
        SELECT opened_at AS time, updated_at AS timeEnd,
               concat(severity, ' ', rule, ': ', dimension, ' ', key, ' (', status, ', score ',
                      toString(round(score, 1)), ')') AS text,
               [severity, dimension] AS tags
        FROM alerts_latest
        WHERE $__timeFilter(opened_at)
        ORDER BY time""")
    alerts = alerts.target(cast(cogbuilder.Builder[model.AnnotationTarget], _Built(alerts_target)))
    d = (db.Dashboard("Social Pulse — engagement").uid("pulse-engagement").tags(["social-pulse", "engagement"])
         .description("Trending keys, engagement over time per brand, hashtag and platform, sentiment and "
                      "spike alerts, from the ClickHouse contract views")
         .time("now-6h", "now").refresh("1m").timezone("utc").editable()
         .with_variable(dimension).with_variable(keys).annotation(alerts))
    d = d.with_panel(
        table.Panel().show_header(True).title("Trending ${dimension} keys").datasource(CLICKHOUSE).span(10).height(10)
        .description("Lift: engagement in the last 15 minutes of the range over the mean 15 minutes of the hour "
                     "before. High lift with real volume is what is taking off.")
        .with_target(ClickHouseSQL("""
            SELECT key,
                   sum(total) AS engagement,
                   sumIf(total, minute >= $__toTime - INTERVAL 15 MINUTE) AS last_15m,
                   sumIf(total, minute < $__toTime - INTERVAL 15 MINUTE
                                AND minute >= $__toTime - INTERVAL 75 MINUTE) / 4 AS mean_15m_before,
                   round(last_15m / greatest(mean_15m_before, 1), 2) AS lift
            FROM engagement_by_minute
            WHERE dimension = '${dimension}' AND $__timeFilter(minute)
            GROUP BY key
            ORDER BY lift DESC, engagement DESC
            LIMIT 20""", fmt=CH_TABLE)))
    d = d.with_panel(ts(
        "Engagement over time: selected ${dimension} keys", "Unique events per interval (all kinds).", "short",
        ClickHouseSQL(f"""
            SELECT $__timeInterval(minute) AS time, key, sum(total) AS engagement
            FROM engagement_by_minute
            WHERE dimension = '${{dimension}}' AND {KEY_FILTER} AND $__timeFilter(minute)
            GROUP BY time, key
            ORDER BY time, key"""), datasource=CLICKHOUSE, span=14))
    d = d.with_panel(ts(
        "Engagement by platform", "Unique events per interval, every platform.", "short",
        ClickHouseSQL("""
            SELECT $__timeInterval(minute) AS time, key AS platform, sum(total) AS engagement
            FROM engagement_by_minute
            WHERE dimension = 'platform' AND $__timeFilter(minute)
            GROUP BY time, platform
            ORDER BY time, platform"""), datasource=CLICKHOUSE, span=12, stacked=True))
    d = d.with_panel(ts(
        "Engagement mix by kind: selected keys", "What the engagement is made of, per interval.", "short",
        ClickHouseSQL(f"""
            SELECT $__timeInterval(minute) AS time,
                   sum(posts) AS posts, sum(comments) AS comments, sum(replies) AS replies,
                   sum(likes) AS likes, sum(shares) AS shares, sum(views) AS views,
                   sum(mentions) AS mentions, sum(votes) AS votes
            FROM engagement_by_minute
            WHERE dimension = '${{dimension}}' AND {KEY_FILTER} AND $__timeFilter(minute)
            GROUP BY time
            ORDER BY time"""), datasource=CLICKHOUSE, span=12, stacked=True))
    d = d.with_panel(ts(
        "Sentiment: selected keys", "Mean sentiment (-1..1) of the texts (posts, comments, replies, mentions) "
        "and the share of clearly positive and negative ones.", "short",
        ClickHouseSQL(f"""
            SELECT $__timeInterval(occurred_at) AS time,
                   avg(sentiment) AS mean_sentiment,
                   countIf(sentiment > 0.05) / count() AS positive_share,
                   countIf(sentiment < -0.05) / count() AS negative_share
            FROM events
            WHERE $__timeFilter(occurred_at) AND text != ''
              AND {EVENT_FILTER}
            GROUP BY time
            ORDER BY time"""), datasource=CLICKHOUSE, span=12))
    d = d.with_panel(ts(
        "Alerts opened by severity", "Spike alerts by the minute they opened (the red marks on every panel "
        "are the same alerts).", "short",
        ClickHouseSQL("""
            SELECT $__timeInterval(opened_at) AS time, severity, count() AS alerts
            FROM alerts_latest
            WHERE $__timeFilter(opened_at)
            GROUP BY time, severity
            ORDER BY time"""), datasource=CLICKHOUSE, span=12, stacked=True))
    d = d.with_panel(
        table.Panel().show_header(True).title("Alerts timeline").datasource(CLICKHOUSE).span(24).height(10)
        .description("Every alert opened in the range, newest first, with its latest state.")
        .with_target(ClickHouseSQL("""
            SELECT opened_at, updated_at, status, severity, rule, dimension, key,
                   round(observed, 1) AS observed, round(expected, 1) AS expected, round(score, 2) AS score,
                   lift, top_posts, platforms
            FROM alerts_latest
            WHERE $__timeFilter(opened_at)
            ORDER BY opened_at DESC
            LIMIT 200""", fmt=CH_TABLE)))
    return d


class _Built(cogbuilder.Builder[model.AnnotationTarget]):
    def __init__(self, target: model.AnnotationTarget) -> None:
        self._target = target

    def build(self) -> model.AnnotationTarget:
        return self._target


DASHBOARDS = {"pulse-ops.json": ops_dashboard, "pulse-engagement.json": engagement_dashboard}


def render(name: str) -> str:
    return json.dumps(DASHBOARDS[name]().build(), cls=JSONEncoder, indent=2, sort_keys=True) + "\n"


# ---------------------------------------------------------------- what the dashboards query
def panel_queries(dashboard: Mapping[str, object]) -> list[tuple[str, str, str]]:
    """(panel or variable title, datasource type, query) for every query of a rendered dashboard."""
    found: list[tuple[str, str, str]] = []
    panels = cast(list[dict[str, object]], dashboard.get("panels") or [])
    for panel in panels:
        for target in cast(list[dict[str, object]], panel.get("targets") or []):
            ds = cast(dict[str, str], target.get("datasource") or panel.get("datasource") or {})
            query = target.get("rawSql") if "rawSql" in target else target.get("expr")
            found.append((str(panel.get("title")), ds.get("type", ""), str(query)))
    for variable in cast(list[dict[str, object]], cast(dict[str, object], dashboard.get("templating", {}))
                         .get("list") or []):
        if variable.get("type") == "query":
            ds = cast(dict[str, str], variable.get("datasource") or {})
            found.append((f"variable {variable.get('name')}", ds.get("type", ""), str(variable.get("query"))))
    for annotation in cast(list[dict[str, object]], cast(dict[str, object], dashboard.get("annotations", {}))
                           .get("list") or []):
        target = cast(dict[str, object], annotation.get("target") or {})
        if "rawSql" in target:
            found.append((f"annotation {annotation.get('name')}", CLICKHOUSE.type_val or "", str(target["rawSql"])))
    return found


_TIME_MACRO = re.compile(r"\$__(timeFilter|timeInterval)\(([^)]+)\)")
_VARIABLE = re.compile(r"\$\{(\w+)(?::(\w+))?\}|\$(\w+)")


def expand_clickhouse_macros(sql: str, from_ms: int, to_ms: int, interval_s: int,
                             variables: Mapping[str, str | Sequence[str]]) -> str:
    """The macros and variables these dashboards use, expanded as Grafana and the ClickHouse plugin
    (v4) do: $__timeFilter(col), $__timeInterval(col), $__fromTime, $__toTime, $__interval_s,
    ${var}, ${var:singlequote} (a multi-value variable: 'a','b'). Anything else is left as is, so the
    query fails in ClickHouse and the test names it."""
    start, end = from_ms // 1000, to_ms // 1000

    def time_macro(m: re.Match[str]) -> str:
        column = m.group(2).strip()
        if m.group(1) == "timeFilter":
            return f"{column} >= toDateTime({start}) AND {column} <= toDateTime({end})"
        return f"toStartOfInterval(toDateTime({column}), INTERVAL {interval_s} second)"

    sql = _TIME_MACRO.sub(time_macro, sql)
    sql = (sql.replace("$__fromTime", f"toDateTime({start})").replace("$__toTime", f"toDateTime({end})")
           .replace("$__interval_s", str(interval_s)))

    def variable(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(3)
        if name not in variables:
            return m.group(0)
        value = variables[name]
        values = [value] if isinstance(value, str) else list(value)
        if m.group(2) == "singlequote":
            return ",".join("'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'" for v in values)
        return ",".join(values)

    return _VARIABLE.sub(variable, sql)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pulse.dashboards", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="folder for the JSON files (default: %(default)s)")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a file differs")
    args = parser.parse_args(argv)
    stale: list[str] = []
    for name in DASHBOARDS:
        path = args.out / name
        text = render(name)
        if args.check:
            if not path.is_file() or path.read_text() != text:
                stale.append(str(path))
        else:
            args.out.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    if stale:
        print(f"out of date: {', '.join(stale)}; regenerate with `python -m pulse.dashboards`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["DASHBOARDS", "expand_clickhouse_macros", "main", "panel_queries", "render"]
