"""The four comparison tasks with DuckDB SQL (same definitions as pandas_tasks.py), results fetched into Python.

Usage: python duckdb_tasks.py orders.csv  ->  one JSON line with the figures compare.sh checks.
"""
import json
import sys

import duckdb


def main(path):
    con = duckdb.connect()
    con.execute("""
        CREATE TABLE orders AS
        SELECT order_id, customer_id, amount,
               CAST(ts AS DATE) AS day, year(ts) * 12 + month(ts) - 1 AS month
        FROM (SELECT *, strptime("timestamp", '%Y-%m-%dT%H:%M:%SZ') AS ts
              FROM read_csv(?, header = true, columns = {
                  'order_id': 'VARCHAR', 'customer_id': 'VARCHAR', 'timestamp': 'VARCHAR',
                  'amount': 'DOUBLE', 'currency': 'VARCHAR'}))
    """, [path])

    # 1. RFM summary
    con.execute("""
        CREATE TABLE rfm AS
        SELECT customer_id, (SELECT max(day) FROM orders) - max(day) AS recency,
               count(*) AS frequency, sum(amount) AS monetary
        FROM orders GROUP BY customer_id
    """)

    # 2. quintile scores: cut points by quantile_cont (linear interpolation)
    scores = con.execute("""
        WITH cuts AS (
            SELECT quantile_cont(recency, [0.2, 0.4, 0.6, 0.8]) AS rq,
                   quantile_cont(frequency, [0.2, 0.4, 0.6, 0.8]) AS fq,
                   quantile_cont(monetary, [0.2, 0.4, 0.6, 0.8]) AS mq
            FROM rfm)
        SELECT customer_id, recency, frequency, monetary,
               5 - ((recency > rq[1])::INT + (recency > rq[2])::INT + (recency > rq[3])::INT
                    + (recency > rq[4])::INT) AS r,
               1 + (frequency > fq[1])::INT + (frequency > fq[2])::INT + (frequency > fq[3])::INT
                 + (frequency > fq[4])::INT AS f,
               1 + (monetary > mq[1])::INT + (monetary > mq[2])::INT + (monetary > mq[3])::INT
                 + (monetary > mq[4])::INT AS m
        FROM rfm, cuts ORDER BY customer_id
    """).fetchall()

    # 3. repeat-purchase rate
    customers, repeaters, orders = con.execute("""
        SELECT count(*), count(*) FILTER (WHERE frequency >= 2), (SELECT count(*) FROM orders) FROM rfm
    """).fetchone()

    # 4. monthly cohort retention
    table = con.execute("""
        WITH firsts AS (SELECT customer_id, min(month) AS cohort FROM orders GROUP BY customer_id),
             cells AS (SELECT f.cohort, o.month - f.cohort AS "offset", count(DISTINCT o.customer_id) AS active
                       FROM orders o JOIN firsts f USING (customer_id) GROUP BY ALL)
        SELECT c.cohort, c."offset", c.active, c.active / s.active AS retention
        FROM cells c JOIN cells s ON s.cohort = c.cohort AND s."offset" = 0
        ORDER BY c.cohort, c."offset"
    """).fetchall()

    print(json.dumps({
        "tool": "duckdb " + duckdb.__version__, "customers": customers, "orders": orders,
        "repeat_purchase_rate": repeaters / customers, "cohorts": len({row[0] for row in table}),
        "cohort_cells": len(table), "scored": len(scores),
    }))


if __name__ == "__main__":
    main(sys.argv[1])
