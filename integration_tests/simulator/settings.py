"""Runtime knobs, the request log record and the simulator clock.

Everything here is plain data: the other modules read these objects on every request, so tests can flip a
switch between two calls and the very next request sees it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Optional

# Credits per call kind (``Route.kind``). List-like kinds ("list", "search") add 1 credit per full 1000 of ``from``
# [S]. Whether a search page costs more than a list page is not documented [U]: override ``credit_costs``.
DEFAULT_CREDIT_COSTS = {"single": 1, "list": 3, "search": 3}


@dataclass
class Settings:
    """Behaviour switches. All fields may be changed while the server runs."""

    # --- OAuth -------------------------------------------------------------------------------------------------
    access_token_ttl: int = 3600  # seconds an access token lives ("expires_in")
    code_ttl: int = 180  # self-client grant code lifetime (Zoho default 3 minutes)
    tokens_per_refresh_window: int = 10  # access tokens per refresh token ...
    refresh_window: int = 600  # ... per this many seconds [C]
    max_refresh_tokens: int = 20  # refresh tokens per user+client; minting one more revokes the oldest [S]

    # --- Desk gateway ------------------------------------------------------------------------------------------
    latency: float = 0.0  # seconds added to each Desk request (makes concurrency observable)
    max_concurrency: int = 10  # Desk requests in flight; one more -> 429 TOO_MANY_REQUESTS
    credits_per_day: int = 100000
    credits_remaining: int = 100000
    credits_reset_at: Optional[float] = None  # epoch seconds of the next daily reset; None = next UTC midnight
    org_mismatch_status: int = 401  # HTTP status of OAUTH_ORG_MISMATCH

    # --- [U] switches for lists --------------------------------------------------------------------------------
    list_from_base: int = 0  # 1 = tickets and contracts lists are 1-based (from=0 treated like from=1)
    ticket_list_max_limit: int = 100  # 50 mimics the "1-50 range" error seen on some endpoints
    search_max_from: int = 999  # 4999 in older notes
    ticket_list_default_limit: int = 25
    ticket_list_default_sort: str = "createdTime"  # order of GET /tickets without sortBy (undocumented) [U]
    default_list_limit: int = 10  # every other list's default page size
    credit_costs: dict = field(default_factory=lambda: dict(DEFAULT_CREDIT_COSTS))  # see DEFAULT_CREDIT_COSTS

    # --- [U] switches for projections, scopes and the recycle bin ----------------------------------------------
    fields_cf_placement: str = "nested"  # fields=cf_x values under "cf" ("nested") or as top-level keys ("top_level")
    unknown_field_policy: str = "error"  # unknown name in fields=: 422 naming it in errors[].fieldName, or "ignore"
    recycle_bin_type_format: str = "string"  # recycle-bin "type" as the schema's string, or "list" (["Tickets"])
    scope_list_semantics: str = "any"  # a spec security block's scopes: "any" one suffices, or "all" are required
    search_count_type: str = "int"  # /search "count": an integer as in every OAS example, or a "string" [U]

    # --- webhooks ----------------------------------------------------------------------------------------------
    auto_deliver: bool = True  # background sender thread posts deliveries promptly
    webhook_timeout: float = 5.0  # seconds to wait for the receiver's answer (validation and delivery)
    webhook_retries: int = 3  # extra attempts for a failed delivery in auto mode [U]
    webhook_retry_backoff: float = 0.2  # seconds, doubled after each failed attempt
    max_enabled_webhooks: int = 10  # Enterprise edition; Professional is 5 [C]
    webhook_url_max_length: int = 100  # the OAS limits the webhook url to 100 characters
    event_time_format: str = "epoch_ms"  # "epoch_ms" (string of epoch millis) [S] or "iso" [U]
    prev_state_mode: str = "full"  # prevState holds the "full" previous record or only the "changed" fields [U]
    delete_also_sends_update: bool = False  # a deleted ticket also arrives as Ticket_Update with isDeleted true [S]
    jwt_ttl: int = 300  # exp - iat of the X-ZDesk-JWT


@dataclass
class WebhookFaults:
    """Delivery faults, applied by the sender (``sim.webhook_faults``).

    ``duplicate`` and ``drop`` are probabilities (``True`` means 1.0); the draw uses a seeded RNG so a run is
    reproducible. ``batch`` is the largest number of events put in one delivered array.
    """

    duplicate: float = 0.0  # deliver a batch twice
    reorder: bool = False  # shuffle the pending batches before sending
    delay: float = 0.0  # seconds an event waits before the auto sender may post it
    drop: float = 0.0  # never deliver (logged with outcome "dropped")
    batch: int = 1  # several events of one webhook in one array


@dataclass
class RequestRecord:
    method: str
    path: str
    query: dict
    headers: dict
    status: int
    credits: int
    started: float
    ended: float


class Clock:
    """Wall clock with an adjustable offset so tests can fast-forward expiry windows."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += seconds
