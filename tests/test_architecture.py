"""The shape the code keeps (docs/architecture.md): one writer of events, no domain reaching into
another from inside a function, processes whose specs agree with the paths that replay them.

The layers themselves are import-linter's contracts (pyproject.toml), run by `make lint`."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from gridcare.engine.spec import PROCESSES
from gridcare.workorders.transfer import STEP_TIMES

SRC = Path(__file__).resolve().parents[1] / "src" / "gridcare"
EVENT_MODELS = ("WorkOrderEvent", "ItemEvent")
EVENT_TABLES = ("work_order_events", "item_events")
# Writing an event: building one, inserting into its table (ORM, Core or SQL), bulk-loading it.
WRITER_PATTERNS = (
    [re.compile(rf"\b{m}\s*\(") for m in EVENT_MODELS]
    + [re.compile(rf"insert\(\s*{m}\b") for m in EVENT_MODELS]
    + [re.compile(rf"\b{m}\.__table__") for m in EVENT_MODELS]
    + [re.compile(rf"INSERT\s+INTO\s+{t}\b", re.IGNORECASE) for t in EVENT_TABLES]
    + [re.compile(rf"insert_rows\([^)]*[\"']{t}[\"']", re.DOTALL) for t in EVENT_TABLES]
    + [re.compile(rf"COPY\s+{t}\b", re.IGNORECASE) for t in EVENT_TABLES]
)
# The one writer, and the definitions of the tables (models, migrations).
ALLOWED = {"engine/events.py", "models/workorder.py", "models/engine.py"}


def writers_in(text: str) -> list[str]:
    return [p.pattern for p in WRITER_PATTERNS if p.search(text)]


def test_every_event_is_written_by_the_engine() -> None:
    found = {}
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC).as_posix()
        if rel in ALLOWED or rel.startswith("migrations/"):
            continue
        hits = writers_in(path.read_text(encoding="utf-8"))
        if hits:
            found[rel] = hits
    assert found == {}, f"events written outside engine/events.py: {found}"


@pytest.mark.parametrize(
    "snippet",
    [
        "session.add(WorkOrderEvent(order_id=1, action='x'))",
        "session.execute(insert(ItemEvent).values(process='outage'))",
        "events = WorkOrderEvent.__table__",
        "conn.execute(text('INSERT INTO work_order_events (order_id) VALUES (1)'))",
        'insert_rows(conn, "item_events", COLUMNS, rows)',
    ],
)
def test_the_writer_check_catches_a_second_writer(snippet: str) -> None:
    assert writers_in(snippet)


def _domain(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def test_no_import_inside_a_function_crosses_domains() -> None:
    """Imports inside functions hid circles between domains; only the entry points (the CLI, loading
    commands lazily, and the migrations, frozen in time) may still import lazily."""
    crossing = []
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC)
        if rel.parts[0] in ("cli.py", "migrations"):
            continue
        own = rel.parts[0].removesuffix(".py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for inner in ast.walk(node):
                names = []
                if isinstance(inner, ast.ImportFrom) and inner.module:
                    names = [inner.module]
                elif isinstance(inner, ast.Import):
                    names = [a.name for a in inner.names]
                for name in names:
                    if name.startswith("gridcare.") and _domain(name) != own:
                        crossing.append(f"{rel}:{inner.lineno} imports {name}")
    assert crossing == []


def test_processes_are_consistent() -> None:
    for process in PROCESSES.values():
        for kind, action, source, target in process.transitions():
            assert source in process.steps, (process.name, kind, action)
            assert target in process.steps, (process.name, kind, action)
            assert not process.steps[source].closed or action in (
                "follow_main",
                "outage_restored",
                "outage_dismissed",
            ), f"{process.name}.{action} leaves the closed step {source}"
        for spec in process.actions.values():
            assert spec.label, spec.name
            assert spec.system or spec.roles, f"{process.name}.{spec.name} has no roles"


def test_the_importer_replays_the_moves_of_the_process() -> None:
    """Imported history goes through the steps the process defines (transfer.STEP_TIMES)."""
    process = PROCESSES["workorder"]
    step = "pending_dispatch"
    for _, action, target in STEP_TIMES:
        assert process.target(action, "complaint", step) == target, action
        step = target


def test_pages_read_through_the_domains() -> None:
    """Pages ask the domains' repositories and named queries; they don't build queries of their own
    (the refused-form store and the health check are the pages' own)."""
    query = re.compile(r"\bselect\(|session\.(execute|scalar|scalars|get)\(")
    own = {"flash.py", "pages.py"}
    found = [
        path.name
        for path in (SRC / "web").glob("*.py")
        if path.name not in own and query.search(path.read_text(encoding="utf-8"))
    ]
    assert found == []


def test_masking_is_decided_in_one_place() -> None:
    """Phones and ID numbers are masked by auth/masking.py's viewer rules only: no page, export or API
    masks by hand (a template's own '****' once masked differently from the API)."""
    by_hand = []
    for path in SRC.rglob("*"):
        if path.suffix not in (".py", ".html") or path.name == "masking.py":
            continue
        text = path.read_text(encoding="utf-8")
        if "mask_phone(" in text or "mask_id_number(" in text or "'****'" in text or '"****"' in text:
            by_hand.append(path.relative_to(SRC).as_posix())
    assert by_hand == []
