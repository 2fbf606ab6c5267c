"""The `gridcare` command: database, demo data, server, users, import and export."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from sqlalchemy.orm import Session

from gridcare.auth.principal import SYSTEM
from gridcare.config import ConfigurationError, Settings, get_settings
from gridcare.db import make_engine, make_session_factory, transaction
from gridcare.errors import DomainError
from gridcare.models.enums import Role

if TYPE_CHECKING:
    from gridcare.calendar import WorkCalendar
    from gridcare.notify.outbox import DeliveryResult

app = typer.Typer(help="GridCare 95598 供电服务平台命令行", no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="数据库迁移", no_args_is_help=True)
user_app = typer.Typer(help="用户管理", no_args_is_help=True)
import_app = typer.Typer(help="导入数据", no_args_is_help=True)
export_app = typer.Typer(help="导出数据", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(import_app, name="import")
app.add_typer(export_app, name="export")
calendar_app = typer.Typer(help="工作日历", no_args_is_help=True)
app.add_typer(calendar_app, name="calendar")


@app.callback()
def _wired() -> None:
    """GridCare 95598 供电服务平台命令行"""
    from gridcare import wiring  # every domain's hook subscriptions, before any command changes data

    wiring.load()


def fail(message: str, details: list[dict[str, object]] | None = None) -> NoReturn:
    typer.echo(f"错误：{message}", err=True)
    for d in details or []:
        where = f"第 {d['row']} 行 " if "row" in d else ""
        typer.echo(f"  {where}{d.get('field', '')}：{d.get('reason', '')}", err=True)
    raise typer.Exit(1)


def _settings() -> Settings:
    """The settings, or a clear configuration error and exit status 1."""
    try:
        return get_settings()
    except ConfigurationError as exc:
        fail(str(exc))


@contextmanager
def unit_of_work() -> Iterator[Session]:
    engine = make_engine(_settings())
    try:
        with transaction(make_session_factory(engine)) as session:
            yield session
    except DomainError as exc:
        fail(exc.message, exc.details)
    finally:
        engine.dispose()


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """把数据库迁移到最新（或指定）版本。"""
    from gridcare import migrate

    migrate.upgrade(_settings().database_url, revision)
    typer.echo("数据库已是最新版本")


@db_app.command("downgrade")
def db_downgrade(revision: str) -> None:
    """回退到指定版本（base 为清空）。"""
    from gridcare import migrate

    migrate.downgrade(_settings().database_url, revision)


@db_app.command("current")
def db_current() -> None:
    """显示数据库当前版本。"""
    from gridcare import migrate

    migrate.current(_settings().database_url)


@app.command()
def demo(
    customers: Annotated[int, typer.Option(min=100, help="客户数")] = 20_000,
    seed: Annotated[int, typer.Option(help="随机种子（相同种子生成相同数据）")] = 95598,
    if_empty: Annotated[bool, typer.Option("--if-empty", help="数据库非空时跳过而不报错")] = False,
    months: Annotated[int, typer.Option(min=0, help="工单历史月数（0 为不生成）")] = 12,
    orders: Annotated[int | None, typer.Option(min=0, help="工单数（默认每户每年约 0.3 单）")] = None,
) -> None:
    """生成演示数据：一个虚构市公司的县公司、供电所、村社区、电网、客户与各角色员工。"""
    from gridcare.demo.loader import database_is_empty, load_demo
    from gridcare.demo.province import DEMO_LOGINS, DEMO_PASSWORD

    engine = make_engine(_settings())
    try:
        if if_empty and not database_is_empty(engine):
            typer.echo("数据库已有数据，跳过演示数据生成")
            return
        result = load_demo(
            engine, customers=customers, seed=seed, months=months, orders=orders, progress=typer.echo
        )
    except DomainError as exc:
        fail(exc.message)
    finally:
        engine.dispose()
    typer.echo(f"演示数据已生成（{result.seconds:.1f} 秒）：{json.dumps(result.counts, ensure_ascii=False)}")
    typer.echo(f"演示账号（密码均为 {DEMO_PASSWORD}）：")
    for username, role in DEMO_LOGINS.items():
        typer.echo(f"  {username:<11} {role}")


@app.command()
def serve(
    host: Annotated[str, typer.Option(envvar="GRIDCARE_HOST")] = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="GRIDCARE_PORT")] = 8000,
    workers: Annotated[
        int, typer.Option(envvar="GRIDCARE_WORKERS", help="进程数（PostgreSQL 上可多个）")
    ] = 1,
    jobs: Annotated[
        bool,
        typer.Option(
            "--jobs/--no-jobs",
            envvar="GRIDCARE_SERVE_JOBS",
            help="同时运行后台任务（超时扫描、通知发送、报表快照）；另设 gridcare worker 时可关闭",
        ),
    ] = True,
) -> None:
    """启动网页与 API 服务（默认同时运行后台任务）。"""
    import uvicorn

    from gridcare.jobs import Runner
    from gridcare.server import uvicorn_options

    settings = _settings()
    try:
        settings.resolved_secret_key()  # refuse to start with a weak key (rather than fail every request)
    except ConfigurationError as exc:
        fail(str(exc))
    runner = None
    if jobs:  # in this (supervising) process: one runner however many web workers there are
        engine = make_engine(settings)
        runner = Runner(settings, engine, make_session_factory(engine), echo=typer.echo)
        runner.start()
        typer.echo("后台任务已启动（超时扫描、通知发送、报表快照刷新）")
    try:
        uvicorn.run("gridcare.asgi:app", host=host, port=port, workers=workers, **uvicorn_options(settings))
    finally:
        if runner is not None:
            runner.stop(timeout=10)


@user_app.command("create")
def user_create(
    username: Annotated[str, typer.Option(help="登录名")],
    name: Annotated[str, typer.Option(help="姓名")],
    unit: Annotated[str, typer.Option(help="所属单位编号")],
    role: Annotated[list[Role], typer.Option(help="角色，可重复")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
    phone: Annotated[str | None, typer.Option(help="手机号")] = None,
) -> None:
    """新建员工账号。"""
    from gridcare.users.schemas import UserCreate
    from gridcare.users.service import create_user

    try:
        data = UserCreate(
            username=username, display_name=name, password=password, unit_code=unit, roles=role, phone=phone
        )
    except ValueError as exc:
        fail(str(exc))
    with unit_of_work() as session:
        user = create_user(session, principal=SYSTEM, data=data)
    typer.echo(f"已创建用户 {user.username}（id {user.id}，角色 {', '.join(user.roles)}）")


@user_app.command("unlock")
def user_unlock(username: Annotated[str, typer.Argument(help="登录名")]) -> None:
    """解除账号的登录限制：清除其登录失败记录（审计）。"""
    from sqlalchemy import select

    from gridcare.auth.service import clear_failures
    from gridcare.models import User

    with unit_of_work() as session:
        user_id = session.scalar(select(User.id).where(User.username == username))
        if user_id is None:
            fail(f"用户 {username} 不存在")
        cleared = clear_failures(session, principal=SYSTEM, user_id=user_id)
    typer.echo(f"已解除 {username} 的登录限制（清除 {cleared} 条失败记录）")


@import_app.command("customers")
def import_customers(file: Annotated[Path, typer.Argument(help="CSV 或 XLSX 文件")]) -> None:
    """导入客户（全部成功或全部不导入；按户号去重，重复导入不改变数据）。"""
    from gridcare.customers.transfer import import_customers as run_import

    with unit_of_work() as session:
        result = run_import(session, principal=SYSTEM, path=file)
    typer.echo(
        f"导入完成：共 {result.rows} 行，新增 {result.inserted}，更新 {result.updated}，未变 {result.unchanged}"
    )


@app.command("analytics-refresh")
def analytics_refresh(
    full: Annotated[bool, typer.Option("--full", help="丢弃快照，从业务库重建")] = False,
) -> None:
    """刷新报表快照（DuckDB）：只读取上次刷新后的变化；--full 为重建。"""
    from gridcare.analytics.service import snapshot

    settings = _settings()
    engine = make_engine(settings)
    try:
        result = snapshot(settings, engine).refresh(full=full)
    finally:
        engine.dispose()
    typer.echo(
        f"报表快照{'重建' if result.full else '刷新'}完成：工单 {result.orders}，事件 {result.events}，"
        f"客户 {result.customers}（{result.seconds:.2f} 秒），数据截至 {result.refreshed_at.isoformat()}"
    )


@import_app.command("orders")
def import_orders(file: Annotated[Path, typer.Argument(help="95598 工单导出文件（CSV 或 XLSX）")]) -> None:
    """导入 95598 工单（全部成功或全部不导入；按工单编号去重，重复导入不改变数据）。"""
    from gridcare.workorders.transfer import import_orders as run_import

    with unit_of_work() as session:
        result = run_import(session, principal=SYSTEM, settings=_settings(), path=file)
    made = "，".join(f"{CREATED_NAMES.get(k, k)} {v}" for k, v in result.created.items())
    typer.echo(
        f"导入完成：共 {result.rows} 行，新增工单 {result.inserted}，已存在 {result.existing}"
        + (f"；新建 {made}" if made else "")
    )


CREATED_NAMES = {
    "city": "市公司",
    "county": "县公司",
    "station": "供电所",
    "village": "村/社区",
    "transformer_area": "台区",
    "customer": "客户",
    "complaint_category": "投诉分类",
}


@app.command()
def report(
    start: Annotated[str, typer.Option("--from", help="起始日期（含），如 2026-10-01")],
    end: Annotated[str, typer.Option("--to", help="截止日期（含），如 2026-10-31")],
    unit: Annotated[str | None, typer.Option(help="单位编码或编号（默认唯一的市公司）")] = None,
    fmt: Annotated[str, typer.Option("--format", help="json、html、xlsx 或 pdf")] = "json",
    out: Annotated[Path | None, typer.Option(help="输出文件（json 默认输出到屏幕）")] = None,
) -> None:
    """投诉监测报表（月度通报）：数量与占比、分类、城乡、单位、时段、台区热点、环节时长与超时、满意度。"""
    from gridcare.analytics import render
    from gridcare.analytics.service import monitoring_report

    if fmt not in render.FORMATS:
        fail(f"不支持的格式 {fmt}：可选 {'、'.join(render.FORMATS)}")
    try:
        first, last = date.fromisoformat(start), date.fromisoformat(end)
    except ValueError:
        fail("日期格式应为 YYYY-MM-DD")
    with unit_of_work() as session:
        document = monitoring_report(
            session, principal=SYSTEM, settings=_settings(), start=first, end=last, unit=unit
        )
    if fmt == "json" and out is None:
        typer.echo(json.dumps(document, ensure_ascii=False, indent=2))
        return
    target = out or Path(f"投诉监测报表_{document['unit']['code']}_{start}_{end}.{fmt}")
    try:
        settings = _settings()
        render.write(
            document,
            fmt,
            target,
            pdf_slots=settings.pdf_concurrency,
            pdf_wait_seconds=settings.pdf_wait_seconds,
        )
    except render.RenderError as exc:
        fail(str(exc))
    typer.echo(f"报表已写入 {target}（数据刷新于 {document['refreshed_at']}）")


@export_app.command("customers")
def export_customers(
    out: Annotated[Path, typer.Option("--out", "-o", help="输出文件（.csv 或 .xlsx）")] = Path(
        "customers.csv"
    ),
) -> None:
    """导出全部客户（表头与导入一致，可直接再导入）。"""
    from gridcare.customers.transfer import export_customers as run_export

    with unit_of_work() as session:
        count = run_export(session, principal=SYSTEM, path=out)
    typer.echo(f"已导出 {count} 位客户到 {out}")


@app.command()
def worker(
    once: Annotated[bool, typer.Option("--once", help="每个任务运行一次后退出")] = False,
    job: Annotated[
        list[str] | None, typer.Option("--job", help="只运行指定任务（可重复），缺省为全部")
    ] = None,
) -> None:
    """后台任务：超时扫描、通知发送、报表快照刷新、登录记录清理等（见“管理 → 后台任务”）。
    一个任务失败只记录并稍后重试，不影响其他任务。`gridcare serve` 默认也在本进程中运行这些任务。"""
    from gridcare.jobs import JOBS, Runner

    unknown = sorted(set(job or []) - set(JOBS))
    if unknown:
        fail(f"没有任务 {'、'.join(unknown)}；可选：{'、'.join(JOBS)}")
    settings = _settings()
    engine = make_engine(settings)
    runner = Runner(settings, engine, make_session_factory(engine), only=job or None, echo=typer.echo)
    try:
        if once:
            results = runner.tick(force=True)
            if any(not r.ok for r in results):
                raise typer.Exit(1)
            return
        runner.run_forever()
    except KeyboardInterrupt:
        typer.echo("已停止")
    finally:
        engine.dispose()


def _echo_delivery(result: DeliveryResult) -> None:
    if not result.claimed:
        return
    typer.echo(
        f"通知发送：成功 {result.sent}，待重试 {result.retrying}，失败 {result.failed}（{result.seconds:.2f} 秒）"
    )
    for error, count in sorted(result.errors.items(), key=lambda kv: -kv[1])[:5]:
        typer.echo(f"  {count} 条：{error}")


@app.command()
def deliver(
    once: Annotated[bool, typer.Option("--once", help="发完当前到期的全部通知后退出")] = False,
    interval: Annotated[float, typer.Option(help="无通知时的轮询间隔秒数")] = 2.0,
) -> None:
    """发送通知发件箱中到期的通知（短信、微信、邮件、村联络员汇总、文件），失败的按退避重试。"""
    import time as _time

    from gridcare.notify.outbox import deliver_all

    settings = _settings()
    engine = make_engine(settings)
    factory = make_session_factory(engine)
    try:
        while True:
            result = deliver_all(factory, settings, budget_seconds=30.0)
            _echo_delivery(result)
            if result.claimed < settings.outbox_batch_size:  # nothing more is due now
                if once:
                    return
                _time.sleep(interval)
    except KeyboardInterrupt:
        typer.echo("已停止")
    finally:
        engine.dispose()


def _calendar() -> WorkCalendar:
    """The calendar in force: the database's when there is one, else the built-in years only."""
    from gridcare.calendar import WorkCalendar, builtin_years
    from gridcare.sla.calendar_store import current_calendar

    settings = _settings()
    url = settings.database_url
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return WorkCalendar(builtin_years())
    engine = make_engine(settings)
    try:
        with make_session_factory(engine)() as session:
            return current_calendar(session)
    except Exception:  # no migrated database here: the built-in years still answer
        return WorkCalendar(builtin_years())
    finally:
        engine.dispose()


