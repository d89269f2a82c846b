"""A small, real job of the kind an LLM writes: simulate a week of sales, summarise it, and leave
a CSV and a report in the working directory (nestbox returns both as files)."""

import csv
import random
import statistics
from collections import defaultdict

random.seed(42)
products = ["tea", "coffee", "cocoa", "juice"]
days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]

rows = []
for day in days:
    for product in products:
        units = max(0, int(random.gauss(40, 12)))
        price = {"tea": 2.5, "coffee": 3.2, "cocoa": 2.9, "juice": 3.8}[product]
        rows.append({"day": day, "product": product, "units": units, "revenue": round(units * price, 2)})

with open("sales.csv", "w", newline="") as f:
    writer = csv.DictWriter(f, fieldnames=["day", "product", "units", "revenue"])
    writer.writeheader()
    writer.writerows(rows)

by_product = defaultdict(float)
for r in rows:
    by_product[r["product"]] += r["revenue"]
daily = [sum(r["revenue"] for r in rows if r["day"] == d) for d in days]

lines = [f"Revenue by product (week total {sum(daily):.2f}):"]
for product, revenue in sorted(by_product.items(), key=lambda kv: -kv[1]):
    lines.append(f"  {product:<7} {revenue:8.2f}")
lines.append(f"Daily revenue: mean {statistics.mean(daily):.2f}, stdev {statistics.stdev(daily):.2f}")
lines.append(f"Best day: {days[daily.index(max(daily))]} ({max(daily):.2f})")
report = "\n".join(lines)
with open("report.txt", "w") as f:
    f.write(report + "\n")
print(report)
