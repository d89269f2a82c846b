import csv
import statistics
from collections import defaultdict
from decimal import Decimal, ROUND_HALF_UP
from fractions import Fraction

with open("sales.csv", newline="") as f:
    rows = list(csv.DictReader(f))
print("Columns:", list(rows[0].keys()))
units = [int(r["units"]) for r in rows]
print("mean", round(statistics.mean(units), 4), "median", statistics.median(units), "mode", statistics.mode(units))
print("stdev", round(statistics.stdev(units), 4), "quantiles", statistics.quantiles(units, n=4))
totals = defaultdict(Decimal)
for r in rows:
    totals[r["region"]] += Decimal(r["units"]) * Decimal(r["unit_price"])
for region in sorted(totals):
    print(f"{region:6s} {totals[region].quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):>10}")
print("Fraction of orders over 20 units:", Fraction(sum(u > 20 for u in units), len(units)))
with open("summary.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["region", "revenue"])
    for region in sorted(totals):
        w.writerow([region, totals[region]])
print(open("summary.csv").read().strip())
print("corr", round(statistics.correlation(units, [float(r["unit_price"]) for r in rows]), 5))