def _parse_instant(text: str) -> datetime:
    from gridcare.calendar import BEIJING

    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        fail(f"时间“{text}”应为 ISO 8601，如 2025-09-30T16:00")
    return value.replace(tzinfo=BEIJING) if value.tzinfo is None else value


@calendar_app.command("add-workdays")
def calendar_add_workdays(
    start: Annotated[str, typer.Argument(help="起始时间（北京时间），如 2025-09-30T16:00")],
    days: Annotated[float, typer.Argument(help="工作日数")],
) -> None:
    """打印 N 个工作日后的时限（ISO 8601，北京时间）。"""
    from gridcare.calendar import BEIJING, CalendarYearMissing, CountingRule, add_working_days

    calendar = _calendar()
    instant = _parse_instant(start)
    try:
        result = add_working_days(calendar, instant, days, CountingRule(_settings().workday_counting))
    except CalendarYearMissing as exc:
        fail(str(exc))
    local = result.astimezone(BEIJING)
    typer.echo(
        local.strftime("%Y-%m-%dT%H:%M") if local.second == 0 and not local.microsecond else local.isoformat()
    )


@calendar_app.command("is-workday")
def calendar_is_workday(day: Annotated[str, typer.Argument(help="日期，如 2025-10-11")]) -> None:
    """打印 true 或 false。"""
    from gridcare.calendar import CalendarYearMissing

    calendar = _calendar()
    try:
        parsed = date.fromisoformat(day)
    except ValueError:
        fail(f"日期“{day}”应为 YYYY-MM-DD")
    try:
        typer.echo("true" if calendar.is_workday(parsed) else "false")
    except CalendarYearMissing as exc:
        fail(str(exc))


