"""``python -m integration_tests.simulator [--port P] [--seed S] [--tickets N] ...``

Serves until interrupted and prints one JSON line on start: base_url, desk_base_url, accounts_base_url,
jwks_url, org_id and a ready connector config. Tasks follow the tickets' ``taskCount``; threads, comments, time
entries, attachments and tags follow each ticket's counters; setup modules (roles, profiles, skills, layouts,
business hours, holiday lists, support plans, channels) have fixed seeded sets.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading

from .server import ZohoDeskSimulator


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m integration_tests.simulator", description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--public-host", default=None, help="host name used in the printed URLs")
    p.add_argument("--seed", type=int, default=7)
    for name, default in (
        ("tickets", 237),
        ("departments", 6),
        ("products", 41),
        ("contracts", 57),
        ("contacts", 120),
        ("accounts", 40),
        ("agents", 12),
        ("calls", 80),
        ("events", 40),
        ("articles", 30),
    ):
        p.add_argument(f"--{name}", type=int, default=default)
    p.add_argument("--latency", type=float, default=0.0)
    p.add_argument("--max-concurrency", type=int, default=10)
    p.add_argument("--list-from-base", type=int, choices=(0, 1), default=0)
    p.add_argument("--ticket-list-max-limit", type=int, default=100)
    p.add_argument("--credits-per-day", type=int, default=100000)
    args = p.parse_args(argv)

    sim = ZohoDeskSimulator(
        seed=args.seed,
        tickets=args.tickets,
        departments=args.departments,
        products=args.products,
        contracts=args.contracts,
        contacts=args.contacts,
        accounts=args.accounts,
        agents=args.agents,
        calls=args.calls,
        events=args.events,
        articles=args.articles,
        host=args.host,
        port=args.port,
        public_host=args.public_host,
    )
    s = sim.settings
    s.latency, s.max_concurrency, s.list_from_base = args.latency, args.max_concurrency, args.list_from_base
    s.ticket_list_max_limit = args.ticket_list_max_limit
    s.credits_per_day = s.credits_remaining = args.credits_per_day
    sim.start()
    print(
        json.dumps(
            {
                "base_url": sim.base_url,
                "desk_base_url": sim.desk_base_url,
                "accounts_base_url": sim.accounts_base_url,
                "jwks_url": sim.jwks_url,
                "org_id": sim.org_id,
                "config": sim.config(),
            },
            ensure_ascii=False,
        ),
        flush=True,
    )
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    try:
        while not done.wait(0.5):
            pass
    finally:
        sim.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
