"""Incremental reads, in the order they run: plan (plan.py) → snapshot (snapshot.py) → drain (drain.py), started by
read.read_incremental. State (state.py) is one plain JSON document per stream; streams.py says which streams
follow webhook events. BEHAVIOR.md says why this is not the CDK's StateDelegatingStream."""
