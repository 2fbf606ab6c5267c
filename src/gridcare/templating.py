"""The page templates' environment, shared by the pages (web/) and the report files (analytics/):
Beijing time, Chinese weekdays, durations and labels. Domain-specific globals (step and action names)
are added by web/base.py."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from fastapi.templating import Jinja2Templates

from gridcare import __version__
from gridcare.calendar import BEIJING
from gridcare.models.enums import LABELS_ZH
from gridcare.models.types import utcnow

WEB_DIR = Path(__file__).parent / "web"
STATIC_DIR = WEB_DIR / "static"
templates = Jinja2Templates(directory=WEB_DIR / "templates")
WEEKDAYS_ZH = "一二三四五六日"


def beijing(value: datetime | str | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    if isinstance(value, str):  # ISO text, as in report documents
        value = datetime.fromisoformat(value)
    return value.astimezone(BEIJING).strftime(fmt)


def weekday_zh(value: datetime) -> str:
    return "周" + WEEKDAYS_ZH[value.astimezone(BEIJING).weekday()]


def duration_zh(seconds: float) -> str:
    """A span for people: 2天3小时, 1小时5分, 12分."""
    minutes = int(abs(seconds) // 60)
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}天{hours}小时"
    if hours:
        return f"{hours}小时{mins}分"
    return f"{mins}分"


def countdown(deadline: datetime | None, now: datetime | None = None) -> str:
    if deadline is None:
        return "无时限"
    left = (deadline - (now or utcnow())).total_seconds()
    return f"剩余{duration_zh(left)}" if left >= 0 else f"已超时{duration_zh(left)}"


templates.env.filters["bj"] = beijing
templates.env.filters["weekday"] = weekday_zh
templates.env.filters["countdown"] = countdown
templates.env.filters["iso"] = lambda v: v.isoformat() if v else ""
templates.env.globals["role_name"] = LABELS_ZH.get
templates.env.globals["zh"] = LABELS_ZH.get
templates.env.globals["version"] = __version__
