"""The command line: a thin click layer over the library.

Exit codes follow diff(1): 0 success / no differences, 1 differences (``fmt --check``),
2 errors. Errors go to stderr, rendered with their source line and a caret.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import click

from policy_dsl.errors import Diagnostic, PolicyError, PolicyLoadError
from policy_dsl.serve import serve_command  # click, attrs, errors, source: no server until it runs

if TYPE_CHECKING:
    from policy_dsl import model as m
    from policy_dsl.policy import Policy
    from policy_dsl.source import SourceFile

# The library is imported by each command as it needs it, not here: `policy --help` starts in a
# tenth of a second, and `policy eval --facts` never loads DuckDB or pyarrow.


class PolicyFailure(click.ClickException):
    """A policy error as a click exception: rendered diagnostics on stderr, exit code 2."""

    exit_code = 2

    def __init__(self, error: PolicyError) -> None:
        super().__init__(error.render())
        self.error = error

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(self.error.render(), err=True)


def _load(path: str) -> Policy:
    from policy_dsl.policy import load

    try:
        return load(path)
    except PolicyError as error:
        raise PolicyFailure(error) from None


def _given_day(value: str | None) -> dt.date | None:
    """``--as-of`` when given (policy-diff chooses its own day otherwise, and reports it)."""
    return None if value is None else _as_of(value)


def _as_of(value: str | None) -> dt.date:
    """The day of evaluation: ``--as-of``, or today — said on stderr, so that no result silently
    depends on the day it was run (a rule's period, a document's validity)."""
    from policy_dsl.values import ValueSyntaxError, parse_date

    if value is None:
        today = dt.date.today()
        click.echo(f"note: no --as-of given: evaluated as of today, {today.isoformat()}", err=True)
        return today
    try:
        return parse_date(value)
    except ValueSyntaxError as exc:
        raise click.BadParameter(str(exc), param_hint="--as-of") from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="policy_dsl")
def policy() -> None:
    """Encode, check, evaluate and compile policies written in the policy_dsl language."""


@policy.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path())
def check_command(files: tuple[str, ...]) -> None:
    """Check policy files, vocabularies, agency registries, or a whole library (a folder, or its
    library.index): every policy and vocabulary together. Report every problem; exit 0 clean, 2 errors."""
    failed = False
    for path in files:
        try:
            if Path(path).is_dir() or path.endswith(".index"):
                summary, warnings = _check_library(path)
            else:
                summary, warnings = _check_one(path)
        except PolicyError as error:
            click.echo(error.render(), err=True)
            failed = True
            continue
        for warning in warnings:
            click.echo(warning.render() + "\n", err=True)
        click.echo(f"{path}: ok — {summary}")
    if failed:
        sys.exit(2)


def _check_one(path: str) -> tuple[str, tuple[Diagnostic, ...]]:
    from policy_dsl import model as m
    from policy_dsl.parse import parse
    from policy_dsl.policy import read_source

    source = read_source(path)
    parsed = parse(source.text, source.path, source=source)
    if parsed.items and all(isinstance(item, m.Agency) for item in parsed.items):
        return _check_registry(parsed), ()
    if path.endswith(".vocabulary"):
        from policy_dsl.check import check_vocabulary

        vocabulary = check_vocabulary(parsed, source.path)
        counts = [
            (len(vocabulary.facts), "fact"),
            (len(vocabulary.enums), "enum"),
            (len(vocabulary.definitions), "definition"),
            (len(vocabulary.agencies.agencies), "agency"),
        ]
        return "vocabulary, " + ", ".join(_plural(n, w) for n, w in counts if n), ()
    policy = _policy_from(parsed, source)
    checked = policy.checked
    obligations = sum(1 for info in checked.duties if getattr(info.rule, "enterprise", False))
    counts = [
        (len(checked.measures), "unit"),
        (len(checked.benefits), "benefit"),
        (len(checked.duties) - obligations, "duty"),
        *([(obligations, "obligation")] if obligations else []),
        (len(checked.targets), "target"),
        (len(checked.definitions), "definition"),
        (len(checked.facts), "fact"),
    ]
    summary = ", ".join(_plural(n, word) for n, word in counts)
    if checked.warnings:
        summary += f", {_plural(len(checked.warnings), 'warning')}"
    summary += "\n  validity: " + checked.validity.describe()
    if checked.validity.repeals:
        summary += "; repeals " + "、".join(checked.validity.repeals)
    if checked.document is not None and checked.document.encoding != "UTF-8":
        summary += f"\n  source text read as {checked.document.encoding}"
    if checked.coverage is not None:
        summary += "\n  " + checked.coverage.report().replace("\n", "\n  ")
    return summary, checked.warnings


def _check_library(path: str) -> tuple[str, tuple[Diagnostic, ...]]:
    from policy_dsl.library import load_library

    library = load_library(path)
    benefits = sum(len(p.checked.benefits) for p in library.policies.values())
    lines = [
        f"library 「{library.title}」: {_plural(len(library.policies), 'policy')}, "
        f"{_plural(len(library.vocabularies), 'vocabulary')}, {_plural(len(library.fact_names), 'fact')}, "
        f"{_plural(benefits, 'benefit')}, {_plural(len(library.same), 'same-content group')}"
    ]
    for policy_id, policy in library.policies.items():
        checked = policy.checked
        lines.append(f"  {policy_id}: {checked.title} — {checked.validity.describe()}")
    return "\n".join(lines), library.warnings


def _plural(count: int, word: str) -> str:
    if count == 1:
        return f"1 {word}"
    plurals = {"duty": "duties", "agency": "agencies", "policy": "policies", "vocabulary": "vocabularies"}
    return f"{count} {plurals.get(word, word + 's')}"


def _policy_from(parsed: m.PolicyFile, source: SourceFile) -> Policy:
    from policy_dsl.check import check
    from policy_dsl.compile import compile_policy
    from policy_dsl.policy import Policy
    from policy_dsl.registry import load_registries

    checked = check(parsed, source.path, load_registries(parsed, source.path))
    return Policy(parsed, checked, compile_policy(checked))


def _check_registry(parsed: m.PolicyFile) -> str:
    from policy_dsl import model as m
    from policy_dsl.errors import PolicyCheckError

    seen: dict[str, str] = {}
    problems: list[Diagnostic] = []
    agencies = [item for item in parsed.items if isinstance(item, m.Agency)]
    for agency in agencies:
        for name in (agency.id, agency.name.value, *(a.value for a in agency.aliases)):
            owner = seen.get(name)
            if owner is not None and owner != agency.id:
                problems.append(Diagnostic(f"`{name}` names both `{owner}` and `{agency.id}`", agency.pos))
            seen[name] = agency.id
    ids = [a.id for a in agencies]
    for agency in agencies:
        if ids.count(agency.id) > 1 and agency is not agencies[ids.index(agency.id)]:
            problems.append(Diagnostic(f"agency `{agency.id}` is declared twice", agency.pos))
    if problems:
        raise PolicyCheckError(problems)
    return f"agency registry, {len(agencies)} agencies"


def _read_facts(spec: str) -> tuple[Any, SourceFile]:
    from policy_dsl.policy import read_json, read_source
    from policy_dsl.source import MAX_POLICY_BYTES, SourceFile

    if spec == "-":
        text = sys.stdin.read(MAX_POLICY_BYTES + 1)
        if len(text) > MAX_POLICY_BYTES:
            limit = MAX_POLICY_BYTES >> 20
            too_long = Diagnostic(f"<stdin>: longer than {limit} MiB, the most a facts file may be")
            raise PolicyFailure(PolicyLoadError([too_long]))
        source = SourceFile("<stdin>", text)
    else:
        source = read_source(spec)
    return read_json(source, "facts"), source


def _rule_options(what: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--benefit ID`` and ``--measure N``, repeatable: compute only those rules."""

    def decorate(function: Callable[..., Any]) -> Callable[..., Any]:
        function = click.option(
            "--measure",
            "measures",
            multiple=True,
            metavar="N",
            help=f"{what}: only the benefits and duties of this measure (（四）, 第5条, or its number); "
            "repeatable.",
        )(function)
        return click.option(
            "--benefit",
            "benefits",
            multiple=True,
            metavar="ID",
            help=f"{what}: only this benefit or duty (its id); repeatable. DuckDB then reads only the "
            "columns these rules need.",
        )(function)

    return decorate


