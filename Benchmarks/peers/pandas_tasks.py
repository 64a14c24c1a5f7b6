"""The four comparison tasks with pandas: RFM summary, R/F/M quintile scores, repeat-purchase rate, monthly cohorts.

Usage: python pandas_tasks.py orders.csv  ->  one JSON line with the figures compare.sh checks.
Definitions (as RetentionMetrics, UTC): recency = days from the last order's day to the as-of day (the last order's
day in the file); frequency = orders; monetary = total. Cut points are linear-interpolation quantiles at k/5; F and M
score 1 + #{k: v > q_k}, R scores 5 - #{k: r > q_k}. Repeat rate = customers with >= 2 orders / customers. Cohort =
month of the first order; cell = distinct customers active in month offset o / cohort size.
"""
import json
import sys

import numpy as np
import pandas as pd


def scores(values, higher_is_better=True, bins=5):
    cuts = np.quantile(values, [k / bins for k in range(1, bins)])
    above = (values[:, None] > cuts[None, :]).sum(axis=1)
    return 1 + above if higher_is_better else bins - above


def main(path):
    df = pd.read_csv(path, dtype={"order_id": str, "customer_id": str, "currency": str})
    ts = pd.to_datetime(df["timestamp"], format="%Y-%m-%dT%H:%M:%SZ")
    df["day"] = ts.values.astype("datetime64[D]").astype(np.int64)
    df["month"] = ts.dt.year * 12 + ts.dt.month - 1

    # 1. RFM summary
    as_of = df["day"].max()
    rfm = df.groupby("customer_id", sort=True).agg(
        last=("day", "max"), frequency=("order_id", "size"), monetary=("amount", "sum"))
    rfm["recency"] = as_of - rfm["last"]

    # 2. quintile scores
    rfm["r"] = scores(rfm["recency"].to_numpy(), higher_is_better=False)
    rfm["f"] = scores(rfm["frequency"].to_numpy())
    rfm["m"] = scores(rfm["monetary"].to_numpy())

    # 3. repeat-purchase rate
    repeat_rate = float((rfm["frequency"] >= 2).sum() / len(rfm))

    # 4. monthly cohort retention
    first = df.groupby("customer_id")["month"].transform("min")
    cells = (df.assign(cohort=first, offset=df["month"] - first)
             .groupby(["cohort", "offset"])["customer_id"].nunique())
    sizes = cells.xs(0, level="offset")
    table = (cells / sizes.reindex(cells.index.get_level_values("cohort")).to_numpy()).unstack("offset")

    print(json.dumps({
        "tool": "pandas " + pd.__version__, "customers": int(len(rfm)), "orders": int(len(df)),
        "repeat_purchase_rate": repeat_rate, "cohorts": int(table.shape[0]), "cohort_cells": int(cells.size),
    }))


if __name__ == "__main__":
    main(sys.argv[1])
