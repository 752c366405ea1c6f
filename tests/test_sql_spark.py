"""The spark dialect, run for real: Spark SQL in local mode gives what DuckDB and Python give.

The session fixture ``spark`` starts one local SparkSession (pyspark from PyPI, ``local[1]``, one
shuffle partition, no web UI, quiet logs, ANSI mode on, session time zone UTC) for the whole
test session, and stops it at the end. Rows go into Spark through an explicit schema (never a
guess): money, decimal and percent facts as ``DECIMAL(38, 10)``, sets as ``ARRAY<STRING>``, dates
as ``DATE``, so every value reaches Spark exactly.

The last test runs ``docs/examples/spark_policy.py`` (the recipe of docs/sql.md) end to end in
its own Python process, on a population written by ``policy_dsl.synth.synthesize`` and a query
written by ``policy compile --to sql --dialect spark``, and checks its Parquet output against
``policy_dsl`` evaluating the same file in DuckDB.

pyspark needs Java (17 or 21). Without pyspark or Java the tests are skipped, except under CI
(``CI`` set), where they fail: CI must install both.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import strategies as s
from hypothesis import given, settings
from hypothesis import strategies as st
from test_sql import (
    CAP_POLICY,
    CITE,
    KEY,
    NO_SHRINK,
    RATES_POLICY,
    SLOW,
    SOURCE_TEXT,
    PythonBackends,
    Result,
    as_of_strategy,
    assert_rows_agree,
    check_text,
    draft,
    draft_backends,
    duckdb_results,
    hostile_checked,
    hostile_rows,
    insured_exporters,
    item_rows,
    known_lists,
    plain,
    rows_strategy,
    small_policy,
    sql_results,
)

from policy_dsl import model as m
from policy_dsl.check import CheckedPolicy, check
from policy_dsl.sql import compile_sql, has_amount, result_columns, status_word
from policy_dsl.synth import synthesize
from policy_dsl.table import evaluate_file

#: pyspark advises pandas < 3 when it starts; these tests hand Spark no pandas objects.
pytestmark = pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning")

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "docs" / "examples" / "spark_policy.py"
DRAFT = ROOT / "policies" / "cq-foreign-trade-2022" / "draft.policy"

JAVA_PACKAGE = "default-jre-headless"  # Debian's (Java 17 on bookworm); .ci/run installs it without `java`
MIN_JAVA = 17  # Spark 4 runs on Java 17 and 21

#: For ``spark-submit`` and a pyspark started from a plain Python process alike: one local core,
#: one shuffle partition, no web UI (no port opened), quiet logs.
SPARK_CONF = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "1",
    "spark.default.parallelism": "1",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.ansi.enabled": "true",  # a value that does not cast is an error, not a silent NULL
    "spark.log.level": "ERROR",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
}


# ---------------------------------------------------------------- the local SparkSession


def _missing(reason: str) -> None:
    message = (
        f"{reason}; install pyspark (pip install -e '.[test]') and Java 17 or 21 "
        f"(Debian: apt-get install -y {JAVA_PACKAGE})"
    )
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the Spark tests: {message}", pytrace=False)
    pytest.skip(message)


def find_java() -> Path | None:
    """The ``java`` Spark will start: ``$JAVA_HOME/bin/java`` if set, else the one on PATH."""
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").is_file():
        return Path(home) / "bin" / "java"
    found = shutil.which("java")
    return Path(found) if found else None


def java_major(java: Path) -> int | None:
    """The major version ``java -version`` reports (17 for "17.0.15"), or None if it does not run."""
    try:
        result = subprocess.run([str(java), "-version"], capture_output=True, text=True, timeout=60)
    except OSError:
        return None
    match = re.search(r'version "(\d+)(?:\.(\d+))?', result.stderr + result.stdout)
    if result.returncode != 0 or match is None:
        return None
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major  # "1.8.0" is Java 8


def require_spark() -> Path:
    """pyspark importable and a Java Spark runs on: the ``java`` found, or the test is skipped (CI: fails)."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        _missing("pyspark is not installed")
    java = find_java()
    if java is None:
        _missing("no `java` on PATH (nor JAVA_HOME)")
    assert java is not None
    major = java_major(java)
    if major is None or major < MIN_JAVA:
        _missing(f"{java} is Java {major}, Spark 4 needs Java {MIN_JAVA} or newer")
    return java


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """One SparkSession in local mode for the whole test session."""
    require_spark()
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # no warning about the hostname's address
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.master("local[1]").appName("policy_dsl-tests")
    for key, value in SPARK_CONF.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    try:
        yield session
    finally:
        session.stop()


