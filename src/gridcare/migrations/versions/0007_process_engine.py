"""process engine: transitions in code, events of every process, paused clocks, seeded defaults

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29

- workflow_transitions is dropped: the moves of every process are its specs in code
  (workorders/actions.py, outages/process.py), so a changed move reaches every database with the
  release that changes it. The downgrade puts back the table with the moves 0006 knew.
- item_events (append-only, like work_order_events) keeps the events of the other processes:
  outages, arrears cases, and the processes with several open steps (item_steps, with their clocks).
- item_steps carry a version (two concurrent changes of one step: the second is refused).
- work_orders: a step's clock may be paused for the customer (挂起): the time left is kept.
- The default catalogues and time limits are seeded here, once, from the rows below (frozen: this
  migration does not read today's code); a later change to them is a migration of its own that updates
  the rows (they used to be re-seeded add-only at every upgrade, so a changed row never reached an
  existing database).
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

import gridcare.models.types

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = gridcare.models.types.UTCDateTime(timezone=True)

# The moves as 0006 stored them (for the downgrade only).
TRANSITIONS_0006 = [
    ("*", "dispatch", "pending_dispatch", "pending_accept"),
    ("*", "accept", "pending_accept", "pending_contact"),
    ("*", "return", "pending_accept", "pending_dispatch"),
    ("*", "contact", "pending_contact", "in_progress"),
    ("*", "reply", "in_progress", "pending_review"),
    ("*", "review_pass", "pending_review", "pending_callback"),
    ("*", "review_back", "pending_review", "in_progress"),
    ("*", "callback", "pending_callback", "pending_archive"),
    ("*", "archive", "pending_archive", "archived"),
    ("consultation", "resolve", "pending_dispatch", "pending_archive"),
    ("fault_repair", "merge", "pending_dispatch", "merged"),
    ("fault_repair", "merge", "pending_accept", "merged"),
    ("fault_repair", "merge", "pending_contact", "merged"),
    ("fault_repair", "merge", "in_progress", "merged"),
    ("fault_repair", "follow_main", "merged", "pending_review"),
    ("fault_repair", "attach_outage", "pending_dispatch", "merged"),
    ("fault_repair", "outage_restored", "merged", "pending_callback"),
    ("fault_repair", "outage_dismissed", "merged", "pending_dispatch"),
    ("urging", "dispatch", "pending_dispatch", "pending_archive"),
]


def upgrade() -> None:
    op.create_table(
        "item_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("process", sa.String(length=32), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("at", UTC_TIME, nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("from_step", sa.String(length=32), nullable=True),
        sa.Column("to_step", sa.String(length=32), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.Column("step_entered_at", UTC_TIME, nullable=True),
        sa.Column("step_deadline", UTC_TIME, nullable=True),
        sa.Column("step_late", sa.Boolean(), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_item_events")),
    )
    op.create_index("ix_item_events_process_item_id_id", "item_events", ["process", "item_id", "id"])
    op.create_table(
        "item_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("process", sa.String(length=32), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("entered_at", UTC_TIME, nullable=False),
        sa.Column("deadline", UTC_TIME, nullable=True),
        sa.Column("working", sa.Boolean(), nullable=False),
        sa.Column("paused_at", UTC_TIME, nullable=True),
        sa.Column("pause_reason", sa.String(length=500), nullable=True),
        sa.Column("left_seconds", sa.Integer(), nullable=True),
        sa.Column("paused_seconds", sa.Integer(), nullable=False),
        sa.Column("left_at", UTC_TIME, nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("state IN ('open','paused','done')", name=op.f("ck_item_steps_state")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_item_steps")),
    )
    op.create_index("ix_item_steps_process_item_id", "item_steps", ["process", "item_id"])
    op.create_index("ix_item_steps_state_deadline", "item_steps", ["state", "deadline"])
    _append_only("item_events")

    # Plain ADD COLUMN (nullable, no default): no copy of the table on SQLite.
    op.add_column("work_orders", sa.Column("step_paused_at", UTC_TIME, nullable=True))
    op.add_column("work_orders", sa.Column("step_pause_reason", sa.String(length=200), nullable=True))
    op.add_column("work_orders", sa.Column("step_left_seconds", sa.Integer(), nullable=True))
    op.add_column("work_orders", sa.Column("step_warn_left_seconds", sa.Integer(), nullable=True))
    op.drop_table("workflow_transitions")
    _seed_defaults()


def _seed_defaults() -> None:
    """The default catalogues (where absent) and, in a database with no time-limit version yet, the
    default version and its rules."""
    bind = op.get_bind()
    items = sa.table(
        "catalog_items",
        sa.column("id", sa.Integer()),
        sa.column("kind", sa.String()),
        sa.column("code", sa.String()),
        sa.column("name", sa.String()),
        sa.column("parent_id", sa.Integer()),
        sa.column("level", sa.Integer()),
        sa.column("sort", sa.Integer()),
        sa.column("active", sa.Boolean()),
    )
    have = {(k, c): i for i, k, c in bind.execute(sa.select(items.c.id, items.c.kind, items.c.code))}
    for kind, code, name, parent, level, sort in CATALOG:  # parents come before their children
        if (kind, code) in have:
            continue
        bind.execute(
            items.insert().values(
                kind=kind,
                code=code,
                name=name,
                parent_id=have[(kind, parent)] if parent else None,
                level=level,
                sort=sort,
                active=True,
            )
        )
        have[(kind, code)] = bind.execute(
            sa.select(items.c.id).where(items.c.kind == kind, items.c.code == code)
        ).scalar_one()
    versions = sa.table(
        "sla_policy_versions",
        sa.column("id", sa.Integer()),
        sa.column("name", sa.String()),
        sa.column("effective_from", UTC_TIME),
        sa.column("note", sa.String()),
        sa.column("created_at", UTC_TIME),
    )
    if bind.execute(sa.select(versions.c.id).limit(1)).first() is not None:
        return
    bind.execute(
        versions.insert().values(
            name="默认时限（2022 年公开承诺）",
            effective_from=datetime(2000, 1, 1, tzinfo=UTC),
            note="docs/domain.md §5 默认值：投诉处理 5 个工作日（2022 年公开承诺）",
            created_at=datetime.now(UTC),
        )
    )
    version_id = bind.execute(sa.select(versions.c.id).limit(1)).scalar_one()
    columns = ("business_type", "category", "step", "area_class", "urgency", "limit_value", "unit", "anchor")
    rules = sa.table("sla_rules", *(sa.column(c) for c in ("version_id", *columns, "warn_ratio")))
    op.bulk_insert(
        rules,
        [
            {"version_id": version_id, **dict(zip(columns, rule, strict=True)), "warn_ratio": 0.8}
            for rule in SLA_RULES
        ],
    )


def downgrade() -> None:
    op.create_table(
        "workflow_transitions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("business_type", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("from_step", sa.String(length=32), nullable=False),
        sa.Column("to_step", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_transitions")),
        sa.UniqueConstraint(
            "business_type",
            "action",
            "from_step",
            name=op.f("uq_workflow_transitions_business_type_action_from_step"),
        ),
    )
    table = sa.table(
        "workflow_transitions",
        sa.column("business_type"),
        sa.column("action"),
        sa.column("from_step"),
        sa.column("to_step"),
    )
    op.bulk_insert(
        table,
        [{"business_type": t, "action": a, "from_step": f, "to_step": s} for t, a, f, s in TRANSITIONS_0006],
    )
    # A paused order goes back with its clock running (0006 knows no pause): what it had left, from now.
    orders = sa.table(
        "work_orders",
        sa.column("id", sa.Integer()),
        sa.column("step_deadline", UTC_TIME),
        sa.column("step_warn_at", UTC_TIME),
        sa.column("step_paused_at", UTC_TIME),
        sa.column("step_left_seconds", sa.Integer()),
        sa.column("step_warn_left_seconds", sa.Integer()),
    )
    bind = op.get_bind()
    now = datetime.now(UTC)
    paused = bind.execute(
        sa.select(orders.c.id, orders.c.step_left_seconds, orders.c.step_warn_left_seconds).where(
            orders.c.step_paused_at.is_not(None)
        )
    ).all()
    for order_id, left, warn_left in paused:
        bind.execute(
            orders.update()
            .where(orders.c.id == order_id)
            .values(
                step_deadline=now + timedelta(seconds=left) if left is not None else None,
                step_warn_at=now + timedelta(seconds=warn_left) if warn_left is not None else None,
            )
        )
    for column in ("step_warn_left_seconds", "step_left_seconds", "step_pause_reason", "step_paused_at"):
        op.execute(f"ALTER TABLE work_orders DROP COLUMN {column}")  # plain: no copy on SQLite
    _drop_append_only("item_events")
    op.drop_index("ix_item_steps_state_deadline", table_name="item_steps")
    op.drop_index("ix_item_steps_process_item_id", table_name="item_steps")
    op.drop_table("item_steps")
    op.drop_index("ix_item_events_process_item_id_id", table_name="item_events")
    op.drop_table("item_events")


def _append_only(table: str) -> None:
    message = f"{table} is append-only"
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
            )
    else:
        op.execute(
            f"CREATE FUNCTION {table}_refuse() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{message}'; END $$"
        )
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {table}_refuse()"
        )


def _drop_append_only(table: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
    else:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS {table}_refuse()")


# The default catalogues as 0007 seeds them: (kind, code, name, parent code, level, sort).
CATALOG = [
    ("business_type", "fault_repair", "故障报修", None, 1, 0),
    ("business_type", "complaint", "投诉", None, 1, 1),
    ("business_type", "report", "举报", None, 1, 2),
    ("business_type", "opinion", "意见/建议", None, 1, 3),
    ("business_type", "service_request", "业务申请", None, 1, 4),
    ("business_type", "consultation", "查询咨询", None, 1, 5),
    ("business_type", "praise", "表扬", None, 1, 6),
    ("business_type", "urging", "催办", None, 1, 7),
    ("channel", "phone_95598", "95598电话", None, 1, 0),
    ("channel", "app", "网上国网", None, 1, 1),
    ("channel", "wechat", "微信", None, 1, 2),
    ("channel", "sms", "短信", None, 1, 3),
    ("channel", "web", "网站", None, 1, 4),
    ("channel", "hall", "营业厅", None, 1, 5),
    ("channel", "gov_12345", "12345政务热线", None, 1, 6),
    ("channel", "gov_12398", "12398能源监管热线", None, 1, 7),
    ("channel", "village", "村委会", None, 1, 8),
    ("fault_kind", "hv", "高压故障", None, 1, 0),
    ("fault_kind", "lv", "低压故障", None, 1, 1),
    ("fault_kind", "power_quality", "电能质量故障", None, 1, 2),
    ("fault_kind", "non_power", "非电力故障", None, 1, 3),
    ("fault_kind", "metering", "计量故障", None, 1, 4),
    ("fault_kind", "charging", "充电设施故障", None, 1, 5),
    ("urgency", "urgent", "紧急", None, 1, 0),
    ("urgency", "normal", "一般", None, 1, 1),
    ("complaint_level", "special", "特殊", None, 1, 0),
    ("complaint_level", "major", "重大", None, 1, 1),
    ("complaint_level", "important", "重要", None, 1, 2),
    ("complaint_level", "general", "一般", None, 1, 3),
    ("return_reason", "wrong_unit", "非本单位管辖", None, 1, 0),
    ("return_reason", "wrong_type", "业务类型错误", None, 1, 1),
    ("return_reason", "missing_contact", "客户联系方式缺失", None, 1, 2),
    ("return_reason", "outage_not_checked", "已发布停电信息未核实", None, 1, 3),
    ("satisfaction", "very_satisfied", "非常满意", None, 1, 0),
    ("satisfaction", "satisfied", "满意", None, 1, 1),
    ("satisfaction", "neutral", "一般", None, 1, 2),
    ("satisfaction", "dissatisfied", "不满意", None, 1, 3),
    ("satisfaction", "very_dissatisfied", "非常不满意", None, 1, 4),
    ("satisfaction", "not_rated", "不评价", None, 1, 5),
    ("service_request_kind", "arrears_reconnect", "欠费复电登记", None, 1, 0),
    ("service_request_kind", "appliance_damage", "电器损坏", None, 1, 1),
    ("service_request_kind", "meter_abnormal", "电能表异常", None, 1, 2),
    ("service_request_kind", "meter_data_abnormal", "电表数据异常", None, 1, 3),
    ("service_request_kind", "other_request", "其他业务申请", None, 1, 4),
    ("step", "pending_dispatch", "待派单", None, 1, 0),
    ("step", "pending_accept", "待接单", None, 1, 1),
    ("step", "pending_contact", "待联系客户", None, 1, 2),
    ("step", "in_progress", "处理中", None, 1, 3),
    ("step", "pending_review", "待审核", None, 1, 4),
    ("step", "pending_callback", "待回访", None, 1, 5),
    ("step", "pending_archive", "待归档", None, 1, 6),
    ("step", "archived", "已归档", None, 1, 7),
    ("step", "merged", "已合并", None, 1, 8),
    ("complaint_category", "TS01", "服务投诉", None, 1, 1),
    ("complaint_category", "TS0101", "服务行为", "TS01", 2, 1),
    ("complaint_category", "TS010101", "营业厅人员服务态度", "TS0101", 3, 1),
    ("complaint_category", "TS010102", "抄催人员服务态度", "TS0101", 3, 2),
    ("complaint_category", "TS010103", "施工人员服务态度", "TS0101", 3, 3),
    ("complaint_category", "TS010104", "其他人员服务态度", "TS0101", 3, 4),
    ("complaint_category", "TS010105", "营业厅人员服务规范", "TS0101", 3, 5),
    ("complaint_category", "TS010106", "抄催人员服务规范", "TS0101", 3, 6),
    ("complaint_category", "TS010107", "施工人员服务规范", "TS0101", 3, 7),
    ("complaint_category", "TS010108", "其他人员服务规范", "TS0101", 3, 8),
    ("complaint_category", "TS0102", "服务渠道", "TS01", 2, 2),
    ("complaint_category", "TS010201", "营业厅服务", "TS0102", 3, 1),
    ("complaint_category", "TS010202", "网站服务", "TS0102", 3, 2),
    ("complaint_category", "TS02", "营业投诉", None, 1, 2),
    ("complaint_category", "TS0201", "业扩报装", "TS02", 2, 1),
    ("complaint_category", "TS020101", "业扩报装超时限", "TS0201", 3, 1),
    ("complaint_category", "TS020102", "环节处理不当", "TS0201", 3, 2),
    ("complaint_category", "TS0202", "抄表催费", "TS02", 2, 2),
    ("complaint_category", "TS020201", "抄表", "TS0202", 3, 1),
    ("complaint_category", "TS020202", "催缴费", "TS0202", 3, 2),
    ("complaint_category", "TS020203", "欠费停复电", "TS0202", 3, 3),
    ("complaint_category", "TS0203", "电价电费", "TS02", 2, 3),
    ("complaint_category", "TS020301", "电价", "TS0203", 3, 1),
    ("complaint_category", "TS020302", "电费", "TS0203", 3, 2),
    ("complaint_category", "TS0204", "电能计量", "TS02", 2, 4),
    ("complaint_category", "TS020401", "计量装置", "TS0204", 3, 1),
    ("complaint_category", "TS020402", "验表", "TS0204", 3, 2),
    ("complaint_category", "TS0205", "业务收费", "TS02", 2, 5),
    ("complaint_category", "TS020501", "收费标准", "TS0205", 3, 1),
    ("complaint_category", "TS03", "停送电投诉", None, 1, 3),
    ("complaint_category", "TS0301", "停电问题", "TS03", 2, 1),
    ("complaint_category", "TS030101", "无故停电", "TS0301", 3, 1),
    ("complaint_category", "TS030102", "未按停电计划停送电", "TS0301", 3, 2),
    ("complaint_category", "TS0302", "停送电信息公告", "TS03", 2, 2),
    ("complaint_category", "TS030201", "停送电信息问题", "TS0302", 3, 1),
    ("complaint_category", "TS0303", "抢修", "TS03", 2, 3),
    ("complaint_category", "TS030301", "抢修超时限", "TS0303", 3, 1),
    ("complaint_category", "TS030302", "抢修质量", "TS0303", 3, 2),
    ("complaint_category", "TS030303", "抢修人员服务态度", "TS0303", 3, 3),
    ("complaint_category", "TS030304", "抢修人员服务规范", "TS0303", 3, 4),
    ("complaint_category", "TS04", "供电质量投诉", None, 1, 4),
    ("complaint_category", "TS0401", "供电可靠性", "TS04", 2, 1),
    ("complaint_category", "TS040101", "频繁停电", "TS0401", 3, 1),
    ("complaint_category", "TS0402", "电压质量", "TS04", 2, 2),
    ("complaint_category", "TS040201", "低电压", "TS0402", 3, 1),
    ("complaint_category", "TS040202", "过电压", "TS0402", 3, 2),
    ("complaint_category", "TS0403", "供电频率", "TS04", 2, 3),
    ("complaint_category", "TS040301", "供电频率长时间异常", "TS0403", 3, 1),
    ("complaint_category", "TS05", "电网建设投诉", None, 1, 5),
    ("complaint_category", "TS0501", "电网建设", "TS05", 2, 1),
    ("complaint_category", "TS050101", "施工不规范", "TS0501", 3, 1),
    ("complaint_category", "TS050102", "农网改造违规收费", "TS0501", 3, 2),
    ("complaint_category", "TS050103", "供电设施改造不彻底", "TS0501", 3, 3),
]
# The default time limits: (type, category, step, area class, urgency, value, unit, anchor).
SLA_RULES = [
    ("fault_repair", None, "pending_dispatch", None, None, 2, "minutes", "step"),
    ("fault_repair", None, "pending_accept", None, None, 3, "minutes", "step"),
    ("fault_repair", None, "pending_contact", "urban", None, 45, "minutes", "step"),
    ("fault_repair", None, "pending_contact", "rural", None, 90, "minutes", "step"),
    ("fault_repair", None, "pending_contact", "remote", None, 120, "minutes", "step"),
    ("fault_repair", None, "in_progress", "urban", None, 3, "hours", "step"),
    ("fault_repair", None, "in_progress", "rural", None, 4, "hours", "step"),
    ("fault_repair", None, "in_progress", "remote", None, 4, "hours", "step"),
    ("fault_repair", None, "pending_callback", None, None, 24, "hours", "step"),
    ("complaint", None, "pending_dispatch", None, None, 20, "minutes", "step"),
    ("complaint", None, "pending_accept", None, None, 2, "hours", "step"),
    ("complaint", None, "pending_contact", None, None, 24, "hours", "step"),
    ("complaint", None, "in_progress", None, None, 5, "working_days", "order"),
    ("complaint", None, "pending_callback", None, None, 1, "working_days", "step"),
    ("report", None, "in_progress", None, None, 9, "working_days", "order"),
    ("opinion", None, "in_progress", None, None, 9, "working_days", "order"),
    ("service_request", "arrears_reconnect", "in_progress", None, None, 24, "hours", "order"),
    ("service_request", "appliance_damage", "pending_contact", None, None, 24, "hours", "order"),
    ("service_request", "meter_abnormal", "in_progress", None, None, 4, "working_days", "order"),
    ("service_request", "meter_data_abnormal", "in_progress", None, None, 5, "working_days", "order"),
    ("service_request", None, "in_progress", None, None, 5, "working_days", "order"),
    ("consultation", None, "in_progress", None, None, 2, "working_days", "order"),
    ("praise", None, "in_progress", None, None, 4, "working_days", "order"),
    ("urging", None, "pending_dispatch", None, None, 10, "minutes", "step"),
    ("*", None, "pending_archive", None, None, 24, "hours", "step"),
]