@policy.command("eval")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--facts", "facts_path", help="A JSON file of facts (an object), or - for stdin.")
@click.option(
    "--population",
    "population",
    help="Evaluate every enterprise of a .csv, .parquet or .jsonl file (a column per fact) in DuckDB.",
)
@click.option(
    "-o",
    "--output-file",
    "output_file",
    help="With --population: write the results (.parquet, .csv, or .arrow for Arrow IPC).",
)
@click.option("--as-of", "as_of", help="Date of evaluation, e.g. 2022-07-01 (default: today).")
@click.option(
    "--as-adopted",
    "adopted",
    is_flag=True,
    help="Evaluate a draft as if adopted as written (a draft has no force otherwise).",
)
@click.option(
    "--format",
    "output",
    type=click.Choice(["text", "json", "html"]),
    default="text",
    show_default=True,
    help="html: with --population, one page with charts.",
)
@click.option(
    "--by",
    "by",
    multiple=True,
    help="With --population: count and sum per group of these columns (comma-separated or repeated); "
    "bands of a numeric fact as 出口额:500万美元,5000万美元.",
)
@click.option("-v", "--verbose", is_flag=True, help="Show where each condition is written.")
@click.option(
    "--only",
    "only",
    multiple=True,
    type=click.Choice(["eligible", "unknown", "not_eligible", "not_in_force", "superseded"]),
    help="Show only benefits (and duties) of this status; repeat for several.",
)
@_rule_options("With --population")
def eval_command(
    file: str,
    facts_path: str | None,
    population: str | None,
    output_file: str | None,
    as_of: str | None,
    adopted: bool,
    output: str,
    by: tuple[str, ...],
    verbose: bool,
    only: tuple[str, ...],
    benefits: tuple[str, ...],
    measures: tuple[str, ...],
) -> None:
    """Evaluate FILE for one enterprise (--facts): every benefit, why, and which clause says so;
    or for a whole population (--population), counting each benefit's and duty's outcomes and
    summing the amounts (per group with --by)."""
    if (facts_path is None) == (population is None):
        raise click.UsageError("give exactly one of --facts and --population")
    if population is None and output == "html":
        raise click.UsageError("--format html is for --population runs; for one enterprise use text or json")
    if population is None and by:
        raise click.UsageError("--by groups a population: give it with --population")
    if population is None and (benefits or measures):
        raise click.UsageError(
            "--benefit and --measure choose the rules of a population run: for one enterprise every "
            "benefit is evaluated (filter the output with --only, or read the JSON)"
        )
    date = _as_of(as_of)
    policy_obj = _load(file)
    if population is not None:
        _eval_population(policy_obj, population, output_file, date, output, adopted, by, benefits, measures)
        return
    assert facts_path is not None
    try:
        facts, source = _read_facts(facts_path)
        outcome = policy_obj.evaluate(facts, as_of=date, source=source, adopted=adopted)
    except PolicyError as error:
        raise PolicyFailure(error) from None
    if only:
        outcome = outcome.only(only)
    if output == "json":
        click.echo(json.dumps(outcome.to_json(), ensure_ascii=False, indent=2))
    else:
        click.echo(outcome.to_text(verbose=verbose), nl=False)


