import numpy as np
from scipy import integrate

val, err = integrate.quad(lambda x: np.exp(-(x**2)), -np.inf, np.inf)
print(f"Gaussian integral = {val:.10f} (sqrt(pi) = {np.sqrt(np.pi):.10f})")
val2, _ = integrate.quad(lambda x: x**2 * np.sin(x), 0, np.pi)
print(f"∫ x² sin x dx on [0, π] = {val2:.8f}")
dbl, _ = integrate.dblquad(lambda y, x: x * y, 0, 1, 0, lambda x: x)
print(f"Double integral = {dbl:.8f}")

x = np.linspace(0, 2, 21)
print(f"Trapezoid = {integrate.trapezoid(x**3, x):.6f}, Simpson = {integrate.simpson(x**3, x=x):.6f}")


def sir(t, y, beta=0.3, gamma=0.1):
    s, i, r = y
    return [-beta * s * i, beta * s * i - gamma * i, gamma * i]


sol = integrate.solve_ivp(sir, (0, 160), [0.99, 0.01, 0.0], t_eval=[0, 40, 80, 120, 160], rtol=1e-8, atol=1e-10)
print("SIR status:", sol.status)
for t, s, i, r in zip(sol.t, *sol.y):
    print(f"  day {t:5.0f}: S={s:.4f} I={i:.4f} R={r:.4f}")
y = integrate.odeint(lambda y, t: -0.5 * y, 2.0, [0, 1, 2])
print("odeint decay:", np.round(y.ravel(), 5))
