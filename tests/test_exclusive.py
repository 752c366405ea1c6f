"""Non-cumulation (不重复享受, 就高不重复): an `exclusive` group keeps one of its benefits — the highest,
the first granted in the order written, or one of the enterprise's choice — and the others are
superseded: not received, no amount, in Python, the standalone module, SQL, populations and
policy-diff."""

from __future__ import annotations

import datetime as dt
import json
import types
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from click.testing import CliRunner

import policy_dsl
from policy_dsl.check import check
from policy_dsl.cli import policy
from policy_dsl.diff.compare import diff_paths
from policy_dsl.errors import PolicyError
from policy_dsl.format import fmt
from policy_dsl.parse import parse

SOURCE = (
    "关于支持项目建设的若干措施\n\n"
    "一、项目奖励\n\n"
    "对新引进项目给予10万元奖励。对技术改造项目按投资额的10%给予奖励。"
    "对总部项目给予5万元至20万元奖励。"
    "同一项目同时符合多项奖励的，按就高原则享受，不重复享受。\n"
)
DAY = dt.date(2024, 1, 1)
CITE = "同一项目同时符合多项奖励的，按就高原则享受，不重复享受"


def policy_text(keep: str = "highest", members: str = "引进奖励, 技改奖励", extra: str = "") -> str:
    return (
        'policy "关于支持项目建设的若干措施" {\n    status final\n    source "source.txt"\n}\n'
        'agency 某局 "某局"\n'
        "fact 是新引进项目: bool\nfact 是技改项目: bool\nfact 是总部项目: bool\nfact 投资额: money CNY\n"
        'measure 一、 "项目奖励" {\n    agencies 某局\n'
        "    benefit 引进奖励 {\n        kind reward\n        when 是新引进项目\n        amount 10万元\n"
        '        cite "对新引进项目给予10万元奖励"\n    }\n'
        "    benefit 技改奖励 {\n        kind reward\n        when 是技改项目\n        rate 10% of 投资额\n"
        '        cite "对技术改造项目按投资额的10%给予奖励"\n    }\n'
        "    benefit 总部奖励 {\n        kind reward\n        when 是总部项目\n"
        "        amount 5万元 to 20万元\n"
        '        cite "对总部项目给予5万元至20万元奖励"\n    }\n'
        f"    exclusive 就高不重复 {{\n        benefits {members}\n        keep {keep}\n"
        f'        cite "{CITE}"\n    }}\n' + extra + "}\n"
    )


def write(directory: Path, text: str, name: str = "p.policy", source: str = SOURCE) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "source.txt").write_text(source, encoding="utf-8")
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def statuses(outcome: policy_dsl.Outcome) -> dict[str, tuple[str, Decimal | None]]:
    return {b.id: (b.status, b.amount.amount if b.amount else None) for b in outcome.benefits}


BOTH = {"是新引进项目": True, "是技改项目": True}


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        # 10% of 200万 = 20万 > 10万: the rate wins
        (
            {**BOTH, "投资额": "200万元"},
            {"引进奖励": ("superseded", None), "技改奖励": ("eligible", Decimal("200000.00"))},
        ),
        # 5万 < 10万: the fixed amount wins
        (
            {**BOTH, "投资额": "50万元"},
            {"引进奖励": ("eligible", Decimal(100000)), "技改奖励": ("superseded", None)},
        ),
        # a tie: the one written first is kept
        (
            {**BOTH, "投资额": "100万元"},
            {"引进奖励": ("eligible", Decimal(100000)), "技改奖励": ("superseded", None)},
        ),
        # an amount unknown: the highest cannot be told, neither is superseded
        (BOTH, {"引进奖励": ("eligible", Decimal(100000)), "技改奖励": ("eligible", None)}),
        # a member unknown: it may be the highest, neither is superseded
        (
            {"是新引进项目": True, "投资额": "500万元"},
            {"引进奖励": ("eligible", Decimal(100000)), "技改奖励": ("unknown", None)},
        ),
        # one eligible: nothing to cumulate
        (
            {"是新引进项目": True, "是技改项目": False},
            {"引进奖励": ("eligible", Decimal(100000)), "技改奖励": ("not_eligible", None)},
        ),
    ],
)
def test_keep_highest(tmp_path: Path, facts: dict[str, Any], expected: dict[str, Any]) -> None:
    loaded = policy_dsl.load(str(write(tmp_path, policy_text())))
    got = statuses(loaded.evaluate(facts, as_of=DAY))
    assert {k: got[k] for k in expected} == expected


