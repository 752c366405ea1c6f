"""The postgres dialect, run for real: a throwaway PostgreSQL server gives what DuckDB and Python give.

The session fixture ``pg`` starts its own server: ``initdb`` into a temporary directory owned by an
unprivileged user (PostgreSQL refuses to run as root: as root the server runs as the ``postgres``
system user, created with ``useradd`` if missing), listening only on a Unix socket in that
directory (no TCP), ``pg_ctl start -w``; it is stopped and removed at the end of the session.

The server binaries come from PATH or ``/usr/lib/postgresql/<version>/bin`` (Debian's
``postgresql`` package). Without them the tests are skipped, except under CI (``CI`` set), where
they fail: CI must install the package.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import pwd
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
import strategies as s
from hypothesis import given, settings
from hypothesis import strategies as st
from test_sql import (
    KEY,
    NO_SHRINK,
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
    rows_strategy,
    sql_results,
)

from policy_dsl.check import CheckedPolicy
from policy_dsl.sql import Dialect, compile_sql

PACKAGE = "postgresql"  # Debian's package: initdb, pg_ctl and postgres under /usr/lib/postgresql/<v>/bin
SERVER_USER = "postgres"
DB_USER = "policy_test"


# ---------------------------------------------------------------- the throwaway server


def _version(path: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", path.parent.name))


def find_server_binaries() -> Path | None:
    """The directory holding ``initdb``, ``pg_ctl`` and ``postgres``, newest version first."""
    candidates: list[Path] = []
    for tool in ("initdb", "pg_ctl", "postgres"):
        found = shutil.which(tool)
        if found:
            candidates.append(Path(found).resolve().parent)
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=_version, reverse=True)
    for directory in candidates:
        if all((directory / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres")):
            return directory
    return None


def _missing(reason: str) -> None:
    message = f"{reason}; install Debian's `{PACKAGE}` package (apt-get install -y {PACKAGE})"
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the PostgreSQL tests: {message}", pytrace=False)
    pytest.skip(message)


def _server_user() -> str | None:
    """The unprivileged user the server runs as, when we are root; None: run as ourselves."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVER_USER],
            check=True,
            capture_output=True,
        )
    return SERVER_USER


def _run(command: list[str], user: str | None, cwd: Path) -> subprocess.CompletedProcess[str]:
    if user is not None:
        command = ["runuser", "-u", user, "--", *command]
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )
    return result


