"""Loads every process's actions (engine/spec.py), every hook subscription (engine/hooks.py) and every
background job (jobs.py) before anything is published: the app, the worker, the demo and the CLI call `load()` first. A domain with a
process or with reactions to another domain's hooks adds its module here."""

from __future__ import annotations

from gridcare.analytics import jobs as analytics_jobs
from gridcare.auth import jobs as auth_jobs
from gridcare.engine.hooks import mark_wired
from gridcare.notify import jobs as notify_jobs
from gridcare.outages import process as outage_process
from gridcare.outages import reactions as outage_reactions
from gridcare.web import jobs as web_jobs
from gridcare.workorders import actions as workorder_actions
from gridcare.workorders import hooks as workorder_hooks
from gridcare.workorders import jobs as workorder_jobs

# Processes (their actions), hook subscriptions and background jobs, registered on import.
REGISTERED = (
    workorder_actions,
    outage_process,
    workorder_hooks,
    outage_reactions,
    workorder_jobs,
    notify_jobs,
    analytics_jobs,
    auth_jobs,
    web_jobs,
)


def load() -> None:
    mark_wired()
