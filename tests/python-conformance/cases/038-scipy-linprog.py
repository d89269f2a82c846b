from scipy.optimize import linprog, milp, LinearConstraint, Bounds
import numpy as np

# A bakery makes bread (profit 3) and cake (profit 5).
# Flour: 2 per bread, 3 per cake, 120 available. Oven hours: 1 per bread, 2.5 per cake, 80 available.
c = [-3, -5]
A = [[2, 3], [1, 2.5]]
b = [120, 80]
res = linprog(c, A_ub=A, b_ub=b, bounds=[(0, None), (0, None)], method="highs")
print("Status:", res.status, res.message)
print("Bread, cake:", [round(v, 4) for v in res.x])
print("Max profit:", round(-res.fun, 4))
print("Slack:", [round(s, 4) for s in res.slack])

# Same with whole items only
r2 = milp(c=np.array(c), constraints=LinearConstraint(np.array(A), ub=b), integrality=np.ones(2),
          bounds=Bounds(0, np.inf))
print("Integer plan:", np.round(r2.x).astype(int).tolist(), "profit:", round(-r2.fun, 4))
