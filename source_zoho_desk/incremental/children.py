"""Per-ticket streams (threads, comments, time entries, attachments, tags) in incremental syncs: the child lists of
the tickets Zoho's search lists as modified, and of no other ticket. Each list is read by the stream's own manifest
definition (requester, paging, error handling, transformations), with those tickets as its partitions instead of
the full ticket list a full refresh walks."""

from __future__ import annotations

import copy
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, Mapping

from airbyte_cdk.sources.declarative.models.declarative_component_schema import DeclarativeStream
from airbyte_cdk.sources.declarative.parsers.model_to_component_factory import ModelToComponentFactory

from source_zoho_desk.components.concurrency import slots_of

PARENT_KEY = "ticket_id"  # the partition field of the per-ticket streams, and the column their rows carry


@dataclass(frozen=True)
class ChildLists:
    """Reads one per-ticket stream for given tickets. `definition` is the stream's resolved manifest definition."""

    definition: Mapping[str, Any]
    config: Mapping[str, Any]

    def rows(self, parents: List[Dict[str, Any]]) -> Iterator[Dict[str, Any]]:
        """The rows of each parent's list, transformed as in a full refresh (`ticket_id` included); a parent whose
        counter for the stream (`$parameters.counter`) is "0" is not asked, as in a full refresh."""
        counter = (self.definition.get("$parameters") or {}).get("counter")
        ids = [str(p["id"]) for p in parents if not (counter and str(p.get(counter)) == "0")]
        if not ids:
            return
        definition = copy.deepcopy(dict(self.definition))
        definition["retriever"]["partition_router"] = {
            "type": "ListPartitionRouter",
            "cursor_field": PARENT_KEY,
            "values": ids,
        }
        stream = ModelToComponentFactory().create_component(DeclarativeStream, definition, self.config)
        # The lists are read `num_workers` at a time, as the CDK reads a full refresh's partitions.
        workers = slots_of(self.config).ceiling
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"{self.definition['name']}-") as pool:
            for records in pool.map(lambda partition: list(partition.read()), stream.generate_partitions()):
                for record in records:
                    yield dict(record.data)


def child_lists(manifest: Mapping[str, Any], name: str, config: Mapping[str, Any]) -> ChildLists:
    return ChildLists(next(s for s in manifest["streams"] if s["name"] == name), config)
