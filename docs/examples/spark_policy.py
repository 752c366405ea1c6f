"""Run a policy's Spark SQL over a Parquet population and write the results as Parquet.

The recipe of docs/sql.md ("Running it on Spark SQL"), as a script. First write the query:

    policy compile policies/cq-foreign-trade-2022/draft.policy --to sql --dialect spark \\
        --as-of 2022-07-01 --as-adopted -o draft-spark.sql

then run it where Spark runs:

    spark-submit docs/examples/spark_policy.py draft-spark.sql enterprises.parquet results/

(or, with pyspark installed, `python docs/examples/spark_policy.py …`: pyspark starts a local
Spark). The population is any Parquet file or directory Spark reads (a local path, s3a://, hdfs://)
with a column per fact, named as the fact, plus an ``id`` column; money may be any DECIMAL (the
query casts it to DECIMAL(38, 10)), sets ARRAY<STRING>, a list of items (``items 品种 { … }``)
ARRAY<STRUCT<…>> with a field per item fact: each such column becomes a view of its own named as
the list (``id`` and the struct's fields, a row per item), and in the population a BOOLEAN, TRUE
where the list is given (docs/sql.md, "Lists of items"). It is registered as the view the query
reads (``facts``), the query's result is written to OUTPUT as Parquet (per benefit a BOOLEAN
status column — NULL is unknown — and, for a benefit with an amount, a DECIMAL ``<id>:amount``
column), and the counts per benefit are printed as one line of JSON:
``{"rows": n, "benefits": {"<id>": {"eligible": n, "not_eligible": n, "unknown": n}}}`` (statuses
with no enterprise left out, as ``policy_dsl.table.evaluate_file`` gives them).

Only pyspark is needed here, not policy_dsl.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.types import ArrayType, BooleanType, StructType


def read_query(path: str) -> str:
    """The query of ``policy compile --to sql``, without its final ``;`` (spark.sql takes one statement)."""
    return Path(path).read_text(encoding="utf-8").rstrip().rstrip(";")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Evaluate a policy compiled to Spark SQL over a Parquet population."
    )
    parser.add_argument("query", help="the SQL file written by `policy compile --to sql --dialect spark`")
    parser.add_argument("population", help="Parquet file or directory: a column per fact, plus id")
    parser.add_argument("output", help="directory to write the results to, as Parquet")
    parser.add_argument("--view", default="facts", help="the relation the query reads (default: facts)")
    parser.add_argument(
        "--mode",
        default="errorifexists",
        choices=["errorifexists", "overwrite"],
        help="when OUTPUT exists: fail (default) or replace it",
    )
    parser.add_argument("--no-counts", action="store_true", help="do not count the statuses per benefit")
    args = parser.parse_args(argv)

    query = read_query(args.query)
    spark = SparkSession.builder.appName("policy_dsl").getOrCreate()
    try:
        population = items_views(spark.read.parquet(args.population))
        population.createOrReplaceTempView(args.view)
        spark.sql(query).write.mode(args.mode).parquet(args.output)
        if not args.no_counts:
            print(json.dumps(count_statuses(spark, args.output), ensure_ascii=False))
    finally:
        spark.stop()
    return 0


def quoted(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def items_views(population: DataFrame) -> DataFrame:
    """Each list-of-structs column (a list of items) as a view named as the list — ``id`` and a
    column per item fact, a row per item — and, in the population, TRUE where the list is given."""
    for field in population.schema.fields:
        kind = field.dataType
        if not (isinstance(kind, ArrayType) and isinstance(kind.elementType, StructType)):
            continue
        column = quoted(field.name)
        items = population.selectExpr("id", f"inline({column})")
        items.createOrReplaceTempView(column)
        population = population.withColumn(field.name, population[column].isNotNull())
    return population


def count_statuses(spark: SparkSession, results: str) -> dict[str, object]:
    """One aggregate over the written results: rows, and per status column (a BOOLEAN) how many
    enterprises are eligible (TRUE), not eligible (FALSE) and unknown (NULL)."""
    frame = spark.read.parquet(results)
    statuses = [field.name for field in frame.schema.fields if isinstance(field.dataType, BooleanType)]

    expressions = ["count(*)"]
    for name in statuses:
        column = quoted(name)
        expressions += [f"count_if({column})", f"count_if(NOT {column})", f"count_if({column} IS NULL)"]
    row = frame.selectExpr(*expressions).collect()[0]
    benefits: dict[str, dict[str, int]] = {}
    for index, name in enumerate(statuses):
        eligible, not_eligible, unknown = row[1 + 3 * index : 4 + 3 * index]
        tally = {"eligible": eligible, "not_eligible": not_eligible, "unknown": unknown}
        benefits[name] = {status: n for status, n in tally.items() if n}
    return {"rows": row[0], "benefits": benefits}


if __name__ == "__main__":
    sys.exit(main())