def _eval_population(
    policy_obj: Policy,
    population: str,
    output_file: str | None,
    date: dt.date,
    output: str,
    adopted: bool = False,
    by: tuple[str, ...] = (),
    benefits: tuple[str, ...] = (),
    measures: tuple[str, ...] = (),
) -> None:
    from policy_dsl.impact import summary_text
    from policy_dsl.selection import select_rules
    from policy_dsl.table import population_summary

    try:
        only = select_rules([policy_obj.checked], benefits, measures)
        data = population_summary(
            policy_obj.checked,
            population,
            output_file,
            date,
            adopted,
            by=by,
            progress=sys.stdout.isatty() and sys.stderr.isatty(),
            only=only,
        )
    except PolicyError as error:
        raise PolicyFailure(error) from None
    if output == "json":
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    elif output == "html":
        import importlib

        charts = importlib.import_module("policy_dsl.charts")  # drawn by policy_dsl.charts, loaded only here
        page: str = charts.population_page(data, f"{policy_obj.checked.title} — {population}")
        click.echo(page, nl=False)
    else:
        click.echo(summary_text(data), nl=False)
    if output_file is not None:
        click.echo(f"wrote {output_file}", err=True)


@policy.command("match")
@click.argument("library", type=click.Path())
@click.option("--facts", "facts_path", help="A JSON file of one enterprise's facts, or - for stdin.")
@click.option(
    "--population",
    "population",
    help="Match every enterprise of a .csv, .parquet or .jsonl file (reverse matching, in DuckDB).",
)
@click.option("--policy", "policy_id", help="With --population: the enterprises this policy newly reaches.")
@click.option("-o", "--output-file", "output_file", help="With --population: write per-enterprise results.")
@click.option("--as-of", "as_of", help="Date of matching, e.g. 2024-03-01 (default: today).")
@click.option(
    "--as-adopted", "adopted", is_flag=True, help="Read drafts as if adopted as written (no force otherwise)."
)
@click.option(
    "--format",
    "output",
    type=click.Choice(["text", "json", "html"]),
    default="text",
    show_default=True,
    help="html: a self-contained page.",
)
def match_command(
    library: str,
    facts_path: str | None,
    population: str | None,
    policy_id: str | None,
    output_file: str | None,
    as_of: str | None,
    adopted: bool,
    output: str,
) -> None:
    """Match one enterprise (--facts) against every policy of LIBRARY in force: the benefits it can
    claim, grouped by what each text commits to, settled across documents, and what to ask next.
    With --population, match every enterprise of a file (政策找企业). Exit 0, or 2 on an error."""
    from policy_dsl.library import load_library

    if (facts_path is None) == (population is None):
        raise click.UsageError("give exactly one of --facts and --population")
    if policy_id is not None and population is None:
        raise click.UsageError("--policy chooses the policy whose reach a population run reports")
    date = _as_of(as_of)
    try:
        lib = load_library(library)
        if population is not None:
            from policy_dsl.matching import match_population, population_text

            if output == "html":
                raise click.UsageError(
                    "--format html is for one enterprise; use text or json with --population"
                )
            result = match_population(lib, population, date, adopted, policy_id, output_file)
            if output == "json":
                click.echo(json.dumps(result, ensure_ascii=False, indent=2))
            else:
                click.echo(population_text(result), nl=False)
            return
        assert facts_path is not None
        facts, source = _read_facts(facts_path)
        found = lib.match(facts, as_of=date, adopted=adopted, source=source)
    except PolicyError as error:
        raise PolicyFailure(error) from None
    if output == "json":
        click.echo(json.dumps(found.to_json(), ensure_ascii=False, indent=2))
    elif output == "html":
        click.echo(found.to_html(), nl=False)
    else:
        click.echo(found.to_text(), nl=False)