def test_keep_highest_with_a_range_cannot_tell(tmp_path: Path) -> None:
    loaded = policy_dsl.load(str(write(tmp_path, policy_text(members="引进奖励, 总部奖励"))))
    got = statuses(loaded.evaluate({"是新引进项目": True, "是总部项目": True}, as_of=DAY))
    assert got["引进奖励"] == ("eligible", Decimal(100000)) and got["总部奖励"][0] == "eligible"


def test_keep_first_and_keep_one(tmp_path: Path) -> None:
    first = policy_dsl.load(
        str(write(tmp_path / "first", policy_text(keep="first", members="技改奖励, 引进奖励")))
    )
    got = statuses(first.evaluate({**BOTH, "投资额": "50万元"}, as_of=DAY))
    assert got["技改奖励"] == ("eligible", Decimal("50000.00")) and got["引进奖励"] == ("superseded", None)
    # the first unknown: the later one loses to whichever is granted first — not to be told
    got = statuses(first.evaluate({"是新引进项目": True}, as_of=DAY))
    assert got["引进奖励"] == ("eligible", Decimal(100000))
    one = policy_dsl.load(str(write(tmp_path / "one", policy_text(keep="one"))))
    outcome = one.evaluate({**BOTH, "投资额": "200万元"}, as_of=DAY)
    assert {s for s, _ in statuses(outcome).values()} >= {"eligible"}
    assert "superseded" not in {s for s, _ in statuses(outcome).values()}
    assert "not cumulated with 技改奖励: one of them, the enterprise's choice" in outcome.to_text()


def test_eval_text_and_json_say_what_was_kept(tmp_path: Path) -> None:
    loaded = policy_dsl.load(str(write(tmp_path, policy_text())))
    outcome = loaded.evaluate({**BOTH, "投资额": "200万元"}, as_of=DAY)
    text = outcome.to_text()
    assert "benefits: 1 eligible, 1 unknown, 0 not eligible, 1 superseded (not cumulated)" in text
    assert "↷ superseded    引进奖励" in text
    assert "superseded by 技改奖励: not cumulated with 技改奖励 (就高: the highest is kept)" in text
    assert "kept: not cumulated with 引进奖励 (就高: the highest is kept)" in text
    entry = next(b for b in outcome.to_json()["benefits"] if b["id"] == "引进奖励")
    assert (
        entry["status"] == "superseded" and entry["superseded_by"] == "技改奖励" and entry["amount"] is None
    )
    (group,) = entry["exclusive"]
    assert group["group"] == "就高不重复" and group["keep"] == "highest" and group["kept"] == "技改奖励"
    assert group["with"] == ["技改奖励"] and group["citations"] == [{"text": CITE, "note": None}]


def test_fmt_round_trips(tmp_path: Path) -> None:
    model = parse(policy_text(), "p.policy")
    text = fmt(model)
    assert "    exclusive 就高不重复 {\n        benefits 引进奖励, 技改奖励\n        keep highest\n" in text
    assert parse(text, "p.policy") == model


