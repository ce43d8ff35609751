"""The webhook receiver: a Starlette app that stores Zoho Desk deliveries in the event buffer.

A delivery is answered 200 only after its events are committed, so Zoho's retry (if any) covers
everything we did not acknowledge. Rejected deliveries store nothing and leave one log line that
carries neither the path token nor the JWT.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import AsyncIterator, Callable

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import jwt_verifier
from .buffer import BufferUnavailable, EventBuffer, token_digest, utc_now
from .coverage import COVERAGE_GRACE
from .delivery import Rejection, parse_delivery, read_body
from .events import encode_event
from .group_commit import GroupCommit
from .jwt_verifier import JwksUnavailable, JwtRejected, KeysNotCached, VerifierFactory, ZohoJwtVerifier
from .metrics import Metrics
from .models import Endpoint
from .refusals import PendingRefusals, Refusal

log = logging.getLogger(__name__)

JWT_HEADER = "x-zdesk-jwt"
JSON_TYPE = JSONResponse.media_type
# How long a running receiver goes on using an endpoint it looked up: deleting an endpoint, or recording its webhook
# id, reaches running receivers within this long. Without it every delivery would wait for a database read.
ENDPOINT_CACHE_SECONDS = 5.0
REJECTION_REASONS = sorted(
    {
        "unknown_token",
        "wrong_org",
        "too_large",
        "body_timeout",
        "client_disconnected",
        "invalid_json",
        "too_deep",
        "bad_shape",
        "buffer_unavailable",
        JwksUnavailable.reason,
    }
    | {cls.reason for cls in vars(jwt_verifier).values() if isinstance(cls, type) and issubclass(cls, JwtRejected)}
)


class WebhookReceiver:
    """Request handlers and the heartbeat, around one buffer."""

    def __init__(
        self,
        buffer: EventBuffer,
        *,
        max_body_bytes: int,
        max_depth: int,
        body_timeout_seconds: float,
        heartbeat_seconds: float | None,
        verifier_factory: Callable[[Endpoint], ZohoJwtVerifier],
        receiver_id: str | None = None,
    ) -> None:
        self.buffer = buffer
        self.max_body_bytes, self.max_depth, self.body_timeout_seconds = max_body_bytes, max_depth, body_timeout_seconds
        self.heartbeat_seconds = heartbeat_seconds
        self.verifier_factory = verifier_factory
        self.receiver_id = receiver_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.started_at: datetime | None = None
        self.last_heartbeat: datetime | None = None
        self._created = time.monotonic()
        self._last_heartbeat_written: float | None = None  # time.monotonic() of the last heartbeat write that worked
        self._last_heartbeat_failed = False
        self.metrics = Metrics(REJECTION_REASONS, heartbeat_age=self._heartbeat_age, org_heads=buffer.org_heads)
        self._unrecorded_refusals = PendingRefusals()  # those the buffer could not take yet
        self.commits = GroupCommit(buffer)
        self._endpoints: dict[str, tuple[Endpoint, float]] = {}  # token sha256 -> endpoint, time.monotonic() to drop it
        self._clock_offset = timedelta(0)  # buffer clock minus local clock

    # ---- routes -------------------------------------------------------------------------------

    async def healthz(self, request: Request) -> Response:
        try:
            await run_in_threadpool(self.buffer.ping)
            reachable = True
        except Exception:  # any failure means "not reachable" here; details go to the log
            log.warning("health check: buffer unreachable", exc_info=True)
            reachable = False
        writable = self._writing()
        healthy = reachable and writable is not False
        return JSONResponse(
            {
                "status": "ok" if healthy else "unavailable",
                "buffer_reachable": reachable,
                "buffer_writable": writable,
                "receiver_id": self.receiver_id,
                "started_at": _iso(self.started_at),
                "last_heartbeat": _iso(self.last_heartbeat),
            },
            status_code=200 if healthy else 503,
        )

    async def metrics_text(self, request: Request) -> Response:
        body = await run_in_threadpool(self.metrics.render)  # its gauges read the buffer
        return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8")

    async def validate(self, request: Request) -> Response:
        """Zoho's validation GET when a webhook is created or its URL changes."""
        try:
            await run_in_threadpool(self._endpoint, request.path_params["token"])
        except Rejection as rejection:
            return self._refuse(request, rejection, count=False)
        return JSONResponse({"status": "ok"})

    async def deliver(self, request: Request) -> Response:
        self.metrics.add("requests_received_total")
        endpoint: Endpoint | None = None
        try:
            endpoint = await self._admit(request.path_params["token"], request.headers.get(JWT_HEADER))
            body = await read_body(request, self.max_body_bytes, self.body_timeout_seconds)
            events = parse_delivery(body, max_depth=self.max_depth)
            foreign = {event["orgId"] for event in events} - {endpoint.org_id}
            if foreign:
                raise Rejection(403, "wrong_org", f"events for {len(foreign)} other org(s)")
            try:
                stored = await self.commits.append(endpoint.org_id, [encode_event(event) for event in events])
            except BufferUnavailable as exc:
                raise Rejection(503, "buffer_unavailable", str(exc)) from None
        except Rejection as rejection:
            if rejection.status >= 500:
                await self._note_refusal(request, endpoint, rejection.reason)
            return self._refuse(request, rejection, endpoint=endpoint)
        self.metrics.add("events_received_total", len(events))
        self.metrics.add("events_stored_total", stored)
        self.metrics.add("events_duplicate_total", len(events) - stored)
        log.debug("endpoint %s: stored %d of %d events", endpoint.endpoint_id, stored, len(events))
        # JSONResponse's bytes, without a json.dumps per delivery
        return Response(f'{{"stored":{stored},"duplicates":{len(events) - stored}}}'.encode(), media_type=JSON_TYPE)

    # ---- steps --------------------------------------------------------------------------------

    async def _admit(self, token: str, jwt: str | None) -> Endpoint:
        """The path's endpoint, once the delivery's JWT is its webhook's. On the event loop when the endpoint was
        looked up lately and the JWT's key checked lately; otherwise in one trip to a worker thread for both (the
        lookup may wait for the database, the key for the JWKS)."""
        cached = self._endpoints.get(token_digest(token))
        if cached is not None and time.monotonic() < cached[1]:
            try:
                self._check_jwt(cached[0], jwt, fetch=False)
                return cached[0]
            except KeysNotCached:
                pass
        return await run_in_threadpool(self._looked_up_and_checked, token, jwt)

    def _looked_up_and_checked(self, token: str, jwt: str | None) -> Endpoint:
        endpoint = self._endpoint(token)
        self._check_jwt(endpoint, jwt, fetch=True)
        return endpoint

    def _check_jwt(self, endpoint: Endpoint, jwt: str | None, *, fetch: bool) -> None:
        try:
            self.verifier_factory(endpoint).verify(
                jwt, org_id=endpoint.org_id, webhook_id=endpoint.webhook_id, fetch=fetch
            )
        except JwtRejected as exc:
            raise Rejection(401, exc.reason, str(exc)) from None
        except JwksUnavailable as exc:
            raise Rejection(503, exc.reason, str(exc)) from None

    def _endpoint(self, token: str) -> Endpoint:
        """In a worker thread: the lookup may wait for the database."""
        digest = token_digest(token)
        try:
            endpoint = self.buffer.find_endpoint(token)
        except BufferUnavailable as exc:
            raise Rejection(503, "buffer_unavailable", str(exc)) from None
        if endpoint is None:
            self._endpoints.pop(digest, None)
            raise Rejection(404, "unknown_token", "no endpoint has this path")
        self._endpoints[digest] = (endpoint, time.monotonic() + ENDPOINT_CACHE_SECONDS)
        return endpoint

    async def _note_refusal(self, request: Request, endpoint: Endpoint | None, reason: str) -> None:
        """A server-side refusal on a valid endpoint path may lose a Zoho delivery (retries are not documented):
        record it so that the next sync heals. Bad requests (4xx) are not recorded: anyone can send those. When
        the database is down the endpoint is unknown (its lookup failed): the refusal waits, by token hash."""
        digest = token_digest(request.path_params["token"])
        self._unrecorded_refusals.add(digest, endpoint.org_id if endpoint else None, reason, self._buffer_time())
        if reason != "buffer_unavailable":  # the buffer just failed: the next heartbeat tries again
            await self._record_refusals()

    async def _record_refusals(self) -> None:
        """Store the refusals not stored yet; those that fail (the buffer is down) wait for the next heartbeat."""
        pending = self._unrecorded_refusals.take()  # taken whole: callers may interleave
        for index, refusal in enumerate(pending):
            try:
                await run_in_threadpool(self._store_refusal, refusal)
            except Exception as exc:
                log.warning("could not record %d refused deliveries yet: %s", len(pending) - index, exc)
                self._unrecorded_refusals.put_back(pending[index:])
                return

    def _store_refusal(self, refusal: Refusal) -> None:
        if refusal.org_id is not None:
            orgs = {refusal.org_id}
        elif refusal.token_sha256 is not None:
            endpoint = self.buffer.find_endpoint_by_digest(refusal.token_sha256)
            orgs = {endpoint.org_id} if endpoint else set()  # no endpoint has this token: a 404 after all
        else:  # too many unknown tokens to keep apart: any endpoint's
            orgs = {endpoint.org_id for endpoint in self.buffer.list_endpoints()}
        for org_id in sorted(orgs):
            for at in refusal.times:
                self.buffer.record_refusal(org_id, refusal.reason, at)

    def _refuse(
        self, request: Request, rejection: Rejection, *, endpoint: Endpoint | None = None, count: bool = True
    ) -> Response:
        if count:
            self.metrics.reject(rejection.reason)
        client = request.client.host if request.client else "-"
        log.warning(
            "refused %s webhook request: status=%d reason=%s endpoint=%s client=%s detail=%s",
            request.method,
            rejection.status,
            rejection.reason,
            endpoint.endpoint_id if endpoint else "-",
            client,
            rejection.detail,
        )
        # Close: the body may be unread (413, 408), and a refused client has no reason to stay.
        return JSONResponse({"error": rejection.reason}, status_code=rejection.status, headers={"Connection": "close"})

    # ---- heartbeat ----------------------------------------------------------------------------

    @asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        await self._read_buffer_clock()
        self.started_at = self._buffer_time()
        task = None
        if self.heartbeat_seconds:
            await self._beat()
            task = asyncio.create_task(self._beat_forever(self.heartbeat_seconds))
        self.commits.start()
        try:
            yield
        finally:
            await self.commits.stop()  # uvicorn has stopped taking requests: commit what is queued
            if task:
                task.cancel()
                await self._beat(stopped=True)  # coverage ends exactly here, not a grace later

    async def _beat_forever(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            await self._beat()

    async def _read_buffer_clock(self) -> None:
        """Heartbeats and refusals are stamped with the buffer's clock, which the syncs read too (see
        EventBuffer.clock); between reads the offset to the local clock stands in for it."""
        try:
            self._clock_offset = await run_in_threadpool(self.buffer.clock) - utc_now()
        except Exception as exc:  # keep the last offset; a failing buffer shows up as a coverage gap anyway
            log.warning("could not read the buffer's clock: %s", exc)

    def _buffer_time(self) -> datetime:
        return utc_now() + self._clock_offset

    def _writing(self) -> bool | None:
        """Whether the buffer takes writes: the heartbeat is the probe (a full disk or a read-only file still answer
        reads), so its last write must have worked, within the coverage grace. None with the heartbeat off."""
        if not self.heartbeat_seconds:
            return None
        return not self._last_heartbeat_failed and self._heartbeat_age() <= COVERAGE_GRACE.total_seconds()

    def _heartbeat_age(self) -> float:
        written = self._created if self._last_heartbeat_written is None else self._last_heartbeat_written
        return time.monotonic() - written

    async def _beat(self, stopped: bool = False) -> None:
        await self._read_buffer_clock()
        now = self._buffer_time()
        try:
            if self.started_at is None:  # lifespan stamps it before the first beat
                raise RuntimeError("heartbeat before the receiver started")
            await run_in_threadpool(
                self.buffer.record_heartbeat, self.receiver_id, self.started_at, now, stopped=stopped
            )
            self.last_heartbeat, self._last_heartbeat_written = now, time.monotonic()
            self._last_heartbeat_failed = False
            await self._record_refusals()
        except Exception as exc:  # keep serving; the missing heartbeat shows up as a coverage gap, and in /healthz
            self._last_heartbeat_failed = True
            log.warning("heartbeat failed: %s", exc)


def create_app(
    buffer: EventBuffer,
    *,
    max_body_bytes: int = 1_000_000,
    max_depth: int = 32,
    body_timeout_seconds: float = 10,
    heartbeat_seconds: float | None = 5,
    verifier_factory: Callable[[Endpoint], ZohoJwtVerifier] | None = None,
    receiver_id: str | None = None,
) -> Starlette:
    """The public app, which serves only the webhook endpoints; its lifespan runs the heartbeat and the commits.
    `app.state.ops` is the operator's app, /healthz and /metrics of the same receiver, to be served on a port of its
    own (`serve --metrics-port`): they tell anyone who can reach them about the buffer. `heartbeat_seconds=None`
    turns the coverage heartbeat off."""
    receiver = WebhookReceiver(
        buffer,
        max_body_bytes=max_body_bytes,
        max_depth=max_depth,
        body_timeout_seconds=body_timeout_seconds,
        heartbeat_seconds=heartbeat_seconds,
        verifier_factory=verifier_factory or VerifierFactory(),
        receiver_id=receiver_id,
    )
    app = Starlette(
        routes=[
            Route("/webhooks/{token}", receiver.validate, methods=["GET"]),
            Route("/webhooks/{token}", receiver.deliver, methods=["POST"]),
        ],
        lifespan=receiver.lifespan,
    )
    app.state.receiver = receiver
    app.state.ops = Starlette(
        routes=[
            Route("/healthz", receiver.healthz, methods=["GET"]),
            Route("/metrics", receiver.metrics_text, methods=["GET"]),
        ]
    )
    return app


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
