import json

import pandas as pd

with open("customers.json") as f:
    data = json.load(f)

people = pd.json_normalize(data, sep="_")[["id", "name", "vip", "address_city", "address_zip"]]
print(people.to_string(index=False))
print()

orders = pd.json_normalize(data, record_path="orders", meta=["id", "name", ["address", "city"]])
print(f"{len(orders)} orders")
print(orders.head(6).to_string(index=False))
print()
per_city = orders.groupby("address.city").agg(orders=("sku", "count"), spend=("amount", "sum")).round(2)
print(per_city)
print()
vip_ids = {c["id"] for c in data if c["vip"]}
print("VIP spend:", round(orders[orders["id"].isin(vip_ids)]["amount"].sum(), 2))
