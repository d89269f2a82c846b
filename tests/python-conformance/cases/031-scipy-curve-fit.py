import numpy as np
from scipy.optimize import curve_fit


def decay(t, a, k, c):
    return a * np.exp(-k * t) + c


rng = np.random.default_rng(3)
t = np.linspace(0, 10, 40)
y = decay(t, 5.0, 0.6, 1.2) + rng.normal(0, 0.05, t.size)

params, cov = curve_fit(decay, t, y, p0=(1, 0.1, 0))
errors = np.sqrt(np.diag(cov))
for name, p, e in zip(["a", "k", "c"], params, errors):
    print(f"{name} = {p:.3f} ± {e:.3f}")
residuals = y - decay(t, *params)
r2 = 1 - np.sum(residuals**2) / np.sum((y - y.mean()) ** 2)
print(f"R² = {r2:.4f}")
print(f"Half-life = {np.log(2) / params[1]:.3f}")


def logistic(x, L, k, x0):
    return L / (1 + np.exp(-k * (x - x0)))


days = np.arange(0, 30, 2)
cases = np.array([3, 6, 14, 30, 62, 120, 210, 320, 410, 470, 500, 515, 522, 526, 528])
(L, k, x0), _ = curve_fit(logistic, days, cases, p0=[500, 0.5, 15])
print(f"Logistic fit: L={L:.1f}, k={k:.3f}, midpoint day {x0:.2f}")
