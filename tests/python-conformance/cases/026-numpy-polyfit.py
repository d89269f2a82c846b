import numpy as np

x = np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], dtype=float)
y = np.array([1.2, 2.8, 7.1, 13.2, 20.8, 31.5, 43.0, 56.9, 72.4, 90.1])

for deg in (1, 2, 3):
    coeffs = np.polyfit(x, y, deg)
    fit = np.polyval(coeffs, x)
    ss_res = ((y - fit) ** 2).sum()
    r2 = 1 - ss_res / ((y - y.mean()) ** 2).sum()
    print(f"degree {deg}: coefficients {np.round(coeffs, 4).tolist()}, R^2 = {r2:.5f}")

p = np.poly1d(np.polyfit(x, y, 2))
print("Quadratic model:", np.round(p.coeffs, 4))
print("Prediction at x=12:", round(p(12), 3))
print("Roots:", np.round(np.sort(p.roots.real), 4))
print("Derivative at 5:", round(p.deriv()(5), 4))
P = np.polynomial.Polynomial.fit(x, y, 2).convert()
print("Polynomial.fit coefficients (low to high):", np.round(P.coef, 4))
