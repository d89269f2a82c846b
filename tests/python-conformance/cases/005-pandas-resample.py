import numpy as np
import pandas as pd

# Hourly sensor readings for two weeks; the user wants daily and weekly summaries.
idx = pd.date_range("2026-03-01", periods=24 * 14, freq="h")
rng = np.random.default_rng(7)
temps = 15 + 6 * np.sin(np.arange(len(idx)) * 2 * np.pi / 24) + rng.normal(0, 1, len(idx))
s = pd.Series(temps, index=idx, name="temp_c")

daily = s.resample("D").agg(["min", "mean", "max"]).round(2)
print("Daily summary (first 5 days):")
print(daily.head())
print()

weekly = s.resample("W-SUN").mean().round(3)
print("Weekly mean:")
print(weekly)
print()

six_hourly = s.resample("6h").max()
print("6-hourly max rows:", len(six_hourly))
print("Hottest 6-hour block starts at", six_hourly.idxmax())
print("Days above 16.5 C mean:", int((daily["mean"] > 16.5).sum()))
