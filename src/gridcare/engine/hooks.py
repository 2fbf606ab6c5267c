"""Hooks: one domain reacts to another's events inside the same transaction, without importing it.

A domain declares a topic next to the events it publishes (`workorders.events.created`); another
domain subscribes a function to it. Publishing calls every subscriber, in the order they subscribed,
with the session of the transaction in progress: what they write commits or rolls back with it.

Subscriptions are made when the subscribing module is imported. `gridcare.wiring.load()` imports all
of them; publishing before that is an error (a reaction silently missing would be worse)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from sqlalchemy.orm import Session

T = TypeVar("T")
Subscriber = Callable[[Session, T], None]

_wired = False


def mark_wired() -> None:
    global _wired
    _wired = True


class Topic(Generic[T]):
    def __init__(self, name: str) -> None:
        self.name = name
        self.subscribers: list[Subscriber[T]] = []

    def subscribe(self, subscriber: Subscriber[T]) -> Subscriber[T]:
        """Usable as a decorator. Subscribing the same function twice has no effect."""
        if subscriber not in self.subscribers:
            self.subscribers.append(subscriber)
        return subscriber

    def publish(self, session: Session, payload: T) -> None:
        if not _wired:
            raise RuntimeError(
                f"hook {self.name} published before gridcare.wiring.load(): its subscribers are not loaded"
            )
        for subscriber in list(self.subscribers):
            subscriber(session, payload)

    def __repr__(self) -> str:
        return f"Topic({self.name!r}, {len(self.subscribers)} subscribers)"
