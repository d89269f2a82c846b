"""Regenerate the "attached" input files of the corpus (run with the native venv of record.sh).

    ~/.cache/nestbox-test/python-native-3.15/bin/python inputs/make-inputs.py

The outputs are committed; the cases read them as files a chat user attached. Everything is
seeded or fixed, so a rerun writes the same data (the XLSX's zip timestamps aside).
"""

import csv
import datetime as dt
import json
import random
from pathlib import Path

from openpyxl import Workbook

HERE = Path(__file__).resolve().parent
rng = random.Random(20261202)

# sales.csv: 48 orders over Q1 2026
regions = ["North", "South", "East", "West"]
products = {"Widget": 4.50, "Gadget": 12.00, "Doohickey": 7.25, "Gizmo": 19.99}
with open(HERE / "sales.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["order_id", "date", "region", "product", "units", "unit_price"])
    day = dt.date(2026, 1, 2)
    for i in range(48):
        day += dt.timedelta(days=rng.choice([1, 2, 2, 3]))
        product = rng.choice(sorted(products))
        w.writerow([1001 + i, day.isoformat(), rng.choice(regions), product,
                    rng.randint(1, 40), products[product]])

# survey.csv: answers with gaps, the way exported forms look
with open(HERE / "survey.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["respondent", "age", "city", "satisfaction", "income", "comment"])
    cities = ["Berlin", "Paris", "Madrid", "Rome", ""]
    for i in range(30):
        age = "" if rng.random() < 0.1 else rng.randint(18, 75)
        sat = "" if rng.random() < 0.15 else rng.randint(1, 5)
        income = "" if rng.random() < 0.2 else round(rng.gauss(42000, 9000), -2)
        comment = rng.choice(["", "great service", "too slow", "ok", "N/A", "would recommend"])
        w.writerow([f"R{i + 1:03d}", age, rng.choice(cities), sat, income, comment])

# customers.json: nested records, as an API export
customers = []
for i in range(8):
    orders = [{"sku": f"SKU-{rng.randint(100, 999)}", "qty": rng.randint(1, 5),
               "amount": round(rng.uniform(5, 250), 2)} for _ in range(rng.randint(1, 3))]
    customers.append({
        "id": i + 1,
        "name": ["Ada", "Grace", "Linus", "Guido", "Barbara", "Ken", "Margaret", "Dennis"][i],
        "address": {"city": rng.choice(["Oslo", "Lyon", "Porto", "Graz"]),
                    "zip": f"{rng.randint(1000, 9999)}"},
        "vip": rng.random() < 0.4,
        "orders": orders,
    })
(HERE / "customers.json").write_text(json.dumps(customers, indent=2) + "\n")

# employees.xlsx: two sheets
wb = Workbook()
ws = wb.active
ws.title = "Staff"
ws.append(["Name", "Department", "Hire date", "Salary"])
names = ["Alice", "Bob", "Carla", "Deniz", "Emil", "Fatima", "Goran", "Hana", "Ivan", "Jun"]
for n in names:
    ws.append([n, rng.choice(["Sales", "Engineering", "Support"]),
               dt.datetime(2015 + rng.randint(0, 10), rng.randint(1, 12), rng.randint(1, 28)),
               rng.randrange(38000, 98000, 500)])
ws2 = wb.create_sheet("Budget")
ws2.append(["Department", "Budget"])
for dep, b in (("Sales", 250000), ("Engineering", 480000), ("Support", 150000)):
    ws2.append([dep, b])
stamp = dt.datetime(2026, 12, 1, 9, 0, 0)
wb.properties.created = stamp
wb.properties.modified = stamp
wb.save(HERE / "employees.xlsx")
print("wrote", ", ".join(sorted(p.name for p in HERE.iterdir() if p.suffix != ".py")))