policy.add_command(serve_command)


@policy.command("fmt")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "--check", "check_only", is_flag=True, help="Change nothing; exit 1 if a file is not canonical."
)
@click.option("--stdout", "to_stdout", is_flag=True, help="Print the canonical text instead of rewriting.")
def fmt_command(files: tuple[str, ...], check_only: bool, to_stdout: bool) -> None:
    """Rewrite policy files in canonical form (comments are kept)."""
    from policy_dsl.format import fmt
    from policy_dsl.parse import parse
    from policy_dsl.policy import read_source

    changed = False
    for path in files:
        try:
            source = read_source(path)
            canonical = fmt(parse(source.text, source.path, source=source))
        except PolicyError as error:
            raise PolicyFailure(error) from None
        if to_stdout:
            click.echo(canonical, nl=False)
            continue
        if canonical == source.text:
            continue
        changed = True
        if check_only:
            click.echo(f"would reformat {path}")
        else:
            Path(path).write_text(canonical, encoding="utf-8")
            click.echo(f"reformatted {path}")
    if check_only and changed:
        sys.exit(1)


@policy.command("compile")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("-o", "--output", default="-", help="Where to write the result (default: stdout).")
@click.option(
    "--to",
    "target",
    type=click.Choice(["python", "sql"]),
    default="python",
    show_default=True,
    help="What to compile to.",
)
@click.option(
    "--dialect", type=click.Choice(["duckdb", "postgres", "spark"]), default="duckdb", show_default=True
)
@click.option(
    "--as-of", "as_of", help="With --to sql: the date of evaluation written into the query (default: today)."
)
@click.option(
    "--as-adopted",
    "adopted",
    is_flag=True,
    help="With --to sql: a draft as if adopted (a draft has no force: every benefit is FALSE otherwise).",
)
@_rule_options("With --to sql")
def compile_command(
    file: str,
    output: str,
    target: str,
    dialect: str,
    as_of: str | None,
    adopted: bool,
    benefits: tuple[str, ...],
    measures: tuple[str, ...],
) -> None:
    """Compile FILE to a standalone Python module (standard library only) or to one SQL query over a
    relation `facts` with a column per fact and an `id` column."""
    if target != "sql" and (benefits or measures):
        raise click.UsageError("--benefit and --measure choose the columns of a query: give --to sql")
    policy_obj = _load(file)
    try:
        source = (
            policy_obj.sql(dialect, _as_of(as_of), adopted, benefits, measures) + ";\n"
            if target == "sql"
            else policy_obj.module_source()
        )
    except PolicyError as error:
        raise PolicyFailure(error) from None
    if output == "-":
        click.echo(source, nl=False)
    else:
        Path(output).write_text(source, encoding="utf-8")
        click.echo(f"wrote {output}", err=True)


