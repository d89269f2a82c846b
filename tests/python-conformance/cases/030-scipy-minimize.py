import numpy as np
from scipy.optimize import minimize, minimize_scalar


def rosen(v):
    x, y = v
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


res = minimize(rosen, x0=[-1.2, 1.0], method="BFGS")
print("BFGS success:", res.success)
print("Minimum at:", np.round(res.x, 4), "value:", round(res.fun, 8))

res_nm = minimize(rosen, x0=[-1.2, 1.0], method="Nelder-Mead", options={"xatol": 1e-8, "fatol": 1e-10})
print("Nelder-Mead:", np.round(res_nm.x, 4))

# Minimise cost of a box with volume 32 (open top): sides x, y, height h = 32 / (x y)
cons = ({"type": "eq", "fun": lambda v: v[0] * v[1] * v[2] - 32},)
area = lambda v: v[0] * v[1] + 2 * v[0] * v[2] + 2 * v[1] * v[2]
box = minimize(area, x0=[2, 2, 2], constraints=cons, bounds=[(0.1, None)] * 3, method="SLSQP")
print("Box sides:", np.round(box.x, 3), "area:", round(box.fun, 3))

s = minimize_scalar(lambda x: (x - 2.5) ** 2 + np.sin(3 * x), bounds=(0, 5), method="bounded")
print("Scalar minimum:", round(s.x, 4), round(s.fun, 4))