# ---------------------------------------------------------------- rows in a Spark DataFrame


def spark_type(kind: str) -> Any:
    from pyspark.sql import types as T

    if kind in {"bool", "list"}:  # a list of items: whether it is known (the items: a view of their own)
        return T.BooleanType()
    if kind in {"integer", "duration"}:
        return T.LongType()
    if kind in {"money", "decimal", "percent"}:
        return T.DecimalType(38, 10)  # every generated value has at most ten decimals (test_sql._fits)
    if kind == "date":
        return T.DateType()
    if kind == "set":
        return T.ArrayType(T.StringType(), containsNull=False)
    return T.StringType()


def load_rows(spark: Any, checked: CheckedPolicy, rows: list[dict[str, Any]], view: str = "facts") -> None:
    """A temporary view with a typed column per fact (an explicit schema: nothing is inferred); a
    list of items: a view of its own, named as the list, a row per item with the row's key."""
    from pyspark.sql import types as T

    for list_name, info in checked.items.items():
        fields = list(info.facts)
        item_schema = T.StructType(
            [T.StructField(KEY, T.LongType(), nullable=False)]
            + [T.StructField(f, spark_type(info.facts[f].type.kind), nullable=True) for f in fields]
        )
        items = [(row[KEY], *(row[f] for f in fields)) for row in item_rows(checked, list_name, rows)]
        # a view named as the list: a name that is not ASCII is quoted for Spark
        quoted = "`" + list_name.replace("`", "``") + "`"
        spark.createDataFrame(items, item_schema).createOrReplaceTempView(quoted)
    rows = known_lists(checked, rows)

    names = list(checked.facts)
    schema = T.StructType(
        [T.StructField(KEY, T.LongType(), nullable=False)]
        + [T.StructField(n, spark_type(checked.facts[n].type.kind), nullable=True) for n in names]
    )
    data = [(i, *(plain(row.get(n)) for n in names)) for i, row in enumerate(rows)]
    spark.createDataFrame(data, schema).createOrReplaceTempView(view)


def spark_results(
    spark: Any, checked: CheckedPolicy, rows: list[dict[str, Any]], as_of: dt.date
) -> list[Result]:
    load_rows(spark, checked, rows)
    query = compile_sql(checked, "spark", source="facts", as_of=as_of, keep=(KEY,), adopted=True)
    frame = spark.sql(query)
    names = list(frame.columns)
    fetched = [dict(zip(names, row, strict=True)) for row in frame.collect()]
    return sql_results(checked, fetched, names)


def assert_three_agree(
    spark: Any, backends: PythonBackends, rows: list[dict[str, Any]], as_of: dt.date
) -> None:
    expected = backends.results(rows, as_of)
    assert_rows_agree(expected, spark_results(spark, backends.checked, rows, as_of), rows, as_of, "Spark")
    assert_rows_agree(expected, duckdb_results(backends.checked, rows, as_of), rows, as_of, "DuckDB")


# ---------------------------------------------------------------- the tests


def test_spark_is_real_and_local(spark: Any) -> None:
    major = int(spark.version.split(".")[0])
    assert major >= 4, spark.version
    assert spark.sparkContext.master == "local[1]"
    assert spark.conf.get("spark.sql.ansi.enabled") == "true"
    row = spark.sql("SELECT CAST('0.1' AS DECIMAL(38, 10)) * CAST('3' AS DECIMAL(7, 6)) AS x").collect()[0]
    assert row["x"] == Decimal("0.3") and isinstance(row["x"], Decimal)


@settings(max_examples=20, deadline=None, suppress_health_check=SLOW)
@given(st.data())
def test_draft_spark_agrees_with_duckdb_and_python(spark: Any, data: st.DataObject) -> None:
    backends = draft_backends()
    rows = data.draw(rows_strategy(backends.checked), label="rows")
    as_of = data.draw(as_of_strategy(backends.checked), label="as_of")
    assert_three_agree(spark, backends, rows, as_of)


