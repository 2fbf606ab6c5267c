"""Outage notices: the Chinese texts, and their rows in the outbox (one per customer and channel, one
digest per village liaison), written in the caller's transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, case, cast, func, insert, literal, select
from sqlalchemy.orm import Session

from gridcare.calendar import BEIJING
from gridcare.config import Settings
from gridcare.errors import InvalidInput
from gridcare.models import Customer, Outage, OutageCustomer, OutboxMessage, User, Village
from gridcare.models.types import UTCDateTime
from gridcare.outages.schemas import KIND_NAMES

HOTLINE = "95598"
CUSTOMER_CHANNELS = ("sms", "wechat", "file")


def _when(moment: datetime) -> str:
    local = moment.astimezone(BEIJING)
    return f"{local.month}月{local.day}日{local:%H:%M}"


def notice_text(
    outage: Outage,
    kind: str,
    settings: Settings,
    *,
    previous: datetime | None = None,
    reason: str | None = None,
) -> tuple[str, str]:
    """(subject, text) of one notice; every text names the area, the time, the cause and 95598."""
    sign = f"【{settings.notice_signature}】"
    area, cause = outage.area_text, outage.cause
    window = f"{_when(outage.planned_start)}至{_when(outage.planned_end)}"
    name = KIND_NAMES[outage.kind]
    if kind == "announce":
        subject = f"{name}通知"
        text = (
            f"{sign}{name}通知：因{cause}，{area}将于{window}停电，请提前做好准备，停电期间请勿靠近电力设施。"
            f"如有疑问请拨打{HOTLINE}。"
        )
    elif kind == "fault":
        subject = "故障停电信息"
        text = (
            f"{sign}故障停电：{area}因{cause}停电，抢修人员正在处理，预计{_when(outage.expected_restore_at)}"
            f"恢复供电。如有疑问请拨打{HOTLINE}。"
        )
    elif kind == "restore_time":
        subject = "复电时间调整"
        before = f"（原预计{_when(previous)}）" if previous else ""
        text = (
            f"{sign}{area}停电（{cause}）预计复电时间调整为{_when(outage.expected_restore_at)}{before}，"
            f"原因：{reason or '现场情况变化'}。如有疑问请拨打{HOTLINE}。"
        )
    elif kind == "restored":
        subject = "恢复供电"
        when = _when(outage.actual_end) if outage.actual_end else ""
        text = f"{sign}{area}已于{when}恢复供电（停电原因：{cause}），感谢您的理解与支持。如有疑问请拨打{HOTLINE}。"
    elif kind == "cancelled":
        subject = "停电取消"
        why = f"取消原因：{reason}。" if reason else ""
        text = (
            f"{sign}原定{window}{area}的{name}（{cause}）已取消，届时正常供电。{why}如有疑问请拨打{HOTLINE}。"
        )
    else:  # pragma: no cover - callers pass the kinds above
        raise ValueError(kind)
    return subject, text


def customer_channels(settings: Settings) -> list[str]:
    chosen = [c.strip() for c in settings.customer_channels.split(",") if c.strip()]
    unknown = [c for c in chosen if c not in CUSTOMER_CHANNELS]
    if unknown:
        raise InvalidInput(
            f"GRIDCARE_CUSTOMER_CHANNELS 含未知渠道：{'、'.join(unknown)}（可选 sms、wechat、file）"
        )
    return chosen


def queue(
    session: Session,
    outage: Outage,
    kind: str,
    settings: Settings,
    *,
    now: datetime,
    serial: int = 0,
    important_only: bool = False,
    previous: datetime | None = None,
    reason: str | None = None,
) -> int:
    """Queue notice `kind` to every affected customer on every customer channel, and a digest to each
    village liaison; the rows queued. `serial` tells repeated notices of one kind apart (the n-th
    change of the restoration time); queuing the same notice twice fails on the outbox's unique key."""
    subject, text = notice_text(outage, kind, settings, previous=previous, reason=reason)
    queued = 0
    for channel in customer_channels(settings):
        prefix = f"o{outage.id}:{kind}:{serial}:{channel}:c"
        recipient = {"sms": Customer.phone, "wechat": Customer.account_no, "file": Customer.account_no}[
            channel
        ]
        rows = (
            select(
                literal(prefix) + cast(Customer.id, String),
                literal(channel),
                func.coalesce(recipient, ""),
                literal(subject),
                literal(text),
                literal(kind),
                literal("outage"),
                literal(outage.id),
                Customer.id,
                case((recipient.is_(None), "failed"), else_="pending"),
                case((recipient.is_(None), "客户无可用联系方式"), else_=None),
                literal(0),
                literal(now, UTCDateTime()),
                literal(now, UTCDateTime()),
            )
            .join(OutageCustomer, OutageCustomer.customer_id == Customer.id)
            .where(OutageCustomer.outage_id == outage.id)
        )
        if important_only:
            rows = rows.where(OutageCustomer.is_important)
        result = session.execute(
            insert(OutboxMessage).from_select(
                [
                    "key",
                    "channel",
                    "recipient",
                    "subject",
                    "body",
                    "kind",
                    "item_kind",
                    "item_id",
                    "customer_id",
                    "status",
                    "last_error",
                    "attempts",
                    "due_at",
                    "created_at",
                ],
                rows,
            )
        )
        queued += max(result.rowcount or 0, 0)  # type: ignore[attr-defined]
    queued += _queue_liaisons(session, outage, kind, settings, subject, text, now=now, serial=serial)
    return queued


def _queue_liaisons(
    session: Session,
    outage: Outage,
    kind: str,
    settings: Settings,
    subject: str,
    text: str,
    *,
    now: datetime,
    serial: int,
) -> int:
    """One message per village liaison, listing the village's affected households."""
    channel = settings.liaison_channel
    if channel == "none":
        return 0
    households = session.execute(
        select(
            Village.id,
            Village.name,
            User.id,
            User.username,
            User.phone,
            User.email,
            Customer.account_no,
            Customer.name,
            Customer.address,
        )
        .join(Customer, Customer.village_id == Village.id)
        .join(OutageCustomer, OutageCustomer.customer_id == Customer.id)
        .join(User, User.id == Village.liaison_user_id)
        .where(OutageCustomer.outage_id == outage.id)
        .order_by(Village.id, Customer.account_no)
    ).all()
    digests: dict[int, list[tuple[object, ...]]] = {}
    for row in households:
        digests.setdefault(int(row[0]), []).append(tuple(row))
    rows = []
    for village_id, items in digests.items():
        _, village, _, username, phone, email, *_ = items[0]
        recipient = {"sms": phone, "email": email, "wechat": username, "file": username}[channel]
        listing = "\n".join(
            f"{i}. {account} {name} {address}" for i, (*_, account, name, address) in enumerate(items, 1)
        )
        rows.append(
            {
                "key": f"o{outage.id}:{kind}:{serial}:liaison:v{village_id}",
                "channel": channel,
                "recipient": recipient or "",
                "subject": f"{village}{subject}（村所对接）",
                "body": f"{text}\n{village}受影响客户共{len(items)}户，请转告并张贴于村务公开栏：\n{listing}",
                "kind": f"liaison_{kind}",
                "item_kind": "outage",
                "item_id": outage.id,
                "customer_id": None,
                "status": "pending" if recipient else "failed",
                "last_error": None if recipient else "联络员无可用联系方式",
                "attempts": 0,
                "due_at": now,
                "created_at": now,
            }
        )
    if rows:
        session.execute(insert(OutboxMessage), rows)
    return len(rows)
