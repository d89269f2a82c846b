import pandas as pd

df = pd.read_csv("sales.csv", parse_dates=["date"])
df["revenue"] = df["units"] * df["unit_price"]
df["weekday"] = df["date"].dt.day_name()
df["week"] = df["date"].dt.isocalendar().week
df["month"] = df["date"].dt.to_period("M")
df["is_weekend"] = df["date"].dt.dayofweek >= 5
df["days_since_prev"] = df["date"].diff().dt.days

print(df[["date", "weekday", "week", "month", "is_weekend", "days_since_prev"]].head(6).to_string(index=False))
print()
order = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
print(df.groupby("weekday")["revenue"].sum().reindex(order, fill_value=0).round(2))
print()
print(df.groupby("month")["revenue"].agg(["count", "sum"]).round(2))
print()
start, end = df["date"].min(), df["date"].max()
print("Business days in range:", len(pd.bdate_range(start, end)))
print("Month ends:", [d.strftime("%Y-%m-%d") for d in pd.date_range(start, end, freq="ME")])
print("Next order after", end.date(), "would be due", (end + pd.offsets.BDay(3)).date())
print("Longest gap:", df["days_since_prev"].max(), "days")
