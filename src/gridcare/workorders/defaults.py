"""Default catalogues and time limits (docs/domain.md §3–5), seeded into a new database by migration
0007 (which keeps its own frozen copy of them). They are data: an admin edits catalogues and publishes new
time-limit versions. A change to a default that must reach existing databases is a migration of its own
(docs/architecture.md, "Changing a default"); the code reads these constants for names and labels.

The steps' moves are not here: they are the actions' specs (actions.py).
"""

from __future__ import annotations

BUSINESS_TYPES = [
    ("fault_repair", "故障报修"),
    ("complaint", "投诉"),
    ("report", "举报"),
    ("opinion", "意见/建议"),
    ("service_request", "业务申请"),
    ("consultation", "查询咨询"),
    ("praise", "表扬"),
    ("urging", "催办"),
]
CHANNELS = [
    ("phone_95598", "95598电话"),
    ("app", "网上国网"),
    ("wechat", "微信"),
    ("sms", "短信"),
    ("web", "网站"),
    ("hall", "营业厅"),
    ("gov_12345", "12345政务热线"),
    ("gov_12398", "12398能源监管热线"),
    ("village", "村委会"),
]
FAULT_KINDS = [
    ("hv", "高压故障"),
    ("lv", "低压故障"),
    ("power_quality", "电能质量故障"),
    ("non_power", "非电力故障"),
    ("metering", "计量故障"),
    ("charging", "充电设施故障"),
]
URGENCY = [("urgent", "紧急"), ("normal", "一般")]
COMPLAINT_LEVELS = [("special", "特殊"), ("major", "重大"), ("important", "重要"), ("general", "一般")]
RETURN_REASONS = [
    ("wrong_unit", "非本单位管辖"),
    ("wrong_type", "业务类型错误"),
    ("missing_contact", "客户联系方式缺失"),
    ("outage_not_checked", "已发布停电信息未核实"),
]
SATISFACTION = [
    ("very_satisfied", "非常满意"),
    ("satisfied", "满意"),
    ("neutral", "一般"),
    ("dissatisfied", "不满意"),
    ("very_dissatisfied", "非常不满意"),
    ("not_rated", "不评价"),
]
SERVICE_REQUEST_KINDS = [
    ("arrears_reconnect", "欠费复电登记"),
    ("appliance_damage", "电器损坏"),
    ("meter_abnormal", "电能表异常"),
    ("meter_data_abnormal", "电表数据异常"),
    ("other_request", "其他业务申请"),
]
# The three-level complaint tree (first level: exactly five).
_STAFF = ["营业厅人员", "抄催人员", "施工人员", "其他人员"]
COMPLAINT_TREE: list[tuple[str, list[tuple[str, list[str]]]]] = [
    (
        "服务投诉",
        [
            ("服务行为", [f"{s}服务态度" for s in _STAFF] + [f"{s}服务规范" for s in _STAFF]),
            ("服务渠道", ["营业厅服务", "网站服务"]),
        ],
    ),
    (
        "营业投诉",
        [
            ("业扩报装", ["业扩报装超时限", "环节处理不当"]),
            ("抄表催费", ["抄表", "催缴费", "欠费停复电"]),
            ("电价电费", ["电价", "电费"]),
            ("电能计量", ["计量装置", "验表"]),
            ("业务收费", ["收费标准"]),
        ],
    ),
    (
        "停送电投诉",
        [
            ("停电问题", ["无故停电", "未按停电计划停送电"]),
            ("停送电信息公告", ["停送电信息问题"]),
            ("抢修", ["抢修超时限", "抢修质量", "抢修人员服务态度", "抢修人员服务规范"]),
        ],
    ),
    (
        "供电质量投诉",
        [
            ("供电可靠性", ["频繁停电"]),
            ("电压质量", ["低电压", "过电压"]),
            ("供电频率", ["供电频率长时间异常"]),
        ],
    ),
    ("电网建设投诉", [("电网建设", ["施工不规范", "农网改造违规收费", "供电设施改造不彻底"])]),
]

STEPS = {
    "pending_dispatch": "待派单",
    "pending_accept": "待接单",
    "pending_contact": "待联系客户",
    "in_progress": "处理中",
    "pending_review": "待审核",
    "pending_callback": "待回访",
    "pending_archive": "待归档",
    "archived": "已归档",
    "merged": "已合并",
}
CLOSED_STEPS = ("archived", "merged")
OPEN_STEPS = tuple(s for s in STEPS if s not in CLOSED_STEPS)

# (type, category, step, area class, urgency, value, unit, anchor) — docs/domain.md §5.
SLA_RULES: list[tuple[str, str | None, str, str | None, str | None, float, str, str]] = [
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
DEFAULT_POLICY_NAME = "默认时限（2022 年公开承诺）"
