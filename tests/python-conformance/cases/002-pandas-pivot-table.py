import pandas as pd

df = pd.read_csv("sales.csv", parse_dates=["date"])
df["revenue"] = df["units"] * df["unit_price"]
df["month"] = df["date"].dt.strftime("%Y-%m")

pivot = pd.pivot_table(
    df,
    values="revenue",
    index="region",
    columns="month",
    aggfunc="sum",
    fill_value=0,
    margins=True,
    margins_name="Total",
).round(2)
print("Monthly revenue by region")
print(pivot.to_string())
print()

units = df.pivot_table(index="product", columns="region", values="units", aggfunc="mean")
print("Average units per order (product x region):")
print(units.round(1).fillna("-").to_string())