@settings(max_examples=15, deadline=None, suppress_health_check=SLOW, phases=NO_SHRINK)
@given(s.checked_policies(), st.data())
def test_generated_policies_spark_agrees(spark: Any, policy: s.GeneratedPolicy, data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory(prefix="policy-sql-spark-") as tmp:
        directory = Path(tmp)
        checked = check_text(policy.text, directory, policy.source_text)
        backends = PythonBackends(checked, directory)
        rows = data.draw(rows_strategy(checked, max_rows=8), label="rows")
        as_of = data.draw(as_of_strategy(checked), label="as_of")
        assert_three_agree(spark, backends, rows, as_of)


def test_spark_is_exact_at_the_limits(spark: Any) -> None:
    day = dt.date(2022, 7, 1)
    rows = insured_exporters(
        [
            ("5000000.00", "12345.675"),
            ("5000000.01", "12345.675"),
            ("5000000.0000000001", "12345.6749999999"),
            ("1", "0.005"),
            ("1", "0.0049"),
        ]
    )
    got = spark_results(spark, draft(), rows, day)
    assert [r["小微外贸企业认定标准放宽"][0] for r in got] == [
        "eligible",
        "not_eligible",
        "not_eligible",
        "eligible",
        "eligible",
    ]
    assert [r["小微企业信保保费补贴"][1] for r in got] == [
        Decimal("12345.68"),
        None,
        None,
        Decimal("0.01"),
        Decimal("0.00"),
    ]
    assert_three_agree(spark, draft_backends(), rows, day)


def test_rates_round_half_up_in_spark(spark: Any, tmp_path: Path) -> None:
    """Half a minor unit rounds up, in fen, yen and cents; a product is kept whole before its rounding."""
    checked = check_text(RATES_POLICY, tmp_path, SOURCE_TEXT)
    money = ["0.05", "0.01", "1234.50", "0.0667", "100.004", "100.005", "99.995", "99.9949"]
    yen = ["5", "3", "1.0001", "0.9998"]
    euro = ["4", "3.9999", "800004", "12345678901.2345", "0.0000000001"]
    rows: list[dict[str, Any]] = [{"保费": Decimal(v)} for v in money]
    rows += [{"日元额": Decimal(v)} for v in yen] + [{"欧元额": Decimal(v)} for v in euro]
    got = spark_results(spark, checked, rows, dt.date(2022, 7, 1))
    assert got[0]["半额"] == ("eligible", Decimal("0.03"))  # 0.025 → 0.03 (banker's: 0.02)
    assert got[2]["七五"] == ("eligible", Decimal("92.59"))  # 92.5875
    assert got[3]["七五"] == ("eligible", Decimal("0.01"))  # 0.0050025
    assert got[5]["封顶"] == ("eligible", Decimal("100"))  # 100.01 → the cap
    assert got[len(money)]["日元半额"] == ("eligible", Decimal("3"))  # 2.5 yen → 3
    assert got[len(money) + len(yen)]["小比例"] == ("eligible", Decimal("0.01"))  # 0.005 → 0.01
    assert got[len(money) + len(yen) + 2]["小比例"] == ("eligible", Decimal("1000"))  # 1000.005 → the cap
    assert_three_agree(spark, PythonBackends(checked, tmp_path), rows, dt.date(2022, 7, 1))


def test_fine_cap_and_constants_in_spark(spark: Any, tmp_path: Path) -> None:
    """A cap finer than the minor unit (100.5日元, 100.005元) is paid as written, as in Python."""
    day = dt.date(2022, 7, 1)
    capped = check_text(CAP_POLICY, tmp_path, SOURCE_TEXT)
    rows: list[dict[str, Any]] = [{"日元额": Decimal(200), "保费": Decimal(200)}, {"日元额": Decimal(50)}]
    got = spark_results(spark, capped, rows, day)
    assert got[0] == {"日元封顶": ("eligible", Decimal("100.5")), "元封顶": ("eligible", Decimal("100.005"))}
    assert_three_agree(spark, PythonBackends(capped, tmp_path), rows, day)


def benefit(name: str, when: str) -> str:
    return (
        f'    benefit {name} "{name}" {{\n        kind other\n'
        f'        when {when}\n        cite "{CITE}"\n    }}\n'
    )


def test_comparisons_and_unknowns_in_spark(spark: Any, tmp_path: Path) -> None:
    """``==``/``!=`` on numbers, dates and money; constants finer than four decimals; ``between`` with
    an unknown bound (Kleene: x = 200 is outside whatever ``lo`` is); sets with NULL and empty."""
    checked = check_text(
        small_policy(
            "fact n: integer\nfact d: date\nfact v: money CNY\nfact r: percent\nfact k: decimal\n"
            "fact x: decimal\nfact lo: decimal\nenum 机构 { FDA, EMA, CE }\nfact regs: set of 机构",
            benefit("n等于3", "n == 3")
            + benefit("d不是", "d != 2022-06-20")
            + benefit("v等于", "v == 100元")
            + benefit("低费率", "r > 0.00005%")
            + benefit("系数达标", "k >= 1.00005")
            + benefit("区间", "x between lo and 100")
            + benefit("全部", "regs includes all {FDA, EMA}")
            + benefit("任一", "regs includes any {CE, EMA}"),
        ),
        tmp_path,
        SOURCE_TEXT,
    )
    day = dt.date(2022, 7, 1)
    rows: list[dict[str, Any]] = [
        {"n": 3, "d": dt.date(2022, 6, 20), "v": Decimal("100.00"), "r": Decimal("0.0001")},
        {"n": 4, "d": dt.date(2022, 6, 21), "v": Decimal("100.01"), "r": Decimal("0.00005")},
        {"k": Decimal("1.00005"), "x": Decimal(200), "regs": frozenset({"FDA", "EMA"})},
        {"k": Decimal("1.0000499999"), "x": Decimal(50), "regs": frozenset()},
        {"regs": frozenset({"CE"})},
        {},
    ]
    got = spark_results(spark, checked, rows, day)
    assert [r["区间"][0] for r in got[2:4]] == ["not_eligible", "unknown"]
    statuses = ["unknown", "unknown", "eligible", "not_eligible", "not_eligible", "unknown"]
    assert [r["全部"][0] for r in got] == statuses
    assert_three_agree(spark, PythonBackends(checked, tmp_path), rows, day)


def test_hostile_policy_is_data_in_spark(spark: Any, tmp_path: Path) -> None:
    """Fact names, enum values and benefit ids with quotes, backticks, backslashes, ``;``, ``--``, CJK."""
    checked = hostile_checked(tmp_path)
    spark.sql("CREATE OR REPLACE TEMPORARY VIEW sentinel AS SELECT 1 AS a")
    day = dt.date(2022, 7, 1)
    rows = hostile_rows()
    expected = PythonBackends(checked, tmp_path).results(rows, day)
    got = spark_results(spark, checked, rows, day)
    assert spark.catalog.tableExists("sentinel")
    assert_rows_agree(expected, got, rows, day, "Spark")
    # the hostile enum values matched as written: every status occurs
    assert {"eligible", "not_eligible", "unknown"} <= {status for r in got for status, _ in r.values()}


def test_hostile_title_does_not_run_in_spark(spark: Any, tmp_path: Path) -> None:
    """The title sits in the query's ``--`` header comment; a line break in it must not end the comment."""
    checked = hostile_checked(tmp_path, title="标题\nDROP VIEW sentinel;\n--")
    spark.sql("CREATE OR REPLACE TEMPORARY VIEW sentinel AS SELECT 1 AS a")
    rows = hostile_rows()
    day = dt.date(2022, 7, 1)
    try:
        got = spark_results(spark, checked, rows, day)
    finally:
        assert spark.catalog.tableExists("sentinel"), "the policy's title dropped the sentinel view"
    assert_rows_agree(PythonBackends(checked, tmp_path).results(rows, day), got, rows, day, "Spark")


#: Enum values Spark's string literals must keep as written: Spark reads a backslash in a literal as an
#: escape (``\\n`` a line break, ``\\u0041`` "A", ``\\s`` "s"), unlike DuckDB and PostgreSQL. Each is
#: beside a value it would turn into if a backslash were lost or read.
BACKSLASHED = (
    "back\\slash",
    "backslash",
    "\\n",
    "\n",
    "n",
    "\\u0041",
    "A",
    "\\",
    "\\\\",
    "end\\'",
    "end'",
    "路径\\文件'`\"",
    "%_\\%",
)


def backslash_checked(directory: Path) -> CheckedPolicy:
    """A policy (built as a model: the parser allows no such names) with a benefit per value above:
    ``类别 in {value}``, and another ``类别集 includes any {value}``."""
    enum = m.EnumDecl("类别值", tuple(m.EnumValue(v) for v in BACKSLASHED))
    facts = [
        m.FactDecl("类别", m.TypeRef("enum", "类别值")),
        m.FactDecl("类别集", m.TypeRef("set", "类别值")),
    ]
    cite = (m.Citation(m.Text(CITE)),)
    rules = []
    for index, value in enumerate(BACKSLASHED):
        conditions = {
            f"是{index}": m.Membership(m.Reference("类别"), (m.Name(value),), False),
            f"含{index}": m.Includes(m.Reference("类别集"), "any", (m.Name(value),)),
        }
        for name, condition in conditions.items():
            rules.append(m.Benefit(name, None, kind=m.Name("other"), when=condition, citations=cite))
    header = m.PolicyHeader(m.Text("反斜杠"), status=m.Name("final"), source=m.Text("source.txt"))
    measure = m.Unit(
        "measure",
        "（一）",
        m.Text("生成的措施"),
        agencies=(m.Name("某局"),),
        citations=cite,
        rules=tuple(rules),
    )
    model = m.PolicyFile((header, m.Agency("某局", m.Text("某局")), enum, *facts, measure))
    (directory / "source.txt").write_text(SOURCE_TEXT, encoding="utf-8")
    return check(model, str(directory / "backslash.policy"))


def test_backslashes_and_quotes_in_spark_strings(spark: Any, tmp_path: Path) -> None:
    """Row i holds value i (as the enum and as a one-element set): exactly benefits i are eligible."""
    checked = backslash_checked(tmp_path)
    day = dt.date(2022, 7, 1)
    rows: list[dict[str, Any]] = [{"类别": v, "类别集": frozenset({v})} for v in BACKSLASHED]
    got = spark_results(spark, checked, rows, day)
    for index, result in enumerate(got):
        eligible = sorted(name for name, (status, _) in result.items() if status == "eligible")
        assert eligible == sorted([f"是{index}", f"含{index}"]), (BACKSLASHED[index], eligible)
    assert_three_agree(spark, PythonBackends(checked, tmp_path), rows, day)


# ---------------------------------------------------------------- docs/examples/spark_policy.py, end to end


def _run(command: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, (
        f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr[-4000:]}"
    )
    return result


def test_spark_policy_script_end_to_end(tmp_path: Path) -> None:
    """The docs' recipe: `policy compile … --dialect spark --as-adopted`, then the script over a
    synthesized Parquet population; its Parquet results equal DuckDB's evaluation, row by row."""
    require_spark()
    checked = draft()
    day = dt.date(2022, 7, 1)
    population = tmp_path / "population.parquet"
    synthesize(checked, 400, str(population), seed=3)
    env = dict(os.environ)
    env.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    conf = " ".join(f"--conf {k}={v}" for k, v in SPARK_CONF.items())
    env["PYSPARK_SUBMIT_ARGS"] = f"--master local[1] {conf} pyspark-shell"
    query = tmp_path / "draft-spark.sql"
    cli = [sys.executable, "-m", "policy_dsl", "compile", str(DRAFT), "--to", "sql", "--dialect", "spark"]
    _run([*cli, "--as-of", day.isoformat(), "--as-adopted", "-o", str(query)], env, tmp_path)
    assert query.read_text(encoding="utf-8").rstrip().endswith(";")
    output = tmp_path / "results"
    run = _run([sys.executable, str(SCRIPT), str(query), str(population), str(output)], env, tmp_path)

    # The DuckDB evaluation of the same file, with the same columns
    expected_file = tmp_path / "duckdb.parquet"
    count, counts = evaluate_file(checked, str(population), str(expected_file), day, adopted=True)
    assert count == 400
    expected = pq.read_table(expected_file).to_pylist()
    written = pq.read_table(output)
    got = written.to_pylist()
    assert len(got) == count
    ids = [info.rule.name for info in checked.benefits]
    priced = [info.rule.name for info in checked.benefits if has_amount(info.rule)]
    assert priced, "the draft has an amount column to compare"
    # the query's columns, typed as docs/sql.md says: id, a BOOLEAN per benefit, DECIMAL(38, 4) amounts
    assert written.column_names == ["id", *result_columns(checked)]
    assert all(written.schema.field(i).type == pa.bool_() for i in ids)
    assert all(written.schema.field(f"{i}:amount").type == pa.decimal128(38, 4) for i in priced)
    by_id = {row["id"]: row for row in got}
    assert sorted(by_id) == sorted(row["id"] for row in expected)
    for want in expected:
        have = by_id[want["id"]]
        for i in ids:
            assert have[i] == want[i], (i, want["id"], have[i], want[i])
        for i in priced:
            column = f"{i}:amount"
            assert have[column] == want[column], (column, want["id"], have[column], want[column])
            assert have[column] is None or isinstance(have[column], Decimal)
    # not a vacuous comparison: the synthesized population reaches every status, and amounts
    statuses = {status_word(row[i]) for row in got for i in ids}
    assert statuses == {"eligible", "not_eligible", "unknown"}
    assert any(row[f"{i}:amount"] is not None for row in got for i in priced)
    # the counts the script prints are policy eval's counts
    printed = json.loads(run.stdout.strip().splitlines()[-1])
    assert printed["rows"] == count
    assert printed["benefits"] == counts
