import numpy as np
import pandas as pd
from statsmodels.tsa.arima.model import ARIMA
from statsmodels.tsa.seasonal import seasonal_decompose
from statsmodels.tsa.stattools import adfuller

rng = np.random.default_rng(10)
idx = pd.date_range("2022-01-01", periods=48, freq="MS")
trend = np.linspace(100, 160, 48)
season = 10 * np.sin(np.arange(48) * 2 * np.pi / 12)
y = pd.Series(trend + season + rng.normal(0, 2, 48), index=idx)

dec = seasonal_decompose(y, model="additive", period=12)
print("Seasonal pattern (Jan..Dec):", np.round(dec.seasonal.iloc[:12].to_numpy(), 2).tolist())
adf = adfuller(y)
print(f"ADF statistic {adf[0]:.3f}, p-value {adf[1]:.3f}")
diff = y.diff().dropna()
print(f"ADF on differences: p-value {adfuller(diff)[1]:.4f}")
fit = ARIMA(y, order=(1, 1, 0), trend="t").fit()
print("AR coefficient:", round(fit.params["ar.L1"], 2))
fc = fit.forecast(3)
print("Forecast:", [f"{d:%Y-%m}: {v:.0f}" for d, v in fc.items()])
