"""The receiver's Prometheus metrics, in a registry of its own (several receivers may run in one process).

Counters count requests as they are handled; the gauges are computed when /metrics is scraped: the heartbeat's
age from the receiver, the rest from the buffer, so they are true for every receiver sharing it.
"""

from __future__ import annotations

import logging
from typing import Callable, Iterable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from .models import OrgHead

log = logging.getLogger(__name__)

PREFIX = "zoho_desk_webhook_"
COUNTERS = {
    "requests_received_total": "Webhook POST requests received.",
    "events_received_total": "Events in deliveries that passed every check.",
    "events_stored_total": "Events stored for the first time.",
    "events_duplicate_total": "Events ignored because they were already stored.",
}
REJECTED = "requests_rejected_total"
REJECTED_HELP = "Webhook POST requests answered with an error, by reason; nothing of them was stored."
HEARTBEAT_AGE = "heartbeat_age_seconds"
HEARTBEAT_AGE_HELP = (
    "Seconds since this receiver last wrote its heartbeat to the buffer (since it started, while "
    "none has been written). Over 30 s, syncs count the receiver as down and re-read their streams."
)
HEAD_POSITION_HELP = (
    "Newest position in the buffer, per org. The buffer keeps no reader's position (each sync saves "
    "its own in its state), so a sync's unread events are this minus the position in its state."
)
EVENTS_HELP = "Events the buffer holds per org: stored, and not yet removed by retention (prune)."
LAST_EVENT_HELP = (
    "When the org's newest event in the buffer was received (by any receiver), in unix seconds; "
    "absent once retention removed it."
)


class Metrics:
    def __init__(
        self,
        rejection_reasons: Iterable[str],
        *,
        heartbeat_age: Callable[[], float],
        org_heads: Callable[[], list[OrgHead]],
    ) -> None:
        self.registry = CollectorRegistry()
        self._counters = {
            name: Counter(PREFIX + name, help_text, registry=self.registry) for name, help_text in COUNTERS.items()
        }
        self._rejected = Counter(PREFIX + REJECTED, REJECTED_HELP, ["reason"], registry=self.registry)
        for reason in rejection_reasons:
            self._rejected.labels(reason)  # shown as 0 until it happens
        Gauge(PREFIX + HEARTBEAT_AGE, HEARTBEAT_AGE_HELP, registry=self.registry).set_function(heartbeat_age)
        self.registry.register(BufferGauges(org_heads))

    def add(self, name: str, amount: int = 1) -> None:
        self._counters[name].inc(amount)

    def reject(self, reason: str) -> None:
        self._rejected.labels(reason).inc()

    def value(self, name: str, reason: str | None = None, org_id: str | None = None) -> float | None:
        """The current value of one sample (None when it is not exposed); reads the buffer for its gauges."""
        labels = {key: value for key, value in (("reason", reason), ("org_id", org_id)) if value is not None}
        return self.registry.get_sample_value(PREFIX + name, labels)

    def render(self) -> bytes:
        """The text exposition format; reads the buffer, so call it off the event loop."""
        return generate_latest(self.registry)


class BufferGauges(Collector):
    """Per-org gauges read from the buffer at scrape time."""

    def __init__(self, org_heads: Callable[[], list[OrgHead]]) -> None:
        self._org_heads = org_heads

    def collect(self) -> Iterator[Metric]:
        try:
            heads = self._org_heads()
        except Exception as exc:  # the counters still answer; /healthz and the heartbeat log say what is wrong
            log.debug("metrics: the buffer gauges are left out: %s", exc)
            return
        head = GaugeMetricFamily(PREFIX + "buffer_head_position", HEAD_POSITION_HELP, labels=["org_id"])
        held = GaugeMetricFamily(PREFIX + "buffer_events", EVENTS_HELP, labels=["org_id"])
        last = GaugeMetricFamily(
            PREFIX + "buffer_last_event_received_timestamp_seconds", LAST_EVENT_HELP, labels=["org_id"]
        )
        for org in heads:
            head.add_metric([org.org_id], org.head_position)
            held.add_metric([org.org_id], org.head_position - org.pruned_through)
            if org.last_received_at is not None:
                last.add_metric([org.org_id], org.last_received_at.timestamp())
        yield from (head, held, last)
