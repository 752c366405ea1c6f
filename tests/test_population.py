"""policy-diff --population: winners and losers counted in DuckDB, checked row by row against Python."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import policy_dsl
from policy_dsl.cli import policy_diff
from policy_dsl.diff.compare import diff_paths
from policy_dsl.diff.population import population_diff

SEED = Path(__file__).resolve().parent.parent / "policies" / "cq-foreign-trade-2022"
OLD, NEW = str(SEED / "draft.policy"), str(SEED / "revision-example.policy")
POPULATION = SEED / "enterprises" / "population.csv"
DAY = dt.date(2022, 7, 1)


@pytest.fixture(scope="module")
def result() -> Any:
    diff = population_diff(diff_paths(OLD, NEW), OLD, NEW, str(POPULATION), DAY, ids="all")
    assert diff.population is not None
    return diff.population


def test_the_premium_subsidy_winners_and_losers(result: Any) -> None:
    benefit = next(b for b in result.benefits if b.id == "小微企业信保保费补贴")
    assert benefit.ids["gained"] == ("E04", "E05")  # 500万–1000万美元, first insured: newly eligible
    assert benefit.ids["lost"] == ("E02", "E18")  # ≤ 500万美元 but not first insured
    assert benefit.ids["changed"] == ("E01", "E03", "E14")  # eligible in both: 100% → 80%
    assert benefit.ids["unknown"] == ("E15",)  # the revision asks a fact the file does not give
    assert (benefit.eligible_old, benefit.eligible_new) == (6, 5)


def _facts(checked: Any, row: dict[str, str]) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    for name, value in row.items():
        info = checked.facts.get(name)
        if info is None or value == "":
            continue
        if info.type.kind == "bool":
            facts[name] = value == "true"
        elif info.type.kind == "set":
            facts[name] = value.split(";")
        else:
            facts[name] = value
    return facts


def _classify(old: Any, new: Any) -> str | None:
    o = old.status if old is not None else "not_eligible"
    n = new.status if new is not None else "not_eligible"
    if o == n == "eligible":
        same = (old.amount, old.cap, old.rate) == (new.amount, new.cap, new.rate)
        return None if same else "changed"
    if "unknown" in (o, n) and o != n:
        return "unknown"
    if n == "eligible":
        return "gained"
    if o == "eligible":
        return "lost"
    return None


def test_every_count_agrees_with_python_row_by_row(result: Any) -> None:
    old, new = policy_dsl.load(OLD), policy_dsl.load(NEW)
    expected: dict[str, dict[str, list[str]]] = {}
    with POPULATION.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            ident = row.pop("id")
            before = {
                b.id: b for b in old.evaluate(_facts(old.checked, row), as_of=DAY, adopted=True).benefits
            }
            after = {
                b.id: b for b in new.evaluate(_facts(new.checked, row), as_of=DAY, adopted=True).benefits
            }
            for benefit in {*before, *after}:
                kind = _classify(before.get(benefit), after.get(benefit))
                if kind is not None:
                    expected.setdefault(benefit, {}).setdefault(kind, []).append(ident)
    got = {
        b.id: {k: list(v) for k, v in b.ids.items()} for b in result.benefits if b.ids and b.kind == "benefit"
    }
    assert got == expected


def test_json_report_has_the_population() -> None:
    args = [
        OLD,
        NEW,
        "--population",
        str(POPULATION),
        "--as-of",
        "2022-07-01",
        "--format",
        "json",
        "--ids",
        "all",
    ]
    run = CliRunner().invoke(policy_diff, args)
    assert run.exit_code == 1, run.stderr
    data = json.loads(run.stdout)
    population = data["population"]
    assert population["enterprises"] == 18
    subsidy = next(b for b in population["benefits"] if b["benefit"] == "小微企业信保保费补贴")
    assert subsidy["gained"] == {"count": 2, "ids": ["E04", "E05"]}


def test_parquet_population_and_row_numbers(tmp_path: Path) -> None:
    import duckdb

    parquet = tmp_path / "pop.parquet"
    source = str(POPULATION).replace("'", "''")
    target = str(parquet).replace("'", "''")
    duckdb.sql(f"COPY (SELECT * EXCLUDE (id) FROM read_csv_auto('{source}')) TO '{target}' (FORMAT PARQUET)")
    diff = population_diff(diff_paths(OLD, NEW), OLD, NEW, str(parquet), DAY, ids=5)
    assert diff.population is not None
    benefit = next(b for b in diff.population.benefits if b.id == "小微企业信保保费补贴")
    assert benefit.ids["gained"] == ("row 4", "row 5")  # no id column: rows are numbered from 1


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "pop.csv",
            "id,出口额,不存在的事实\nE1,100,1\n",
            "column `不存在的事实` is a fact of neither version",
        ),
        ("pop.csv", "id,出口额\nE1,480万美元\n", "read as plain values: 4800000 rather than 480万美元"),
        (
            "pop.jsonl",
            '{"id": "E1", "出口额": "480万美元"}\n',
            "read as plain values: 4800000 rather than 480万美元",
        ),
    ],
)
def test_bad_populations_are_clear_errors(tmp_path: Path, name: str, content: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    run = CliRunner().invoke(policy_diff, [OLD, NEW, "--population", str(path)])
    assert run.exit_code == 2
    assert message in run.stderr
    assert "Traceback" not in run.stderr


def test_plain_texts_cannot_take_a_population() -> None:
    run = CliRunner().invoke(
        policy_diff,
        [str(SEED / "draft.txt"), str(SEED / "revision-example.txt"), "--population", str(POPULATION)],
    )
    assert run.exit_code == 2
    assert "needs two .policy encodings" in run.stderr


def test_benefits_named_like_internal_columns(tmp_path: Path) -> None:
    """The queries' own columns (row numbers, ids) cannot collide with a benefit's name."""
    (tmp_path.parent / "enterprise.vocabulary").write_bytes(
        (SEED.parent / "enterprise.vocabulary").read_bytes()
    )
    for name in ("draft.txt", "chongqing.agencies"):
        (tmp_path / name).write_bytes((SEED / name).read_bytes())
    text = (SEED / "draft.policy").read_text(encoding="utf-8")
    text = text.replace("benefit 小微企业信保保费补贴 ", "benefit __row ")
    text = text.replace("benefit 差异化降低投保费率 ", "benefit __id ")
    renamed = tmp_path / "draft.policy"
    renamed.write_text(text, encoding="utf-8")
    before = population_diff(diff_paths(OLD, NEW), OLD, NEW, str(POPULATION), DAY, ids="all").population
    after = population_diff(
        diff_paths(str(renamed), NEW), str(renamed), NEW, str(POPULATION), DAY, ids="all"
    ).population
    assert before is not None and after is not None
    was = {b.id: b for b in before.benefits}
    now = {b.id: b for b in after.benefits}
    # the same enterprises, counted under the internal-looking names
    assert now["__row"].eligible_old == was["小微企业信保保费补贴"].eligible_old > 0
    assert now["__id"].eligible_old == was["差异化降低投保费率"].eligible_old > 0
    assert now["__row"].eligible_new == 0 and now["小微企业信保保费补贴"].eligible_old == 0


def test_a_population_column_named_like_a_result_is_an_error(tmp_path: Path) -> None:
    from policy_dsl.errors import PolicyLoadError
    from policy_dsl.table import evaluate_file

    path = tmp_path / "population.csv"
    path.write_text("id,海外仓建设支持\nE1,x\n", encoding="utf-8")
    with pytest.raises(PolicyLoadError, match="has the name of the result column `海外仓建设支持`"):
        evaluate_file(policy_dsl.load(OLD).checked, str(path), None, DAY, adopted=True)
