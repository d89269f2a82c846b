import sympy as sp

x, y, a, b = sp.symbols("x y a b", positive=True)
exprs = [
    (x**2 - 1) / (x - 1),
    sp.sin(x) ** 2 + sp.cos(x) ** 2,
    sp.exp(sp.log(x) + sp.log(y)),
    (a + b) ** 3,
    sp.sqrt(8 * x**4 * y**2),
    1 / (x * (x + 1)),
]
print("simplify:", [sp.simplify(e) for e in exprs[:3]])
print("expand:", sp.expand(exprs[3]))
print("sqrt:", sp.simplify(exprs[4]))
print("apart:", sp.apart(exprs[5]))
print("together:", sp.together(1 / x + 1 / y))
print("trigsimp:", sp.trigsimp(sp.sin(x) * sp.cos(x) * 2))
print("collect:", sp.collect(sp.expand((x + y) ** 2 * x), x))
for e in [exprs[0], sp.Integral(sp.exp(-x**2), (x, 0, sp.oo)), sp.Matrix([[1, x], [y, 2]]), sp.Rational(3, 4) * sp.pi]:
    print("latex:", sp.latex(e))
print(sp.pretty(sp.sqrt(x) / (y + 1), use_unicode=False))
