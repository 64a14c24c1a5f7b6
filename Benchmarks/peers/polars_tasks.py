"""The four comparison tasks with polars (same definitions as pandas_tasks.py).

Usage: python polars_tasks.py orders.csv  ->  one JSON line with the figures compare.sh checks.
"""
import json
import sys

import polars as pl


def scores(column, cuts, higher_is_better=True, bins=5):
    above = sum((pl.col(column) > cut).cast(pl.Int32) for cut in cuts)
    return (1 + above) if higher_is_better else (bins - above)


def main(path):
    df = pl.read_csv(path, schema_overrides={
        "order_id": pl.Utf8, "customer_id": pl.Utf8, "timestamp": pl.Utf8, "amount": pl.Float64,
        "currency": pl.Utf8})
    ts = pl.col("timestamp").str.to_datetime(format="%Y-%m-%dT%H:%M:%SZ", time_unit="us")
    df = df.with_columns(
        ts.dt.date().cast(pl.Int64).alias("day"),
        (ts.dt.year().cast(pl.Int64) * 12 + ts.dt.month().cast(pl.Int64) - 1).alias("month"))

    # 1. RFM summary
    as_of = df["day"].max()
    rfm = (df.group_by("customer_id")
           .agg(pl.col("day").max().alias("last"), pl.len().alias("frequency"),
                pl.col("amount").sum().alias("monetary"))
           .with_columns((as_of - pl.col("last")).alias("recency"))
           .sort("customer_id"))

    # 2. quintile scores (linear interpolation, as numpy's default)
    def cuts(column):
        return [rfm[column].quantile(k / 5, interpolation="linear") for k in range(1, 5)]
    rfm = rfm.with_columns(
        scores("recency", cuts("recency"), higher_is_better=False).alias("r"),
        scores("frequency", cuts("frequency")).alias("f"),
        scores("monetary", cuts("monetary")).alias("m"))

    # 3. repeat-purchase rate
    repeat_rate = float((rfm["frequency"] >= 2).sum() / rfm.height)

    # 4. monthly cohort retention
    cells = (df.with_columns(pl.col("month").min().over("customer_id").alias("cohort"))
             .with_columns((pl.col("month") - pl.col("cohort")).alias("offset"))
             .group_by("cohort", "offset").agg(pl.col("customer_id").n_unique().alias("active")))
    sizes = cells.filter(pl.col("offset") == 0).select("cohort", pl.col("active").alias("size"))
    table = (cells.join(sizes, on="cohort")
             .with_columns((pl.col("active") / pl.col("size")).alias("retention"))
             .pivot(on="offset", index="cohort", values="retention", sort_columns=True)
             .sort("cohort"))

    print(json.dumps({
        "tool": "polars " + pl.__version__, "customers": rfm.height, "orders": df.height,
        "repeat_purchase_rate": repeat_rate, "cohorts": table.height, "cohort_cells": cells.height,
    }))


if __name__ == "__main__":
    main(sys.argv[1])
