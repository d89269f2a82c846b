import sympy as sp

x, n = sp.symbols("x n")
f = x**3 * sp.exp(-x) + sp.sin(x) ** 2
print("f'(x) =", sp.diff(f, x))
print("f''(0) =", sp.diff(f, x, 2).subs(x, 0))
print("∫ f dx =", sp.integrate(f, x))
print("∫_0^∞ x³e^-x dx =", sp.integrate(x**3 * sp.exp(-x), (x, 0, sp.oo)))
print("∫ 1/(1+x²) from -oo to oo =", sp.integrate(1 / (1 + x**2), (x, -sp.oo, sp.oo)))
print("lim sin(x)/x =", sp.limit(sp.sin(x) / x, x, 0))
print("lim (1+1/n)^n =", sp.limit((1 + 1 / n) ** n, n, sp.oo))
print("Taylor of cos:", sp.series(sp.cos(x), x, 0, 8))
print("Sum 1/n² =", sp.summation(1 / n**2, (n, 1, sp.oo)))
g = x**4 - 8 * x**2
crit = sp.solve(sp.diff(g, x), x)
print("Critical points:", crit, "values:", [g.subs(x, c) for c in crit])
print("Numeric:", sp.N(sp.integrate(sp.exp(-x**2), (x, 0, 1)), 15))
