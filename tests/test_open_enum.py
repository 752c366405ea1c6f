"""Open lists (等): `open enum` lists examples, not every value. A fact may hold a value not listed;
a test on the list is then unknown, not false — in Python, the standalone module, SQL, the facts
schema, populations and policy-diff."""

from __future__ import annotations

import datetime as dt
import json
import types
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from click.testing import CliRunner

import policy_dsl
from policy_dsl.cli import policy
from policy_dsl.diff.compare import diff_paths
from policy_dsl.errors import FactsError
from policy_dsl.format import fmt
from policy_dsl.parse import parse

SOURCE = "开放列举测试\n\n一、国际注册\n\n对通过FDA、EMA、CE、PMDA或WHO等国际机构注册的产品，给予奖励。\n"
DAY = dt.date(2024, 1, 1)


def policy_text(open_: bool = True) -> str:
    return (
        'policy "开放列举测试" {\n    status final\n    source "source.txt"\n}\n'
        'agency 某局 "某局"\n'
        f"{'open ' if open_ else ''}enum 注册机构 {{ FDA, EMA, CE, PMDA, WHO }}\n"
        "fact 产品注册机构: set of 注册机构\nfact 首次注册机构: 注册机构\n"
        'measure 一、 "国际注册" {\n    agencies 某局\n'
        "    benefit 任一注册奖励 {\n        kind reward\n"
        "        when 产品注册机构 includes any {FDA, EMA, CE, PMDA, WHO}\n"
        '        cite "对通过FDA、EMA、CE、PMDA或WHO等国际机构注册的产品，给予奖励"\n    }\n'
        "    benefit 双重注册奖励 {\n        kind reward\n        when 产品注册机构 includes all {FDA, EMA}\n"
        '        cite "对通过FDA、EMA、CE、PMDA或WHO等国际机构注册的产品，给予奖励"\n    }\n'
        "    benefit 首次注册奖励 {\n        kind reward\n        when 首次注册机构 in {FDA, EMA}\n"
        '        cite "对通过FDA、EMA、CE、PMDA或WHO等国际机构注册的产品，给予奖励"\n    }\n'
        "    benefit 非美欧奖励 {\n        kind reward\n        when 首次注册机构 not in {FDA, EMA}\n"
        '        cite "对通过FDA、EMA、CE、PMDA或WHO等国际机构注册的产品，给予奖励"\n    }\n'
        "}\n"
    )


def write(directory: Path, text: str, name: str = "p.policy") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "source.txt").write_text(SOURCE, encoding="utf-8")
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


CASES: list[tuple[dict[str, Any], dict[str, str]]] = [
    # a value not listed: "等" may or may not cover it
    (
        {"产品注册机构": ["TGA"], "首次注册机构": "TGA"},
        {
            "任一注册奖励": "unknown",
            "双重注册奖励": "not_eligible",
            "首次注册奖励": "unknown",
            "非美欧奖励": "unknown",
        },
    ),
    # a listed option held: decided whatever else is held
    (
        {"产品注册机构": ["TGA", "FDA"], "首次注册机构": "FDA"},
        {
            "任一注册奖励": "eligible",
            "双重注册奖励": "not_eligible",
            "首次注册奖励": "eligible",
            "非美欧奖励": "not_eligible",
        },
    ),
    # listed values only: decided as for a closed enum
    (
        {"产品注册机构": ["CE"], "首次注册机构": "CE"},
        {
            "任一注册奖励": "eligible",
            "双重注册奖励": "not_eligible",
            "首次注册奖励": "not_eligible",
            "非美欧奖励": "eligible",
        },
    ),
    (
        {"产品注册机构": [], "首次注册机构": "WHO"},
        {
            "任一注册奖励": "not_eligible",
            "双重注册奖励": "not_eligible",
            "首次注册奖励": "not_eligible",
            "非美欧奖励": "eligible",
        },
    ),
    (
        {"产品注册机构": ["EMA", "FDA", "TGA"]},
        {
            "任一注册奖励": "eligible",
            "双重注册奖励": "eligible",
            "首次注册奖励": "unknown",
            "非美欧奖励": "unknown",
        },
    ),
]


@pytest.mark.parametrize(("facts", "expected"), CASES)
def test_a_value_not_listed_makes_the_test_unknown(
    tmp_path: Path, facts: dict[str, Any], expected: dict[str, str]
) -> None:
    loaded = policy_dsl.load(str(write(tmp_path, policy_text())))
    outcome = loaded.evaluate(facts, as_of=DAY)
    assert {b.id: b.status for b in outcome.benefits} == expected


def test_a_closed_enum_refuses_the_value(tmp_path: Path) -> None:
    loaded = policy_dsl.load(str(write(tmp_path, policy_text(open_=False))))
    with pytest.raises(FactsError) as raised:
        loaded.evaluate({"产品注册机构": ["TGA"]}, as_of=DAY)
    assert "`TGA` is not a value of 注册机构" in str(raised.value)


def test_an_empty_value_is_refused(tmp_path: Path) -> None:
    loaded = policy_dsl.load(str(write(tmp_path, policy_text())))
    with pytest.raises(FactsError) as raised:
        loaded.evaluate({"首次注册机构": ""}, as_of=DAY)
    assert "expected a value, got an empty string" in str(raised.value)


