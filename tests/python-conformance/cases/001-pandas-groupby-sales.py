import pandas as pd

# The user attached sales.csv and asked: "which region sells the most, and what's the revenue per product?"
df = pd.read_csv("sales.csv", parse_dates=["date"])
df["revenue"] = df["units"] * df["unit_price"]

print(f"Loaded {len(df)} orders from {df['date'].min():%Y-%m-%d} to {df['date'].max():%Y-%m-%d}")
print()

by_region = (
    df.groupby("region")
    .agg(orders=("order_id", "count"), units=("units", "sum"), revenue=("revenue", "sum"))
    .sort_values("revenue", ascending=False)
)
by_region["revenue"] = by_region["revenue"].round(2)
print("Revenue by region:")
print(by_region)
print()

by_product = df.groupby("product")["revenue"].agg(["sum", "mean", "max"]).round(2)
print("Revenue per product:")
print(by_product)
print()

best = by_region.index[0]
share = by_region.loc[best, "revenue"] / by_region["revenue"].sum() * 100
print(f"Top region: {best} with {share:.1f}% of total revenue")