CYCLE = (
    "    exclusive 反序 {\n        benefits 技改奖励, 引进奖励\n        keep first\n"
    f'        cite "{CITE}"\n    }}\n'
)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (policy_text(members="引进奖励, 技改奖項"), "unknown benefit `技改奖項`"),
        (policy_text(members="引进奖励"), "exclusive group `就高不重复` needs at least two benefits"),
        (policy_text(members="引进奖励, 引进奖励"), "`引进奖励` is listed twice in this group"),
        (policy_text(keep="highst"), "unknown way to keep one benefit: `highst`"),
        (policy_text(keep="first", extra=CYCLE), "exclusive groups keep benefits in a cycle: "),
        (policy_text().replace("        keep highest\n", ""), "does not say which benefit is kept"),
    ],
)
def test_a_wrong_group_is_a_clear_error(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(PolicyError) as raised:
        check(parse(path.read_text(encoding="utf-8"), str(path)), str(path))
    messages = [d.message for d in raised.value.diagnostics if d.severity == "error"]
    assert any(message in m for m in messages), messages


ROWS: list[dict[str, Any]] = [
    {**BOTH, "投资额": Decimal(v)} for v in ("2000000", "500000", "1000000", "999999.99", "1000000.01")
] + [BOTH, {"是新引进项目": True, "投资额": Decimal(5000000)}, {"是技改项目": True, "投资额": Decimal(1)}, {}]


@pytest.mark.parametrize("keep", ["highest", "first", "one"])
def test_the_standalone_module_and_duckdb_agree_with_python(tmp_path: Path, keep: str) -> None:
    loaded = policy_dsl.load(str(write(tmp_path, policy_text(keep=keep))))
    module = types.ModuleType("rules_exclusive")
    exec(compile(loaded.module_source(), str(tmp_path / "rules.py"), "exec"), module.__dict__)
    expected = []
    for facts in ROWS:
        outcome = loaded.evaluate(facts, as_of=DAY)
        assert module.to_json(module.evaluate(facts, DAY)) == outcome.to_json()
        expected.append(statuses(outcome))
    table = pa.table(
        {
            "id": pa.array(range(len(ROWS)), pa.int64()),
            **{
                n: pa.array([r.get(n) for r in ROWS], pa.bool_())
                for n in ("是新引进项目", "是技改项目", "是总部项目")
            },
            "投资额": pa.array([r.get("投资额") for r in ROWS], pa.decimal128(38, 10)),
        }
    )
    con = duckdb.connect()
    con.register("facts", table)
    got = con.execute(loaded.sql("duckdb", as_of=DAY)).fetchall()
    columns = [c[0] for c in con.description]
    for row, want in zip(sorted(got, key=lambda r: r[0]), expected, strict=True):
        record = dict(zip(columns, row, strict=True))
        for benefit in ("引进奖励", "技改奖励"):
            status, amount = want[benefit]
            superseded = record.get(f"{benefit}:superseded")
            assert (superseded is True) == (status == "superseded"), (benefit, record, want)
            assert record[benefit] is {"eligible": True, "unknown": None}.get(status, False)
            assert record[f"{benefit}:amount"] == amount


def test_population_counts_the_superseded_apart_and_sums_only_what_is_received(tmp_path: Path) -> None:
    path = write(tmp_path, policy_text())
    population = tmp_path / "pop.csv"
    population.write_text(
        "id,是新引进项目,是技改项目,是总部项目,投资额\n"
        "a,true,true,,2000000\n"  # 技改 20万 kept; 引进 superseded
        "b,true,true,,500000\n"  # 引进 10万 kept; 技改 superseded
        "c,true,true,,\n"  # 技改's amount unknown: both eligible
        "d,true,,,\n",  # 技改 unknown: 引进 eligible
        encoding="utf-8",
    )
    args = ["eval", str(path), "--population", str(population), "--as-of", "2024-01-01"]
    result = CliRunner().invoke(policy, [*args, "--format", "json"])
    assert result.exit_code == 0, result.stderr
    entries = {e["benefit"]: e for e in json.loads(result.stdout)["benefits"]}
    assert (entries["引进奖励"]["eligible"], entries["引进奖励"]["superseded"]) == (3, 1)
    assert entries["引进奖励"]["not_eligible"] == 0
    assert entries["引进奖励"]["amount"]["total"] == "300000.00"
    assert (
        entries["技改奖励"]["eligible"],
        entries["技改奖励"]["superseded"],
        entries["技改奖励"]["unknown"],
    ) == (2, 1, 1)
    assert entries["技改奖励"]["amount"]["total"] == "200000.00"
    assert "总部奖励" in entries and "superseded" not in entries["总部奖励"]
    text = CliRunner().invoke(policy, args)
    assert "引进奖励: 3 eligible, 0 unknown, 0 not eligible, 1 superseded (not cumulated)" in text.stdout


def test_a_new_group_is_a_loss_with_a_verified_witness(tmp_path: Path) -> None:
    """A revision adds 不重复享受: where both were granted, the lower one is lost."""
    without = policy_text().split("    exclusive")[0] + "}\n"
    old = write(tmp_path / "old", without)
    new = write(tmp_path / "new", policy_text())
    result = diff_paths(str(old), str(new))
    (regions,) = [o for m in result.measures for o in m.outcomes if o.id == "引进奖励"]
    lost = [r for r in regions.regions if r.change == "lost"]
    assert lost
    loaded = policy_dsl.load(str(new))
    for region in lost:
        shown = dict(region.witness.facts)  # as the report shows them: true / false, 200万元
        facts = {k: {"true": True, "false": False}.get(v, v) for k, v in shown.items()}
        assert region.witness.new.status == "superseded"
        assert loaded.evaluate(facts, as_of=region.witness.as_of).benefit("引进奖励").status == "superseded"
