import sqlite3

import pandas as pd

df = pd.read_csv("sales.csv")
con = sqlite3.connect(":memory:")
df.to_sql("sales", con, index=False)
cur = con.execute("SELECT region, COUNT(*), SUM(units * unit_price) FROM sales GROUP BY region ORDER BY 3 DESC")
for region, n, revenue in cur:
    print(f"{region:6s} {n:3d} {revenue:10.2f}")
q = """
SELECT product, strftime('%m', date) AS month, SUM(units) AS units
FROM sales GROUP BY product, month HAVING units > 30 ORDER BY product, month
"""
print(pd.read_sql_query(q, con).to_string(index=False))
con.execute("CREATE TABLE targets (region TEXT PRIMARY KEY, target REAL)")
con.executemany("INSERT INTO targets VALUES (?, ?)", [("North", 2500), ("South", 3000), ("East", 2800), ("West", 3500)])
joined = pd.read_sql("SELECT s.region, ROUND(SUM(s.units * s.unit_price) - t.target, 2) AS over_target "
                     "FROM sales s JOIN targets t USING (region) GROUP BY s.region ORDER BY s.region", con)
print(joined)
con.close()
with sqlite3.connect("sales.db") as disk:
    df.to_sql("sales", disk, index=False)
    print("Rows on disk:", disk.execute("SELECT COUNT(*) FROM sales").fetchone()[0])