@policy.command("test")
@click.argument("file", type=click.Path())
@click.argument("cases", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("-v", "--verbose", is_flag=True, help="List passing cases too.")
def test_command(file: str, cases: tuple[str, ...], verbose: bool) -> None:
    """Run example enterprises (CASES, JSON) against FILE, a policy, or a library (a folder or its
    library.index: cases of `policy match`). Exit 0 all pass, 1 failures, 2 errors."""
    from policy_dsl.cases import CaseReport, run_cases, run_library_cases

    subject: Any
    run: Callable[[Any, str], CaseReport]
    if Path(file).is_dir() or file.endswith(".index"):
        from policy_dsl.library import load_library

        try:
            subject, run = load_library(file), run_library_cases
        except PolicyError as error:
            raise PolicyFailure(error) from None
    else:
        subject, run = _load(file), run_cases
    failed = 0
    for path in cases:
        try:
            report = run(subject, path)
        except PolicyError as error:
            raise PolicyFailure(error) from None
        click.echo(report.render(verbose), nl=False)
        failed += len(report.failed)
    if failed:
        sys.exit(1)


@policy.command("agencies")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--format", "output", type=click.Choice(["text", "csv", "json"]), default="text", show_default=True
)
def agencies_command(file: str, output: str) -> None:
    """Which agency leads and which co-leads which measures."""
    from policy_dsl.views import agency_table

    click.echo(agency_table(_load(file).checked, output), nl=False)


@policy.command("schema")
@click.argument("file", type=click.Path())
def schema_command(file: str) -> None:
    """A JSON Schema of the facts an application must supply: of a policy, or of a library (a
    folder or its library.index: every policy's facts)."""
    from policy_dsl.views import facts_schema

    if Path(file).is_dir() or file.endswith(".index"):
        from policy_dsl.library import load_library

        try:
            schema = load_library(file).facts_schema()
        except PolicyError as error:
            raise PolicyFailure(error) from None
    else:
        schema = facts_schema(_load(file).checked)
    click.echo(json.dumps(schema, ensure_ascii=False, indent=2))


@policy.command("explain")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--facts", "facts_path", required=True, help="A JSON file of facts (an object), or - for stdin."
)
@click.option("--as-of", "as_of", help="Date of evaluation, e.g. 2022-07-01 (default: today).")
@click.option(
    "--as-adopted",
    "adopted",
    is_flag=True,
    help="Evaluate a draft as if adopted as written (a draft has no force otherwise).",
)
def explain_command(file: str, facts_path: str, as_of: str | None, adopted: bool) -> None:
    """The outcome with its full reasoning, each step quoting its citation."""
    from policy_dsl.views import explain

    date = _as_of(as_of)
    policy_obj = _load(file)
    try:
        facts, source = _read_facts(facts_path)
        outcome = policy_obj.evaluate(facts, as_of=date, source=source, adopted=adopted)
    except PolicyError as error:
        raise PolicyFailure(error) from None
    click.echo(explain(policy_obj.checked, outcome), nl=False)


