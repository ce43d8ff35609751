"""A seeded simulation of the whole system, checked against the simulator's final state.

Each seed (integration_tests/system_model.py) makes random creates, updates and deletes of tickets and departments;
Zoho's deliveries are duplicated, mixed across records, held back past syncs, dropped, or attempted while the
receiver is down; the `serve` subprocess is restarted cleanly or killed with SIGKILL; incremental syncs run in
between. Every emitted record is replayed into an append+dedup destination (per id the highest `_ab_cdc_cursor`
wins, `_ab_cdc_deleted_at` deletes) and the destination is compared with the simulator's store at the end.

Deliveries Zoho drops while the receiver is up, and those it gives up on during a clean stop inside a killed
receiver's coverage grace, cannot be recovered yet (system_model.py says why), so the verdict is, per stream:
    surely wrong  ⊆  mismatched ids  ⊆  ids touched by such a lost event
"surely wrong" are the ids whose last change was lost that way, with nothing (a later change, a snapshot) to repair
it; every other id must match exactly. Odd seeds run `incremental_mode: both`, where each sync also polls the ticket
search, so no ticket may differ at all. Seeds 3 and 6 (mod 8) use PostgreSQL, the others SQLite.

CI runs 20 seeds (0-19). More, or one alone:
    ZOHO_SIM_SEEDS=200 .venv/bin/python -m pytest -p no:cacheprovider -q integration_tests/test_system_simulation.py
    ZOHO_SIM_SEED=17 .venv/bin/python -m pytest -p no:cacheprovider -q integration_tests/test_system_simulation.py
"""

from __future__ import annotations

import os
import uuid

import psycopg
import pytest

from integration_tests.simulator import ZohoDeskSimulator
from integration_tests.system_model import SystemRun
from integration_tests.webhook_harness import WebhookRig

SEEDS = (
    [int(os.environ["ZOHO_SIM_SEED"])]
    if os.environ.get("ZOHO_SIM_SEED")
    else list(range(int(os.environ.get("ZOHO_SIM_SEEDS", "20"))))
)
RERUN = (
    "ZOHO_SIM_SEED={seed} .venv/bin/python -m pytest -p no:cacheprovider -q integration_tests/test_system_simulation.py"
)


def buffer_url_for(seed: int, request, tmp_path) -> str:
    if seed % 8 not in (3, 6):
        return f"sqlite:///{tmp_path}/buffer.db"
    server = request.getfixturevalue("postgres_server")
    name = f"sim_{seed}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server.url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return server.database_url(name)


@pytest.mark.parametrize("seed", SEEDS, ids=[f"seed{seed}" for seed in SEEDS])
def test_the_destination_equals_zoho_except_for_dropped_deliveries(seed, request, tmp_path):
    run = SystemRun(seed, buffer_url_for(seed, request, tmp_path), tmp_path, mode="both" if seed % 2 else "webhooks")
    try:
        verdict = run.play()
        for stream, mismatched in verdict.mismatched.items():
            unrecoverable = verdict.unrecoverable.get(stream, set())
            surely_wrong = verdict.surely_wrong.get(stream, set())
            unexplained = sorted(set(mismatched) - unrecoverable)
            assert not unexplained, f"{stream}: ids differ that no dropped delivery explains: {unexplained}"
            repaired = sorted(surely_wrong - set(mismatched))
            assert not repaired, (
                f"{stream}: ids whose last change was lost for good are right anyway: {repaired} "
                "(did something start repairing those? then tighten this test)"
            )
    except BaseException as failure:
        log = "\n".join(run.log[-60:])
        raise AssertionError(
            f"seed {seed} failed: {failure}\nrerun it alone: {RERUN.format(seed=seed)}\nlast steps:\n{log}"
        ) from failure
    finally:
        run.close()
    print(f"seed {seed}: {verdict.summary()}")


KILL_GRACE_HIDES_A_CLEAN_STOP = (
    "a clean stop less than COVERAGE_GRACE after a SIGKILL is no gap: the killed receiver counts as up until its last "
    "heartbeat + grace (EventBuffer.uncovered_intervals unions every receiver's interval), which covers the stopped "
    "receiver's gap, so the next sync drains instead of healing and the change Zoho gave up on is lost"
)


@pytest.mark.xfail(strict=True, reason=KILL_GRACE_HIDES_A_CLEAN_STOP)
def test_a_clean_stop_soon_after_a_kill_is_still_healed(tmp_path):
    """Found by the simulation (seed 3): BEHAVIOR.md promises that a clean restart is a gap the next sync heals."""
    simulator = ZohoDeskSimulator(
        seed=41, tickets=10, departments=2, products=1, contracts=1, contacts=2, accounts=1, agents=1
    ).start()
    rig = WebhookRig(simulator, f"sqlite:///{tmp_path}/buffer.db", tmp_path)
    try:
        rig.sync()
        rig.kill_receiver()
        rig.start_receiver()
        rig.stop_receiver()
        ticket = sorted(simulator.store["tickets"])[0]
        simulator.update_ticket(ticket, subject="changed while the receiver was stopped")
        lost = simulator.deliver_pending()
        assert lost and all(status == 0 for _, status in lost), lost
        rig.start_receiver()
        healing = rig.sync()
        assert any("no webhook receiver was running" in w for w in healing.warnings), healing.warnings
        rig.assert_exact()
    finally:
        rig.close()
        simulator.stop()
