"""The `gridcare` command, run as a real process against the test database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.factories import World, unique, unique_digits


def gridcare(
    database_url: str, *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GRIDCARE_DATABASE_URL": database_url, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "gridcare.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        input=stdin,
        timeout=120,
        check=False,
    )


def test_db_upgrade_is_idempotent(database_url: str) -> None:
    r = gridcare(database_url, "db", "upgrade")
    assert r.returncode == 0, r.stderr
    assert "最新" in r.stdout


def test_user_create(database_url: str, world: World) -> None:
    username = unique("cli")
    r = gridcare(
        database_url,
        "user",
        "create",
        "--username",
        username,
        "--name",
        "吴一",
        "--unit",
        world.units["city"].code,
        "--role",
        "agent",
        "--role",
        "auditor",
        "--password",
        "cli-password-1",
    )
    assert r.returncode == 0, r.stderr
    assert "agent, auditor" in r.stdout
    bad = gridcare(
        database_url,
        "user",
        "create",
        "--username",
        unique("cli"),
        "--name",
        "x",
        "--unit",
        "NO-UNIT",
        "--role",
        "agent",
        "--password",
        "cli-password-1",
    )
    assert bad.returncode == 1
    assert "NO-UNIT" in bad.stderr


def test_import_reports_rows_and_exit_code(database_url: str, world: World, tmp_path: Path) -> None:
    area = world.areas["station_b1"].code
    good = unique_digits(12)
    path = tmp_path / "c.csv"
    path.write_text(
        f"户号,客户名称,用电地址,台区编号\n{good},郑一,乙一镇1号,{area}\n12x,郑二,乙一镇2号,{area}\n",
        encoding="utf-8",
    )
    r = gridcare(database_url, "import", "customers", str(path))
    assert r.returncode == 1
    assert "第 3 行 户号" in r.stderr
    path.write_text(f"户号,客户名称,用电地址,台区编号\n{good},郑一,乙一镇1号,{area}\n", encoding="utf-8")
    assert "新增 1" in gridcare(database_url, "import", "customers", str(path)).stdout
    assert "新增 0，更新 0，未变 1" in gridcare(database_url, "import", "customers", str(path)).stdout


def test_export(database_url: str, world: World, tmp_path: Path) -> None:
    out = tmp_path / f"{unique('e')}.csv"
    r = gridcare(database_url, "export", "customers", "--out", str(out))
    assert r.returncode == 0, r.stderr
    text = out.read_text(encoding="utf-8-sig")
    assert text.splitlines()[0].startswith("户号,客户名称,联系电话")
    assert world.customers["station_a1"].account_no in text


def test_calendar_commands_for_people_and_scripts(database_url: str, tmp_path: Path) -> None:
    r = gridcare(database_url, "calendar", "add-workdays", "2025-09-30T16:00", "5")
    assert (r.returncode, r.stdout.strip()) == (0, "2025-10-14T16:00")
    r = gridcare(database_url, "calendar", "is-workday", "2025-10-11")
    assert (r.returncode, r.stdout.strip()) == (0, "true")
    r = gridcare(database_url, "calendar", "is-workday", "2025-10-01")
    assert r.stdout.strip() == "false"
    r = gridcare(database_url, "calendar", "is-workday", "2032-05-04")
    assert r.returncode == 1
    assert "2032" in r.stderr
    r = gridcare(database_url, "calendar", "add-workdays", "not-a-time", "5")
    assert r.returncode == 1
    assert "ISO 8601" in r.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text("date,type,name\n2032-01-01,holiday,元旦\n2032-01-05,workday,周一\n", encoding="utf-8")
    r = gridcare(database_url, "calendar", "load", str(bad))
    assert r.returncode == 1
    assert "第 3 行" in r.stderr


def test_worker_once_scans_and_exits(database_url: str, tmp_path: Path) -> None:
    env = {
        "GRIDCARE_ANALYTICS_PATH": str(tmp_path / "snapshot.duckdb"),
        # Notices other tests queued go out through the file channel: into the test's folder.
        "GRIDCARE_NOTICE_FILE": str(tmp_path / "notices.jsonl"),
    }
    r = gridcare(database_url, "worker", "--once", env=env)
    assert r.returncode == 0, r.stderr
    assert "超时扫描" in r.stdout
    assert "报表快照" in r.stdout
    again = gridcare(database_url, "analytics-refresh", env=env)
    assert again.returncode == 0, again.stderr
    assert "报表快照刷新完成" in again.stdout
