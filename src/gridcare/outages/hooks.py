"""What the outage domain announces (engine/hooks.py). Subscribers run inside the transaction of the
change; outages import none of them.

- `outage_announced`: a planned or temporary outage was published, or a fault confirmed (its notices
  are queued).
- `outage_restored`: power is back (attached repair calls are answered by it: reactions.py).
- `outage_dismissed`: a predicted outage was not confirmed (its attached calls go back to dispatch).
"""

from __future__ import annotations

from dataclasses import dataclass

from gridcare.engine.hooks import Topic
from gridcare.engine.machine import Context
from gridcare.models import Outage


@dataclass(frozen=True)
class OutageEvent:
    outage: Outage
    ctx: Context


outage_announced: Topic[OutageEvent] = Topic("outages.outage_announced")
outage_restored: Topic[OutageEvent] = Topic("outages.outage_restored")
outage_dismissed: Topic[OutageEvent] = Topic("outages.outage_dismissed")