def test_eval_says_why_it_is_unknown(tmp_path: Path) -> None:
    loaded = policy_dsl.load(str(write(tmp_path, policy_text())))
    outcome = loaded.evaluate({"产品注册机构": ["TGA", "ANVISA"]}, as_of=DAY)
    benefit = outcome.benefit("任一注册奖励")
    assert benefit.status == "unknown" and benefit.missing_facts == ()
    assert benefit.unlisted == (("产品注册机构", ("ANVISA", "TGA")),)
    text = outcome.to_text()
    assert "not listed: 产品注册机构 = ANVISA, TGA (the text's list ends in 等" in text
    entry = next(b for b in outcome.to_json()["benefits"] if b["id"] == "任一注册奖励")
    assert entry["unlisted"] == [{"fact": "产品注册机构", "values": ["ANVISA", "TGA"]}]


def test_fmt_and_the_facts_schema(tmp_path: Path) -> None:
    text = policy_text()
    model = parse(text, "p.policy")
    assert "open enum 注册机构 { FDA, EMA, CE, PMDA, WHO }" in fmt(model)
    assert parse(fmt(model), "p.policy") == model
    path = write(tmp_path, text)
    result = CliRunner().invoke(policy, ["schema", str(path)])
    assert result.exit_code == 0, result.stderr
    schema = json.loads(result.stdout)
    first = schema["properties"]["首次注册机构"]
    assert {
        "type": "string",
        "minLength": 1,
        "examples": ["FDA", "EMA", "CE", "PMDA", "WHO"],
        "x-open": True,
    } in (first.get("anyOf", [first])) or first.get("x-open") is True


def test_the_standalone_module_and_duckdb_agree_with_python(tmp_path: Path) -> None:
    loaded = policy_dsl.load(str(write(tmp_path, policy_text())))
    module = types.ModuleType("rules_open")
    exec(compile(loaded.module_source(), str(tmp_path / "rules.py"), "exec"), module.__dict__)
    rows = [facts for facts, _ in CASES] + [{}, {"产品注册机构": ["TGA"]}]
    expected = []
    for facts in rows:
        outcome = loaded.evaluate(facts, as_of=DAY)
        assert module.to_json(module.evaluate(facts, DAY)) == outcome.to_json()
        expected.append({b.id: b.status for b in outcome.benefits})
    table = pa.table(
        {
            "id": pa.array(range(len(rows)), pa.int64()),
            "产品注册机构": pa.array([r.get("产品注册机构") for r in rows], pa.list_(pa.string())),
            "首次注册机构": pa.array([r.get("首次注册机构") for r in rows], pa.string()),
        }
    )
    con = duckdb.connect()
    con.register("facts", table)
    got = con.execute(loaded.sql("duckdb", as_of=DAY)).fetchall()
    columns = [c[0] for c in con.description]
    words = {True: "eligible", False: "not_eligible", None: "unknown"}
    for row, want in zip(sorted(got, key=lambda r: r[0]), expected, strict=True):
        record = dict(zip(columns, row, strict=True))
        assert {name: words[record[name]] for name in want} == want, (record, want)


def test_population_reads_unlisted_values(tmp_path: Path) -> None:
    path = write(tmp_path, policy_text())
    population = tmp_path / "pop.jsonl"
    population.write_text(
        "\n".join(
            json.dumps(row, ensure_ascii=False) for row in [{"id": i, **f} for i, (f, _) in enumerate(CASES)]
        ),
        encoding="utf-8",
    )
    args = ["eval", str(path), "--population", str(population), "--as-of", "2024-01-01", "--format", "json"]
    result = CliRunner().invoke(policy, args)
    assert result.exit_code == 0, result.stderr
    counts = {
        b["benefit"]: (b["eligible"], b["unknown"], b["not_eligible"])
        for b in json.loads(result.stdout)["benefits"]
    }
    for benefit in CASES[0][1]:
        statuses = [expected[benefit] for _, expected in CASES]
        assert counts[benefit] == (
            statuses.count("eligible"),
            statuses.count("unknown"),
            statuses.count("not_eligible"),
        ), benefit
    population.write_text(json.dumps({"id": 1, "首次注册机构": ""}, ensure_ascii=False), encoding="utf-8")
    refused = CliRunner().invoke(policy, args)
    assert refused.exit_code == 2
    assert "expected a value, got an empty string" in refused.stderr


def test_opening_a_list_is_a_change_with_a_witness(tmp_path: Path) -> None:
    """A revision that adds 等 to the list: an enterprise first registered elsewhere was eligible for
    the reward "not in {FDA, EMA}" and now may or may not be (unknown: no longer granted), and the
    region's witness holds a value the list does not name. (Regions compare what is granted: from
    not eligible to unknown is no region.)"""
    old = write(tmp_path / "old", policy_text(open_=False))
    new = write(tmp_path / "new", policy_text())
    result = diff_paths(str(old), str(new))
    (regions,) = [o for m in result.measures for o in m.outcomes if o.id == "非美欧奖励"]
    (region,) = [r for r in regions.regions if r.change != "unchanged"]
    assert region.change == "lost"
    assert region.condition == "首次注册机构 = （未列出）"
    assert dict(region.witness.facts)["首次注册机构"] == "（未列出）"
    assert region.witness.old.status == "eligible" and region.witness.new.status == "unknown"
    loaded = policy_dsl.load(str(new))  # the witness, evaluated on the new version: unknown
    assert (
        loaded.evaluate({"首次注册机构": "（未列出）"}, as_of=DAY).benefit("非美欧奖励").status == "unknown"
    )