@policy.command("synth")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("-n", "count", type=click.IntRange(min=0), required=True, help="How many enterprises.")
@click.option("-o", "--output", required=True, help="Where to write them: a .parquet or .csv file.")
@click.option(
    "--seed", type=int, default=0, show_default=True, help="The same seed gives the same population."
)
def synth_command(file: str, count: int, output: str, seed: int) -> None:
    """A synthetic population for FILE: realistic spreads and many values at and near its thresholds."""
    from policy_dsl.synth import synthesize

    policy_obj = _load(file)
    if not output.endswith((".parquet", ".csv")):
        raise click.BadParameter("write a .parquet or .csv file", param_hint="-o")
    rows = synthesize(policy_obj.checked, count, output, seed)
    click.echo(f"wrote {rows} enterprises to {output}", err=True)


def _ids_option(ctx: click.Context, param: click.Parameter, value: str | None) -> int | str | None:
    """``--ids N`` (a positive number) or ``--ids all``."""
    if value is None or value == "all":
        return value
    if value.isdigit() and int(value) > 0:
        return int(value)
    raise click.BadParameter(f"{value!r}: give a positive number or `all`")


@click.command("policy-diff", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("old", type=click.Path(dir_okay=False))
@click.argument("new", type=click.Path(dir_okay=False))
@click.option(
    "--format",
    "output",
    type=click.Choice(["text", "json", "markdown", "html"]),
    default="text",
    show_default=True,
    help="text is coloured on a terminal and plain when piped.",
)
@click.option("-o", "--output-file", "output_file", help="Write the report to this file instead of stdout.")
@click.option(
    "--population",
    "population",
    help="Enterprises (CSV or JSON lines, one per row) to count winners and losers.",
)
@click.option("--as-of", "as_of", help="Date on which the population is evaluated (default: see the report).")
@click.option(
    "--by",
    "by",
    multiple=True,
    help="With --population: winners, losers and money per group of these columns (comma-separated or "
    "repeated); bands of a numeric fact as 出口额:500万美元,5000万美元.",
)
@click.option(
    "--ids",
    "ids",
    callback=_ids_option,
    help="With --population: list up to N enterprise ids per benefit and kind of change, or `all` "
    "(default: counts only).",
)
@click.option(
    "--ids-file",
    "ids_file",
    help="With --population: write every enterprise that moves to this .csv or .parquet file (id, "
    "benefit, change), streamed: for populations too large to list in the report.",
)
@click.option(
    "--color/--no-color", "color", default=None, help="Force colour on or off (default: on a terminal)."
)
@click.option(
    "--all-regions",
    "all_regions",
    is_flag=True,
    help="Text: list every outcome region of each benefit (default: two of each kind; JSON, HTML: all).",
)
@_rule_options("With --population")
@click.version_option(package_name="policy_dsl")
def policy_diff(
    old: str,
    new: str,
    output: str,
    output_file: str | None,
    population: str | None,
    as_of: str | None,
    by: tuple[str, ...],
    ids: int | str | None,
    color: bool | None,
    all_regions: bool,
    benefits: tuple[str, ...],
    measures: tuple[str, ...],
    ids_file: str | None,
) -> None:
    """Show what changed between two versions of a policy: text, rules, and who gains or loses what.

    OLD and NEW are two .policy encodings (every layer) or two plain texts (structure, text and
    responsible units). Exit 0 no differences, 1 differences, 2 error.
    """
    from policy_dsl.diff.compare import diff_paths
    from policy_dsl.diff.report import render

    if population is None and (by or ids is not None or benefits or measures or ids_file):
        raise click.UsageError(
            "--by, --ids, --ids-file, --benefit and --measure are for the population layer: "
            "give --population FILE"
        )
    day = _given_day(as_of)
    try:
        result = diff_paths(old, new)
        if population is not None:
            from policy_dsl.diff.population import population_diff

            result = population_diff(result, old, new, population, day, by, ids, benefits, measures, ids_file)
            if ids_file is not None:
                click.echo(f"wrote {ids_file}", err=True)
    except PolicyError as error:
        raise PolicyFailure(error) from None
    use_color = color if color is not None else (output_file is None and sys.stdout.isatty())
    text = render(result, output, color=use_color and output == "text", regions=None if all_regions else 2)
    if output_file is not None:
        Path(output_file).write_text(text, encoding="utf-8")
        click.echo(f"wrote {output_file}", err=True)
    else:
        click.echo(text, nl=False, color=use_color)
    sys.exit(1 if result.different else 0)
