"""Synthetic populations: deterministic for a seed, typed like the SQL backend, thick at the thresholds."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]
import pyarrow.csv as pv  # type: ignore[import-untyped]
import pyarrow.ipc  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]
import pytest

import policy_dsl
from policy_dsl.check import CheckedPolicy
from policy_dsl.errors import PolicyLoadError
from policy_dsl.facts import validate_facts
from policy_dsl.sql import status_word
from policy_dsl.synth import boundary_points, synthesize, thresholds
from policy_dsl.table import evaluate_file
from policy_dsl.types import Type

ROOT = Path(__file__).resolve().parent.parent
DRAFT = ROOT / "policies" / "cq-foreign-trade-2022" / "draft.policy"
CONDITIONS = ROOT / "tests" / "examples" / "good" / "conditions.policy"
DAY = dt.date(2022, 7, 1)
N = 20_000


@pytest.fixture(scope="module")
def draft() -> CheckedPolicy:
    return policy_dsl.load(DRAFT).checked


@pytest.fixture(scope="module")
def conditions() -> CheckedPolicy:
    return policy_dsl.load(CONDITIONS).checked


@pytest.fixture(scope="module")
def draft_population(draft: CheckedPolicy, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("synth") / "draft.parquet"
    assert synthesize(draft, N, str(path), seed=7) == N
    return path


def query(sql: str) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = duckdb.connect().execute(sql).fetchall()
    return rows


def test_the_same_seed_gives_the_same_population(draft: CheckedPolicy, tmp_path: Path) -> None:
    a, b, c = (tmp_path / f"{name}.parquet" for name in "abc")
    synthesize(draft, 3000, str(a), seed=1)
    synthesize(draft, 3000, str(b), seed=1)
    synthesize(draft, 3000, str(c), seed=2)
    assert pq.read_table(a).equals(pq.read_table(b))
    assert not pq.read_table(a).equals(pq.read_table(c))


def test_a_smaller_population_is_a_prefix_of_a_larger_one(draft: CheckedPolicy, tmp_path: Path) -> None:
    small, large = tmp_path / "small.parquet", tmp_path / "large.parquet"
    synthesize(draft, 1000, str(small), seed=5)
    synthesize(draft, 4000, str(large), seed=5)
    assert pq.read_table(small).equals(pq.read_table(large).slice(0, 1000))


def test_row_count_and_ids(draft_population: Path) -> None:
    [(rows, distinct, low, high)] = query(
        f"SELECT count(*), count(DISTINCT id), min(id), max(id) FROM read_parquet('{draft_population}')"
    )
    assert (rows, distinct, low, high) == (N, N, 1, N)


def test_an_empty_population(draft: CheckedPolicy, tmp_path: Path) -> None:
    path = tmp_path / "empty.parquet"
    assert synthesize(draft, 0, str(path)) == 0
    assert pq.read_table(path).num_rows == 0


def test_columns_and_types(draft: CheckedPolicy, conditions: CheckedPolicy, tmp_path: Path) -> None:
    expected = {
        "bool": "BOOLEAN",
        "money": "DECIMAL(38,4)",
        "decimal": "DECIMAL(38,4)",
        "percent": "DECIMAL(38,4)",
        "integer": "BIGINT",
        "duration": "BIGINT",
        "date": "DATE",
        "enum": "VARCHAR",
        "set": "VARCHAR[]",
    }
    for checked in (draft, conditions):
        path = tmp_path / "typed.parquet"
        synthesize(checked, 500, str(path))
        described = query(f"DESCRIBE SELECT * FROM read_parquet('{path}')")
        assert [row[0] for row in described] == ["id", *checked.facts]
        types = {row[0]: row[1] for row in described}
        assert types["id"] == "BIGINT"
        for name, info in checked.facts.items():
            if info.type.kind == "list":  # a list of items: a list of structs, a field per item fact
                fields = checked.items[info.type.param or ""].facts
                assert types[name].startswith("STRUCT(") and types[name].endswith(")[]"), name
                assert all(f'"{field}"' in types[name] or f"{field} " in types[name] for field in fields)
                continue
            assert types[name] == expected[info.type.kind], name


def test_thresholds_are_the_constants_compared_with(draft: CheckedPolicy, conditions: CheckedPolicy) -> None:
    assert thresholds(draft) == {"出口额": [Decimal(5_000_000), Decimal(50_000_000)]}
    found = thresholds(conditions)
    assert found["出口额"] == [Decimal(5_000_000), Decimal(50_000_000)]
    assert found["员工人数"] == [20, 50]
    assert found["研发投入占比"] == [Decimal("0.05")]
    assert found["成立日期"] == [dt.date(2022, 6, 20)]
    assert found["出口额同比增长率"] == [Decimal(10), Decimal(100)]  # between 10% and 100%
    assert found["出口退税平均办理时间"] == [3]
    assert found["连续经营时间"] == [1]


def test_boundary_points_are_one_minor_unit_either_side() -> None:
    assert boundary_points(Type("money", "USD"), [Decimal(500)]) == [
        Decimal("499.99"),
        Decimal(500),
        Decimal("500.01"),
    ]
    assert boundary_points(Type("money", "JPY"), [Decimal(0)]) == [Decimal(0), Decimal(1)]
    assert boundary_points(Type("integer"), [0]) == [-1, 0, 1]
    assert boundary_points(Type("date"), [dt.date(2022, 6, 20)]) == [
        dt.date(2022, 6, 19),
        dt.date(2022, 6, 20),
        dt.date(2022, 6, 21),
    ]


def test_values_at_and_next_to_every_threshold(draft_population: Path) -> None:
    counts = dict(
        query(
            f"SELECT CAST(出口额 AS VARCHAR), count(*) FROM read_parquet('{draft_population}') "
            "WHERE 出口额 IN (4999999.99, 5000000, 5000000.01, 49999999.99, 50000000, 50000000.01) GROUP BY 1"
        )
    )
    points = ["4999999.99", "5000000.00", "5000000.01", "49999999.99", "50000000.00", "50000000.01"]
    assert sorted(counts) == sorted(f"{p}00" for p in points)
    # 30% of the known values sit on one of six points: about 5% each
    assert all(N * 0.03 < count < N * 0.07 for count in counts.values()), counts


def test_the_threshold_values_are_exact_in_the_file(draft_population: Path) -> None:
    column = pq.read_table(draft_population, columns=["出口额"]).column(0).to_pylist()
    assert Decimal("5000000") in column
    assert Decimal("5000000.01") in column
    assert Decimal("4999999.99") in column


def test_spreads_nulls_and_domains(draft: CheckedPolicy, draft_population: Path) -> None:
    table = pq.read_table(draft_population)
    for name, info in draft.facts.items():
        values = table.column(name).to_pylist()
        nulls = sum(v is None for v in values) / N
        assert 0.035 < nulls < 0.065, (name, nulls)
        known = [v for v in values if v is not None]
        kind = info.type.kind
        implied_by = [f for f, i in draft.facts.items() if name in {n.text for n in i.decl.implies}]
        if kind == "bool" and implied_by:
            # true wherever an implying fact counts (出口额 > 0 makes 是外贸企业 true), else a coin
            for index, value in enumerate(values):
                if any(_counts(table.column(f)[index].as_py()) for f in implied_by):
                    assert value is not False, (name, index)
            assert any(v is False for v in values), name  # still false where nothing implies it
        elif kind == "bool":
            assert 0.45 < sum(known) / len(known) < 0.55, name
        elif kind == "enum":
            enum = draft.enums[info.type.param or ""]
            options = [v.name for v in enum.values] + (["其他"] if enum.open else [])
            assert set(known) == set(options)
            assert min(known.count(o) for o in options) > len(known) / len(options) * 0.85
        elif kind == "set":
            enum = draft.enums[info.type.param or ""]
            # an open enum (等): some enterprises also hold a value the text does not list
            members = {v.name for v in enum.values} | ({"其他"} if enum.open else set())
            assert all(set(v) <= members and len(set(v)) == len(v) for v in known)
            assert any(v == [] for v in known) and any(set(v) == members for v in known)
        elif kind == "money":
            assert all(v >= 0 for v in known)
            assert len(set(known)) > N / 2  # a spread, not a few values


def test_dates_and_durations_are_spread(conditions: CheckedPolicy, tmp_path: Path) -> None:
    path = tmp_path / "conditions.parquet"
    synthesize(conditions, 5000, str(path), seed=3)
    [(before, at, after, early, late, short)] = query(
        "SELECT count(*) FILTER (WHERE 成立日期 = DATE '2022-06-19'), "
        "count(*) FILTER (WHERE 成立日期 = DATE '2022-06-20'), "
        "count(*) FILTER (WHERE 成立日期 = DATE '2022-06-21'), "
        "min(成立日期), max(成立日期), count(*) FILTER (WHERE 出口退税平均办理时间 = 3) "
        f"FROM read_parquet('{path}')"
    )
    assert min(before, at, after) > 0
    assert early < dt.date(2015, 1, 1) and late > dt.date(2023, 1, 1)
    assert short > 5000 * 0.08  # 30% of the known values on 2, 3 or 4, plus the spread


def test_the_population_evaluates(draft: CheckedPolicy, draft_population: Path, tmp_path: Path) -> None:
    output = tmp_path / "results.parquet"
    rows, counts = evaluate_file(draft, str(draft_population), str(output), DAY, adopted=True)
    assert rows == N
    assert set(counts) == {info.rule.name for info in draft.benefits}
    assert all(sum(tally.values()) == N for tally in counts.values())
    assert set(counts["小微企业信保保费补贴"]) == {"eligible", "not_eligible", "unknown"}
    assert pq.read_table(output).num_rows == N


def read_results(path: Path) -> pa.Table:
    if path.suffix == ".arrow":
        with pa.ipc.open_file(path) as reader:
            return reader.read_all()
    return pq.read_table(path)


@pytest.mark.parametrize("suffix", [".parquet", ".arrow"])
def test_the_sql_and_python_backends_agree_on_the_population(
    draft: CheckedPolicy, draft_population: Path, tmp_path: Path, suffix: str
) -> None:
    output = tmp_path / f"results{suffix}"
    evaluate_file(draft, str(draft_population), str(output), DAY, adopted=True)
    facts = pq.read_table(draft_population).slice(0, 1500).to_pylist()
    results = read_results(output).slice(0, 1500).to_pylist()
    compiled = policy_dsl.load(DRAFT).compiled
    for row, result in zip(facts, results, strict=True):
        assert row.pop("id") == result["id"]
        values = validate_facts(draft, row)
        outcome = compiled.evaluate(values, DAY, True)
        for benefit in outcome["benefits"]:
            assert status_word(result[benefit["id"]]) == benefit["status"], (row, benefit["id"])
            amount = benefit["amount"] and benefit["amount"]["amount"]
            # a benefit with no amount has no amount column: its Python amount must be None too
            assert result.get(f"{benefit['id']}:amount") == amount, (row, benefit["id"])


def test_the_counts_are_those_of_the_written_results(
    draft: CheckedPolicy, draft_population: Path, tmp_path: Path
) -> None:
    """Every way of running gives the same counts, and they are the counts of the rows written
    (counted here independently, from the file, with pyarrow)."""
    _, counted = evaluate_file(draft, str(draft_population), None, DAY, adopted=True)
    for suffix in (".parquet", ".arrow", ".csv"):
        output = tmp_path / f"results{suffix}"
        rows, counts = evaluate_file(draft, str(draft_population), str(output), DAY, adopted=True)
        assert rows == N and counts == counted, suffix
        table = pv.read_csv(output) if suffix == ".csv" else read_results(output)
        assert table.num_rows == N
        for name, tally in counts.items():
            column = table.column(name)
            true = pc.sum(column).as_py() or 0
            found = {
                "eligible": true,
                "not_eligible": N - column.null_count - true,
                "unknown": column.null_count,
            }
            assert tally == {k: v for k, v in found.items() if v}, (suffix, name)


def test_an_unknown_results_format_is_an_error(
    draft: CheckedPolicy, draft_population: Path, tmp_path: Path
) -> None:
    with pytest.raises(PolicyLoadError, match="unknown results format") as caught:
        evaluate_file(draft, str(draft_population), str(tmp_path / "results.xlsx"), DAY, adopted=True)
    assert ".arrow" in (caught.value.diagnostics[0].hint or "")
    assert not (tmp_path / "results.xlsx").exists()
    for suffix in (".parquet", ".arrow"):  # before any work, and naming the output, not the population
        with pytest.raises(PolicyLoadError, match="cannot be written: its directory does not exist"):
            evaluate_file(
                draft,
                str(draft_population),
                str(tmp_path / "missing" / f"results{suffix}"),
                DAY,
                adopted=True,
            )


def test_csv_output(draft: CheckedPolicy, conditions: CheckedPolicy, tmp_path: Path) -> None:
    path = tmp_path / "draft.csv"
    synthesize(draft, 2000, str(path), seed=7)
    parquet = tmp_path / "draft.parquet"
    synthesize(draft, 2000, str(parquet), seed=7)
    header = path.read_text(encoding="utf-8").splitlines()[0].split(",")
    # a list of items has no CSV form: left out, it is unknown
    assert header == ["id", *(n for n, f in draft.facts.items() if f.type.kind != "list")]
    rows, counts = evaluate_file(draft, str(path), None, DAY, adopted=True)
    assert rows == 2000
    _, from_parquet = evaluate_file(draft, str(parquet), None, DAY, adopted=True)
    # the same rows: an empty set is written "" in CSV and read back as empty, not unknown; a
    # benefit decided per item reads a list only Parquet holds (in CSV it is unknown)
    per_item = {info.rule.name for info in draft.benefits if getattr(info.rule, "each", None) is not None}
    assert per_item  # （十二）: for each 医药产品

    def without(found: dict[str, Any]) -> dict[str, Any]:
        return {name: tally for name, tally in found.items() if name not in per_item}

    assert without(counts) == without(from_parquet)
    # sets (the draft's only set is a product's, in a list): an empty set is "" and read back empty
    sets, sets_parquet = tmp_path / "conditions.csv", tmp_path / "conditions.parquet"
    synthesize(conditions, 2000, str(sets), seed=7)
    synthesize(conditions, 2000, str(sets_parquet), seed=7)
    assert '""' in sets.read_text(encoding="utf-8")  # there are empty sets in these rows
    from_csv = evaluate_file(conditions, str(sets), None, DAY, adopted=True)[1]
    assert from_csv == evaluate_file(conditions, str(sets_parquet), None, DAY, adopted=True)[1]


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_money_in_text_files_is_read_exactly(tmp_path: Path, suffix: str) -> None:
    """A money column with more digits than a double keeps, in CSV (the query casts the text
    itself) and in JSON lines (the column is declared DECIMAL, parsed from the number as written)."""
    policy_dir = tmp_path / "p"
    policy_dir.mkdir()
    (tmp_path / "enterprise.vocabulary").write_bytes(
        (DRAFT.parent.parent / "enterprise.vocabulary").read_bytes()
    )
    for name in ("draft.policy", "draft.txt", "chongqing.agencies"):
        (policy_dir / name).write_bytes((DRAFT.parent / name).read_bytes())
    checked = policy_dsl.load(policy_dir / "draft.policy").checked
    path = tmp_path / f"population{suffix}"
    # 50,000,000.000000001 is above 5000万美元 (the medium-size limit); as a double it is 50000000.0
    if suffix == ".csv":
        text = "id,是外贸企业,出口额\nabove,true,50000000.000000001\nat,true,50000000\n"
    else:
        text = (
            '{"id": "above", "是外贸企业": true, "出口额": 50000000.000000001}\n'
            '{"id": "at", "是外贸企业": true, "出口额": 50000000}\n'
        )
    path.write_text(text, encoding="utf-8")
    output = tmp_path / "results.parquet"
    evaluate_file(checked, str(path), str(output), DAY, adopted=True)
    results = {row["id"]: row for row in pq.read_table(output).to_pylist()}
    assert results["above"]["中型外贸企业认定标准放宽"] is False
    assert results["at"]["中型外贸企业认定标准放宽"] is True


def test_unknown_format(draft: CheckedPolicy, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"\.parquet or \.csv"):
        synthesize(draft, 10, str(tmp_path / "population.xlsx"))


def test_the_cli_writes_arrow_results_and_refuses_unknown_ones(
    draft_population: Path, tmp_path: Path
) -> None:
    from click.testing import CliRunner

    from policy_dsl.cli import policy

    args = [
        "eval",
        "--as-adopted",
        str(DRAFT),
        "--population",
        str(draft_population),
        "--as-of",
        "2022-07-01",
    ]
    output = tmp_path / "results.arrow"
    run = CliRunner().invoke(policy, [*args, "-o", str(output)])
    assert run.exit_code == 0, run.output
    assert read_results(output).num_rows == N
    bad = CliRunner().invoke(policy, [*args, "-o", str(tmp_path / "results.txt")])
    assert bad.exit_code == 2
    assert "unknown results format" in bad.output and "Traceback" not in bad.output
    assert not (tmp_path / "results.txt").exists()


def test_arrow_results_without_pyarrow_are_a_clear_error(
    draft: CheckedPolicy, draft_population: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pyarrow is an extra: without it, an .arrow output names the extra instead of a traceback."""
    import sys

    monkeypatch.setitem(sys.modules, "pyarrow.ipc", None)  # what `import pyarrow.ipc` sees when absent
    with pytest.raises(PolicyLoadError, match="needs pyarrow") as caught:
        evaluate_file(draft, str(draft_population), str(tmp_path / "results.arrow"), DAY, adopted=True)
    assert "policy_dsl[arrow]" in (caught.value.diagnostics[0].hint or "")


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".arrow"])
def test_a_population_where_every_benefit_is_unknown(
    draft: CheckedPolicy, tmp_path: Path, suffix: str
) -> None:
    """One enterprise and no facts: every status column is NULL, which a CSV reads back as text."""
    path = tmp_path / "one.csv"
    path.write_text("id,出口额\nE1,\n", encoding="utf-8")
    rows, counts = evaluate_file(draft, str(path), str(tmp_path / f"results{suffix}"), DAY, adopted=True)
    assert rows == 1
    outcome = policy_dsl.load(DRAFT).compiled.evaluate(validate_facts(draft, {}), DAY, True)
    assert counts == {benefit["id"]: {benefit["status"]: 1} for benefit in outcome["benefits"]}
    assert counts["小微企业信保保费补贴"] == {"unknown": 1}


def _counts(value: Any) -> bool:
    from policy_dsl.intake import counts

    return value is not None and counts(frozenset(value) if isinstance(value, list) else value)
