"""Counts Zoho API credits per stream from the response headers, and reports them.

Zoho meters every portal by daily API credits shared with all its integrations (5,000 a day on the Free plan), so
a data engineer needs to see what each sync spends. Every response carries `X-Rate-Limit-Request-Weight-v3`
(credits this call cost) and `X-Rate-Limit-Remaining-v3` (credits left today).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, Mapping, MutableMapping, Optional

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_zoho_desk.components.extraction import DecodedOnceExtractor

WEIGHT_HEADER = "X-Rate-Limit-Request-Weight-v3"
REMAINING_HEADER = "X-Rate-Limit-Remaining-v3"


@dataclass
class StreamUsage:
    requests: int = 0
    credits: int = 0
    remaining: Optional[int] = None

    def summary(self, stream: str, records: int) -> str:
        left = "unknown" if self.remaining is None else f"{self.remaining:,}"
        return (
            f"{stream}: {records:,} records from {self.requests:,} API calls, "
            f"{self.credits:,} Zoho API credits used; {left} credits left today."
        )


@dataclass
class CreditLedger:
    """The run's credits per stream, and its budget (`max_credits_per_sync`): no request starts once the credits
    spent reach it, so a sync stops with the state saved so far instead of spending the portal's daily credits."""

    budget: Optional[int] = None
    _usage: Dict[str, StreamUsage] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def spent(self) -> int:
        with self._lock:
            return sum(usage.credits for usage in self._usage.values())

    def check_budget(self, stream: str) -> None:
        """Raises before a request of `stream` when the run has spent its budget."""
        if self.budget is None:
            return
        spent = self.spent()
        if spent >= self.budget:
            raise AirbyteTracedException(
                message=f"This sync has spent {spent:,} Zoho Desk API credits, its budget ('Credit budget per sync' is "
                f"{self.budget:,}); {stream} stops here. What was read is kept and the next sync goes on from the "
                "saved state; raise the budget to read more per sync.",
                failure_type=FailureType.transient_error,
            )

    def observe(self, stream: str, response: requests.Response) -> None:
        with self._lock:
            usage = self._usage.setdefault(stream, StreamUsage())
            usage.requests += 1
            usage.credits += _int_header(response, WEIGHT_HEADER) or 0
            remaining = _int_header(response, REMAINING_HEADER)
            if remaining is not None:
                usage.remaining = remaining

    def get(self, stream: str) -> StreamUsage:
        with self._lock:
            usage = self._usage.get(stream, StreamUsage())
            return StreamUsage(usage.requests, usage.credits, usage.remaining)


def ledger_of(config: Mapping[str, Any]) -> CreditLedger:
    """The run's ledger (see connector_config.ConnectorConfig); a component built outside a source (a unit test)
    books to a ledger of its own."""
    ledger = getattr(config, "ledger", None)
    return ledger if isinstance(ledger, CreditLedger) else CreditLedger()


def _int_header(response: requests.Response, name: str) -> Optional[int]:
    try:
        return int(response.headers[name])
    except (KeyError, ValueError):
        return None


@dataclass
class CreditCountingExtractor(DecodedOnceExtractor):
    """A DecodedOnceExtractor that also books each response's credits to its stream."""

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        super().__post_init__(parameters)
        self._stream = str(parameters.get("name", "unknown"))

    def extract_records(self, response: requests.Response) -> Iterable[MutableMapping[Any, Any]]:
        records = list(super().extract_records(response))
        # The offset paginator extracts each page a second time to count it; book a response once.
        if not getattr(response, "_zoho_credits_booked", False):
            response._zoho_credits_booked = True  # type: ignore[attr-defined]
            ledger_of(self.config).observe(self._stream, response)
        yield from records
