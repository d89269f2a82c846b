import numpy as np
from scipy.optimize import brentq, fsolve, newton, root

f = lambda x: x**3 - 2 * x - 5
print("brentq:", round(brentq(f, 2, 3), 10))
print("newton:", round(newton(f, 2.0, fprime=lambda x: 3 * x**2 - 2), 10))


def system(v):
    x, y = v
    return [x**2 + y**2 - 4, np.exp(x) + y - 1]


sol = root(system, [1, -1])
print("root() success:", sol.success, "x, y =", np.round(sol.x, 6))
print("residual small:", np.allclose(system(sol.x), 0, atol=1e-9))
print("fsolve:", np.round(fsolve(system, [-1.5, 1.0]), 6))

# Interest rate that makes an annuity of 12 payments of 100 worth 1100
pv = lambda r: sum(100 / (1 + r) ** n for n in range(1, 13)) - 1100
r = brentq(pv, 1e-6, 0.5)
print(f"Monthly rate: {r:.6f} ({(1 + r) ** 12 - 1:.4%} a year)")
