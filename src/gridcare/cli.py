"""The `gridcare` command: database, demo data, server, users, import and export."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from gridcare.auth.principal import SYSTEM
from gridcare.config import get_settings
from gridcare.db import make_engine, make_session_factory, transaction
from gridcare.errors import DomainError
from gridcare.models.enums import Role

app = typer.Typer(help="GridCare 95598 供电服务平台命令行", no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="数据库迁移", no_args_is_help=True)
user_app = typer.Typer(help="用户管理", no_args_is_help=True)
import_app = typer.Typer(help="导入数据", no_args_is_help=True)
export_app = typer.Typer(help="导出数据", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(import_app, name="import")
app.add_typer(export_app, name="export")


def fail(message: str, details: list[dict[str, object]] | None = None) -> None:
    typer.echo(f"错误：{message}", err=True)
    for d in details or []:
        where = f"第 {d['row']} 行 " if "row" in d else ""
        typer.echo(f"  {where}{d.get('field', '')}：{d.get('reason', '')}", err=True)
    raise typer.Exit(1)


@contextmanager
def unit_of_work() -> Iterator[Session]:
    engine = make_engine(get_settings())
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

    migrate.upgrade(get_settings().database_url, revision)
    typer.echo("数据库已是最新版本")


@db_app.command("downgrade")
def db_downgrade(revision: str) -> None:
    """回退到指定版本（base 为清空）。"""
    from gridcare import migrate

    migrate.downgrade(get_settings().database_url, revision)


@db_app.command("current")
def db_current() -> None:
    """显示数据库当前版本。"""
    from gridcare import migrate

    migrate.current(get_settings().database_url)


@app.command()
def demo(
    customers: Annotated[int, typer.Option(min=100, help="客户数")] = 20_000,
    seed: Annotated[int, typer.Option(help="随机种子（相同种子生成相同数据）")] = 95598,
    if_empty: Annotated[bool, typer.Option("--if-empty", help="数据库非空时跳过而不报错")] = False,
) -> None:
    """生成演示数据：一个虚构市公司的县公司、供电所、村社区、电网、客户与各角色员工。"""
    from gridcare.demo.loader import database_is_empty, load_demo
    from gridcare.demo.province import DEMO_LOGINS, DEMO_PASSWORD

    engine = make_engine(get_settings())
    try:
        if if_empty and not database_is_empty(engine):
            typer.echo("数据库已有数据，跳过演示数据生成")
            return
        result = load_demo(engine, customers=customers, seed=seed, progress=typer.echo)
    except DomainError as exc:
        fail(exc.message)
        return
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
) -> None:
    """启动网页与 API 服务。"""
    import uvicorn

    uvicorn.run("gridcare.asgi:app", host=host, port=port, workers=workers, proxy_headers=True)


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
        return
    with unit_of_work() as session:
        user = create_user(session, principal=SYSTEM, data=data)
    typer.echo(f"已创建用户 {user.username}（id {user.id}，角色 {', '.join(user.roles)}）")


@import_app.command("customers")
def import_customers(file: Annotated[Path, typer.Argument(help="CSV 或 XLSX 文件")]) -> None:
    """导入客户（全部成功或全部不导入；按户号去重，重复导入不改变数据）。"""
    from gridcare.customers.transfer import import_customers as run_import

    with unit_of_work() as session:
        result = run_import(session, principal=SYSTEM, path=file)
    typer.echo(
        f"导入完成：共 {result.rows} 行，新增 {result.inserted}，更新 {result.updated}，未变 {result.unchanged}"
    )


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


if __name__ == "__main__":
    app()
