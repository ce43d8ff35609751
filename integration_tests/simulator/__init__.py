"""Offline Zoho Desk API v1 simulator for the source-zoho-desk connector tests.

Usage::

    from integration_tests.simulator import ZohoDeskSimulator
    with ZohoDeskSimulator(seed=7) as sim:
        config = sim.config()          # connector config with a fresh refresh token
        ...                            # sim.requests, sim.inject(...), sim.settings.*, sim.store

Standalone: ``python -m integration_tests.simulator --port 8765`` prints one JSON line with the URLs and config.

Simulated facts from docs/reference ``zoho-desk-api.md`` ([C] confirmed / [S] seen):

* OAuth (``oauth.py``): ``POST /oauth/v2/token`` (query or form parameters); self-client codes single use,
  expiring after ``code_ttl`` (180 s); errors as HTTP 200 ``{"error": "invalid_code" | "invalid_client"}``;
  ``api_domain`` is the generic ``https://www.zohoapis.com``; at most 10 access tokens per refresh token per
  10 minutes (``{"error": "Access Denied", ...}``); at most 20 refresh tokens, the oldest silently revoked [S];
  scopes per endpoint, missing -> 403 SCOPE_MISMATCH.
* Desk gateway (``gateway.py``): ``Authorization: Zoho-oauthtoken`` (Bearer -> 401 INVALID_OAUTH); ``orgId``
  header on every endpoint except ``GET /organizations``; OAUTH_ORG_MISMATCH; credits with
  ``X-Rate-Limit-Request-Weight-v3`` / ``X-Rate-Limit-Remaining-v3`` (list page 3 + 1 per 1000 of ``from``,
  get-by-id 1), THRESHOLD_EXCEEDED + Retry-After; concurrency -> 429 TOO_MANY_REQUESTS.
* Lists (``api.py``): ``{"data": [...]}``, empty page = 204 with empty body; strict parameters (unknown -> 422
  INVALID_DATA; limit/from/sortBy/include/fields -> 422 UNPROCESSABLE_ENTITY); tickets list without
  ``modifiedTime``/``cf``; ``fields`` (<= 30, no multi-line fields, ``cf_*`` inside ``cf``); search with
  modifiedTimeRange/createdTimeRange, ``from`` <= 999; products/contracts slim rows; departments without
  modifiedTime; organizationFields per module; recycle bin; webhooks CRUD with URL validation (GET then POST,
  200 required) and the URL max length of 100.
* Webhooks (``webhooks.py``): JSON array bodies, ``eventTime`` epoch-ms string, ``prevState`` only with
  ``includePrevState``, ``Ticket_Delete`` payload ``{id}``, ``X-ZDesk-JWT`` RS256 with kid
  (iss ``orgId:<org>``, aud ``webhookId:<id>``), JWKS at ``/.well-known/jwks.json``, 200-only receipt,
  410 removes the webhook, no Product_*/Contract_* events.
* Data (``data.py``, ``schema.py``): seeded and deterministic; ids > 2**53 as strings, counters as strings,
  ISO times with milliseconds, createdTime increasing with id, unicode text, nulls, custom fields in ``cf``.
* More modules, seeded after the core ones so those stay exactly as before: roles, profiles, skills, layouts,
  business hours, holiday lists, support plans, channels, tags, teams in Team.json's shape, agents with role,
  profile and ``cf`` (``orgsetup.py``); tasks (as many per ticket as its ``taskCount``), calls and events
  (``activities.py``); KB root categories and articles (``knowledge.py``); contacts' phones in real-world notations
  (``phones.py``); per-ticket threads, comments, attachments, time entries and tags, exactly as many as the
  ticket's counters, made on first read (``children.py``). Every module's ``cf`` follows its definitions in
  ``GET /fields`` (``fielddefs.py``, ``cfvalues.py``; Formula fields computed).
* Routes for them (``api_people.py``, ``api_setup.py``, ``api_activities.py``, ``api_ticket_children.py``,
  ``api_kb.py``, ``api_search.py``): each module docstring lists the OAS facts it follows (paths, ``from``/``limit``
  ranges, ``sortBy``, filters, envelopes such as ``{"teams": [...]}``); scopes from the OAS security blocks
  (``scopes.py``). ``fields=`` / ``include=`` on contacts, accounts, products, contracts, tasks, calls
  (``projection.py``); ``/search`` for contacts, accounts, tasks, calls, events, activities, products, articles and
  tickets, with the required ``count``.

Switches for uncertain [U] facts (``sim.settings``):

* ``list_from_base`` 0/1 - tickets and contracts lists 1-based (``from=0`` treated like 1);
* ``ticket_list_max_limit`` 100, or 50 for the "1-50 range" variant;
* ``search_max_from`` 999 (4999 in older notes);
* ``ticket_list_default_sort`` (``createdTime``) - order of ``GET /tickets`` without ``sortBy``;
* ``event_time_format`` ``"epoch_ms"`` or ``"iso"``;
* ``prev_state_mode`` ``"full"`` record or only the ``"changed"`` fields;
* ``delete_also_sends_update`` - a deleted ticket also arrives as Ticket_Update with isDeleted true;
* ``webhook_retries`` / ``webhook_retry_backoff`` - Zoho's retry policy is undocumented;
* ``org_mismatch_status`` (401);
* delivery faults in ``sim.webhook_faults``: duplicate, reorder, delay, drop, batch;
* ``fields_cf_placement`` ``"nested"`` (``cf_x`` under ``cf``) or ``"top_level"``;
* ``unknown_field_policy`` ``"error"`` (422, ``errors[].fieldName`` = the unknown name) or ``"ignore"``;
* ``recycle_bin_type_format`` ``"string"`` or ``"list"`` (``["Tickets"]``, the OAS example);
* ``credit_costs`` - credits per call kind (``single``/``list``/``search``), e.g. a dearer search;
* ``scope_list_semantics`` ``"any"``/``"all"`` - how the scopes inside one OAS security block combine;
* ``search_count_type`` ``"int"`` (the OAS examples) or ``"string"`` for ``/search``'s ``count``.

Mutations for the new modules: ``sim.update_record(module, id, **fields)`` / ``sim.delete_record(module, id)`` for
tasks, calls, events and articles (modifiedTime moves on; ``*_Update`` / ``*_Delete`` events; recycle bin).
"""

from .schema import TICKET_FIELDS, TICKET_LIST_DEFAULT_FIELDS, TICKET_SEARCH_FIELDS
from .server import ZohoDeskSimulator
from .settings import RequestRecord, Settings, WebhookFaults

__all__ = [
    "ZohoDeskSimulator",
    "Settings",
    "WebhookFaults",
    "RequestRecord",
    "TICKET_FIELDS",
    "TICKET_LIST_DEFAULT_FIELDS",
    "TICKET_SEARCH_FIELDS",
]