@pytest.fixture(scope="session")
def pg() -> Iterator[Any]:
    """A psycopg connection (autocommit) to a PostgreSQL server started for this session."""
    bindir = find_server_binaries()
    if bindir is None:
        _missing("PostgreSQL server binaries (initdb, pg_ctl, postgres) not found")
    assert bindir is not None
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        _missing("running as root without `runuser` to start PostgreSQL as an unprivileged user")
    user = _server_user()
    # Short, in the system temp dir (a Unix socket path is at most 107 bytes), and reachable by `user`.
    base = Path(tempfile.mkdtemp(prefix="policy-pg-", dir="/tmp" if Path("/tmp").is_dir() else None))
    data, log = base / "data", base / "server.log"
    if user is not None:
        entry = pwd.getpwnam(user)
        os.chown(base, entry.pw_uid, entry.pw_gid)
    os.chmod(base, 0o700)
    started = False
    try:
        _run(
            [
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                DB_USER,
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-locale",
            ],
            user,
            base,
        )
        with (data / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write(
                "\n# policy_dsl tests: a Unix socket in the data's parent directory only, no TCP\n"
                "listen_addresses = ''\n"
                f"unix_socket_directories = '{base}'\n"
                "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
            )
        _run([str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60", "start"], user, base)
        started = True
        connection = psycopg.connect(host=str(base), user=DB_USER, dbname="postgres", autocommit=True)
        try:
            yield connection
        finally:
            connection.close()
    except RuntimeError as exc:
        if log.exists():
            exc.add_note(log.read_text(encoding="utf-8", errors="replace"))
        raise
    finally:
        if started:
            with contextlib.suppress(Exception):
                _run([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"], user, base)
        shutil.rmtree(base, ignore_errors=True)


# ---------------------------------------------------------------- rows in a PostgreSQL table

PG_TYPES = {
    "bool": "BOOLEAN",
    "integer": "BIGINT",
    "duration": "BIGINT",
    "money": "NUMERIC",  # as a registry may hold them: every digit kept, the query casts
    "decimal": "NUMERIC",
    "percent": "NUMERIC",
    "date": "DATE",
    "enum": "TEXT",
    "set": "TEXT[]",
    "list": "BOOLEAN",  # a list of items: whether it is known; the items in a table of their own
}


def pg_value(value: Any) -> Any:
    if isinstance(value, frozenset | set):
        return sorted(value)
    return value


def load_rows(con: Any, checked: CheckedPolicy, rows: list[dict[str, Any]], table: str = "facts") -> None:
    """A table with a typed column per fact, filled through psycopg parameters (never SQL text);
    a list of items: a table of its own, named as the list, a row per item with the row's key."""
    d = Dialect("postgres")
    for list_name, info in checked.items.items():
        fields = list(info.facts)
        types = [PG_TYPES[info.facts[f].type.kind] for f in fields]
        con.execute(f"DROP TABLE IF EXISTS {d.ident(list_name)}")
        columns = ", ".join(
            [f"{d.ident(KEY)} BIGINT", *(f"{d.ident(f)} {t}" for f, t in zip(fields, types, strict=True))]
        )
        con.execute(f"CREATE TABLE {d.ident(list_name)} ({columns})")
        marks = ", ".join(["%s", *(f"%s::{t}" for t in types)])
        with con.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {d.ident(list_name)} VALUES ({marks})",
                [[row[KEY], *(row[f] for f in fields)] for row in item_rows(checked, list_name, rows)],
            )
    rows = known_lists(checked, rows)
    names = list(checked.facts)
    columns = [f"{d.ident(KEY)} BIGINT PRIMARY KEY"]
    columns += [f"{d.ident(n)} {PG_TYPES[checked.facts[n].type.kind]}" for n in names]
    con.execute(f"DROP TABLE IF EXISTS {d.ident(table)}")
    con.execute(f"CREATE TABLE {d.ident(table)} ({', '.join(columns)})")
    # each parameter cast to its column's type: psycopg infers a type per row, and an empty list
    # after a NULL in the same column would otherwise be sent as numeric[]
    placeholders = ", ".join(["%s", *(f"%s::{PG_TYPES[checked.facts[n].type.kind]}" for n in names)])
    targets = ", ".join(d.ident(c) for c in [KEY, *names])
    insert = f"INSERT INTO {d.ident(table)} ({targets}) VALUES ({placeholders})"
    with con.cursor() as cursor:
        cursor.executemany(
            insert, [[i, *(pg_value(row.get(n)) for n in names)] for i, row in enumerate(rows)]
        )


def postgres_results(
    con: Any, checked: CheckedPolicy, rows: list[dict[str, Any]], as_of: dt.date
) -> list[Result]:
    load_rows(con, checked, rows)
    query = compile_sql(checked, "postgres", source="facts", as_of=as_of, keep=(KEY,), adopted=True)
    with con.cursor() as cursor:
        cursor.execute(query)
        assert cursor.description is not None
        names = [column.name for column in cursor.description]
        fetched = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    return sql_results(checked, fetched, names)


def assert_three_agree(
    con: Any, backends: PythonBackends, rows: list[dict[str, Any]], as_of: dt.date
) -> None:
    expected = backends.results(rows, as_of)
    assert_rows_agree(
        expected, postgres_results(con, backends.checked, rows, as_of), rows, as_of, "PostgreSQL"
    )
    assert_rows_agree(expected, duckdb_results(backends.checked, rows, as_of), rows, as_of, "DuckDB")


# ---------------------------------------------------------------- the tests


def test_server_is_real_and_local_only(pg: Any) -> None:
    version = pg.execute("SHOW server_version_num").fetchone()[0]
    assert int(version) >= 120000
    assert pg.execute("SHOW listen_addresses").fetchone()[0] == ""


@settings(max_examples=25, deadline=None, suppress_health_check=SLOW)
@given(st.data())
def test_draft_postgres_agrees_with_duckdb_and_python(pg: Any, data: st.DataObject) -> None:
    backends = draft_backends()
    rows = data.draw(rows_strategy(backends.checked), label="rows")
    as_of = data.draw(as_of_strategy(backends.checked), label="as_of")
    assert_three_agree(pg, backends, rows, as_of)


@settings(max_examples=20, deadline=None, suppress_health_check=SLOW, phases=NO_SHRINK)
@given(s.checked_policies(), st.data())
def test_generated_policies_postgres_agrees(pg: Any, policy: s.GeneratedPolicy, data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory(prefix="policy-sql-pg-") as tmp:
        directory = Path(tmp)
        checked = check_text(policy.text, directory, policy.source_text)
        backends = PythonBackends(checked, directory)
        rows = data.draw(rows_strategy(checked, max_rows=8), label="rows")
        as_of = data.draw(as_of_strategy(checked), label="as_of")
        assert_three_agree(pg, backends, rows, as_of)


def test_postgres_is_exact_at_the_limits(pg: Any) -> None:
    day = dt.date(2022, 7, 1)
    rows = insured_exporters(
        [
            ("5000000.00", "12345.675"),
            ("5000000.01", "12345.675"),
            ("1", "0.005"),
            ("1", "0.0049"),
        ]
    )
    got = postgres_results(pg, draft(), rows, day)
    assert [r["小微外贸企业认定标准放宽"][0] for r in got] == [
        "eligible",
        "not_eligible",
        "eligible",
        "eligible",
    ]
    assert [r["小微企业信保保费补贴"][1] for r in got] == [
        Decimal("12345.68"),
        None,
        Decimal("0.01"),
        Decimal("0.00"),
    ]
    assert_three_agree(pg, draft_backends(), rows, day)


def test_hostile_policy_is_data_in_postgres(pg: Any, tmp_path: Path) -> None:
    checked = hostile_checked(tmp_path)
    pg.execute("CREATE TABLE IF NOT EXISTS sentinel (a INTEGER)")
    day = dt.date(2022, 7, 1)
    rows = hostile_rows()
    expected = PythonBackends(checked, tmp_path).results(rows, day)
    got = postgres_results(pg, checked, rows, day)
    assert pg.execute("SELECT to_regclass('sentinel') IS NOT NULL").fetchone()[0]
    assert_rows_agree(expected, got, rows, day, "PostgreSQL")


def test_hostile_title_does_not_run_in_postgres(pg: Any, tmp_path: Path) -> None:
    """The title sits in the query's ``--`` header comment; a line break in it must not end the comment."""
    checked = hostile_checked(tmp_path, title="标题\nDROP TABLE sentinel;\n--")
    pg.execute("CREATE TABLE IF NOT EXISTS sentinel (a INTEGER)")
    rows = hostile_rows()
    try:
        postgres_results(pg, checked, rows, dt.date(2022, 7, 1))
    finally:
        assert pg.execute("SELECT to_regclass('sentinel') IS NOT NULL").fetchone()[0], (
            "the policy's title dropped the sentinel table"
        )


def benefit(name: str, when: str, cite: str) -> str:
    return (
        f'    benefit {name} "{name}" {{\n        kind other\n'
        f'        when {when}\n        cite "{cite}"\n    }}\n'
    )


def test_equality_and_inequality_run_in_postgres(pg: Any, tmp_path: Path) -> None:
    """``==`` is the policy language's equality; PostgreSQL has only ``=`` (and no ``==`` operator)."""
    from test_sql import CITE, small_policy

    checked = check_text(
        small_policy(
            "fact n: integer\nfact d: date\nfact v: money CNY",
            benefit("n等于3", "n == 3", CITE)
            + benefit("d不是", "d != 2022-06-20", CITE)
            + benefit("v等于", "v == 100元", CITE),
        ),
        tmp_path,
        SOURCE_TEXT,
    )
    day = dt.date(2022, 7, 1)
    rows: list[dict[str, Any]] = [
        {"n": 3, "d": dt.date(2022, 6, 20), "v": Decimal("100.00")},
        {"n": 4, "d": dt.date(2022, 6, 21), "v": Decimal("100.01")},
        {},
    ]
    assert_three_agree(pg, PythonBackends(checked, tmp_path), rows, day)


def test_unknown_bound_in_postgres(pg: Any, tmp_path: Path) -> None:
    """``x between lo and 100`` with ``lo`` NULL and x = 200: unknown in Python, so in PostgreSQL."""
    from test_sql import CITE, small_policy

    between = check_text(
        small_policy("fact x: decimal\nfact lo: decimal", benefit("b", "x between lo and 100", CITE)),
        tmp_path,
        SOURCE_TEXT,
    )
    day = dt.date(2022, 7, 1)
    rows: list[dict[str, Any]] = [{"x": Decimal(200)}, {"x": Decimal(50)}]
    backends = PythonBackends(between, tmp_path)
    got = postgres_results(pg, between, rows, day)
    assert_rows_agree(backends.results(rows, day), got, rows, day, "PostgreSQL")


def test_fine_cap_in_postgres(pg: Any, tmp_path: Path) -> None:
    """A cap finer than the minor unit (100.5日元, 100.005元) is paid as written, as in Python."""
    from test_sql import CAP_POLICY

    day = dt.date(2022, 7, 1)
    capped = check_text(CAP_POLICY, tmp_path, SOURCE_TEXT)
    rows: list[dict[str, Any]] = [{"日元额": Decimal(200), "保费": Decimal(200)}]
    backends = PythonBackends(capped, tmp_path)
    got = postgres_results(pg, capped, rows, day)
    assert_rows_agree(backends.results(rows, day), got, rows, day, "PostgreSQL")
