"""The process engine: processes as typed specs (spec.py), moving items and writing their events
(machine.py, events.py), step clocks that pause for the customer (clock.py), several open steps at once
(parallel.py), and hooks through which domains react to each other inside one transaction (hooks.py).

It imports no domain: domains build their processes on it (workorders/process.py, outages/process.py)."""
