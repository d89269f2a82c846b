import pandas as pd

prices = pd.Series(
    [101.2, 102.5, 101.9, 103.4, 104.0, 103.1, 105.6, 106.2, 105.9, 107.3, 108.8, 107.5, 109.1, 110.4],
    index=pd.bdate_range("2026-02-02", periods=14),
    name="close",
)
df = prices.to_frame()
df["sma_3"] = df["close"].rolling(3).mean().round(2)
df["sma_5"] = df["close"].rolling(window=5, min_periods=1).mean().round(2)
df["ewm_5"] = df["close"].ewm(span=5, adjust=False).mean().round(3)
df["pct_change"] = (df["close"].pct_change() * 100).round(2)
df["rolling_std"] = df["close"].rolling(4).std().round(3)
df["cum_max"] = df["close"].cummax()
print(df.to_string())
print()
crosses = df.index[(df["sma_3"] > df["sma_5"]) & (df["sma_3"].shift() <= df["sma_5"].shift())]
print("SMA3 crosses above SMA5 on:", [d.strftime("%Y-%m-%d") for d in crosses])
print("Best day:", df["pct_change"].idxmax().date(), f"{df['pct_change'].max()}%")