@calendar_app.command("load")
def calendar_load(file: Annotated[Path, typer.Argument(help="日历文件（CSV：date,type,name）")]) -> None:
    """载入（替换）文件中各年份的节假日与调休上班日。"""
    from gridcare.sla.calendar_store import load_calendar_file

    if not file.exists():
        fail(f"文件不存在：{file}")
    with unit_of_work() as session:
        result = load_calendar_file(
            session, principal=SYSTEM, text=file.read_text(encoding="utf-8-sig"), source=file.name
        )
    typer.echo(f"已载入 {', '.join(map(str, result.years))} 年日历，共 {result.days} 个例外日")


@calendar_app.command("set")
def calendar_set(
    day: Annotated[str, typer.Argument(help="日期 YYYY-MM-DD")],
    kind: Annotated[str, typer.Argument(help="workday（上班）或 holiday（休息）")],
    name: Annotated[str, typer.Option(help="说明")] = "",
) -> None:
    """更正某一天（覆盖该年数据）。"""
    from gridcare.sla.calendar_store import set_correction

    if kind not in ("workday", "holiday"):
        fail("类型应为 workday 或 holiday")
    try:
        parsed = date.fromisoformat(day)
    except ValueError:
        fail(f"日期“{day}”应为 YYYY-MM-DD")
    with unit_of_work() as session:
        set_correction(session, principal=SYSTEM, day=parsed, is_workday=kind == "workday", name=name)
    typer.echo(f"{parsed} 已更正为{'工作日' if kind == 'workday' else '休息日'}")


if __name__ == "__main__":
    app()
