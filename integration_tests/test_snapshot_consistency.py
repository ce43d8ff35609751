"""A tickets snapshot stays whole and gap-free when tickets are deleted while it is read.

Tickets are read from `/tickets/search` in createdTime windows, one request per page of complete rows, and a
window's pages overlap by PAGE_OVERLAP rows. A delete of an earlier ticket of the window shifts every later row one
place up, so it can (a) land just before a page, or (b) come in numbers larger than the overlap between two pages.
The simulator's `before_request` hook deletes tickets at exactly those moments. (The `fields` chunks that tickets
were once listed in, and the deletes between them, are tested on the module lists that still use them:
unit_tests/test_pagination.py.)
"""

from __future__ import annotations

from collections import Counter

import pytest
from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import read

from source_zoho_desk.components.pagination import PAGE_OVERLAP
from source_zoho_desk.source import SourceZohoDesk

TICKETS_LIST = "/api/v1/tickets/search"  # its window counts ask limit=1 and no `from`: they are not pages
# Never-null fields that the default list row lacks or that once came from different `fields` chunks.
FIELDS_FROM_EVERY_CHUNK = ["ticketNumber", "subject", "status", "createdTime", "threadCount", "webUrl", "cf"]


def read_tickets(simulator):
    config = simulator.config()
    catalog = CatalogBuilder().with_stream("tickets", SyncMode.full_refresh).build()
    return read(SourceZohoDesk(config=config, catalog=catalog), config, catalog)


def tickets_by_created_time(simulator) -> list:
    return [
        t["id"] for t in sorted(simulator.store["tickets"].values(), key=lambda t: (t["createdTime"], int(t["id"])))
    ]


def assert_whole_and_complete(simulator, output):
    assert not output.errors, output.errors
    emitted = [m.record.data for m in output.records]
    surviving = simulator.store["tickets"]

    counts = Counter(t["id"] for t in emitted)
    missing = set(surviving) - set(counts)
    assert not missing, f"{len(missing)} surviving tickets were never emitted"
    repeated = {ticket_id for ticket_id, n in counts.items() if n > 1 and ticket_id in surviving}
    assert not repeated, f"surviving tickets emitted more than once: {sorted(repeated)}"

    # Zoho leaves null fields out of a row, so completeness is judged on fields every chunk contributes some of:
    # a row merged from only some chunks lacks a whole chunk's worth of them.
    partial = {}
    for ticket in emitted:
        stored = surviving.get(ticket["id"]) or simulator.store.trash[ticket["id"]]
        absent = [name for name in FIELDS_FROM_EVERY_CHUNK if stored.get(name) is not None and name not in ticket]
        if absent:
            partial[ticket["id"]] = absent
        elif ticket["id"] in surviving:
            assert (ticket["subject"], ticket["status"]) == (stored["subject"], stored["status"])
    assert not partial, f"partial ticket rows were emitted: {partial}"


@pytest.mark.parametrize("page_offset", ["0", str(100 - PAGE_OVERLAP)], ids=["first_page", "second_page"])
def test_a_delete_just_before_a_page_emits_no_partial_row(simulator, page_offset):
    earlier_ticket = tickets_by_created_time(simulator)[5]
    requests_of_page = Counter()

    def delete_before_the_page(method, path, query):
        if method == "GET" and path == TICKETS_LIST and query.get("from") == page_offset:
            requests_of_page[page_offset] += 1
            if requests_of_page[page_offset] == 1:
                simulator.delete_ticket(earlier_ticket)

    simulator.before_request(delete_before_the_page)
    output = read_tickets(simulator)

    assert requests_of_page[page_offset] >= 1, "the page was asked, so the delete happened mid-read"
    assert earlier_ticket not in simulator.store["tickets"]
    assert_whole_and_complete(simulator, output)


def delete_before_the_second_page(simulator, deletes: int) -> list:
    """Deletes `deletes` early tickets just before the first request of a page past the first; returns a list that
    is non-empty once that happened."""
    earlier_tickets = tickets_by_created_time(simulator)[10 : 10 + deletes]
    done = []

    def hook(method, path, query):
        if method == "GET" and path == TICKETS_LIST and query.get("from") not in (None, "0") and not done:
            done.append(True)
            for ticket_id in earlier_tickets:
                simulator.delete_ticket(ticket_id)

    simulator.before_request(hook)
    return done


def test_more_deletes_than_the_overlap_between_two_pages_skip_no_ticket(simulator):
    done = delete_before_the_second_page(simulator, PAGE_OVERLAP + 2)
    output = read_tickets(simulator)
    assert done, "the read reached a second page"
    assert_whole_and_complete(simulator, output)


def test_deletes_that_empty_the_rest_of_the_list_skip_no_ticket():
    """A list that shrinks below the next page's offset answers that page with 204; the rows that moved into the
    already-read range must still be read."""
    from integration_tests.simulator import ZohoDeskSimulator

    with ZohoDeskSimulator(seed=7, tickets=102) as simulator:
        done = delete_before_the_second_page(simulator, PAGE_OVERLAP + 3)
        output = read_tickets(simulator)
        assert done
        assert_whole_and_complete(simulator, output)
