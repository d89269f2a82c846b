import pandas as pd

customers = pd.DataFrame({
    "customer_id": [1, 2, 3, 4, 5],
    "name": ["Alice", "Bob", "Chen", "Dana", "Eve"],
    "country": ["DE", "US", "CN", "US", "FR"],
})
orders = pd.DataFrame({
    "order_id": [101, 102, 103, 104, 105, 106],
    "customer_id": [1, 2, 2, 3, 6, 1],
    "amount": [250.0, 80.5, 120.0, 42.25, 99.9, 310.0],
})

inner = customers.merge(orders, on="customer_id", how="inner")
print("Inner join:")
print(inner)
print()

left = customers.merge(orders, on="customer_id", how="left")
print("Customers without orders:", ", ".join(left.loc[left["order_id"].isna(), "name"]))

outer = customers.merge(orders, on="customer_id", how="outer", indicator=True)
print("Join sources:")
print(outer["_merge"].value_counts().sort_index())
print()

totals = inner.groupby(["name", "country"], as_index=False)["amount"].sum()
print(totals.sort_values("amount", ascending=False).to_string(index=False))
