import numpy as np

# Solve the system 3x + 2y - z = 1, 2x - 2y + 4z = -2, -x + 0.5y - z = 0
A = np.array([[3, 2, -1], [2, -2, 4], [-1, 0.5, -1]], dtype=float)
b = np.array([1, -2, 0], dtype=float)
x = np.linalg.solve(A, b)
print("Solution:", np.round(x, 6))
print("Check A @ x == b:", np.allclose(A @ x, b))
print("Determinant:", round(np.linalg.det(A), 6))
print("Inverse:\n", np.round(np.linalg.inv(A), 4))

S = np.array([[4.0, 1.0, 2.0], [1.0, 3.0, 0.0], [2.0, 0.0, 5.0]])
vals = np.linalg.eigvalsh(S)
print("Eigenvalues:", np.round(vals, 5))
print("Rank:", np.linalg.matrix_rank(S), "Condition number:", round(np.linalg.cond(S), 4))
print("Norms:", round(np.linalg.norm(S), 5), round(np.linalg.norm(S, 1), 5))
L = np.linalg.cholesky(S)
print("Cholesky L:\n", np.round(L, 4))
sv = np.linalg.svd(np.arange(12, dtype=float).reshape(4, 3), compute_uv=False)
print("Singular values:", np.round(sv, 5))
coef, res, rank, _ = np.linalg.lstsq(np.c_[np.ones(5), np.arange(5)], [1.1, 2.9, 5.2, 7.1, 8.8], rcond=None)
print("Least squares fit:", np.round(coef, 5))
