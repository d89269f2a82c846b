import numpy as np

prices = np.array([[10.0, 12.5, 9.0], [11.0, 13.0, 8.5], [10.5, 12.0, 9.5], [12.0, 14.0, 10.0]])
weights = np.array([0.5, 0.3, 0.2])
print("Weighted basket:", (prices * weights).sum(axis=1))

col_means = prices.mean(axis=0)
print("Column means:", col_means)
z = (prices - col_means) / prices.std(axis=0)
print("Z-scores:\n", np.round(z, 3))

a = np.arange(1, 5).reshape(4, 1)
b = np.arange(1, 4)
print("Outer via broadcasting:\n", a * b)
points = np.array([[0, 0], [3, 4], [6, 8], [1, 1]])
d = np.sqrt(((points[:, None, :] - points[None, :, :]) ** 2).sum(-1))
print("Distance matrix:\n", np.round(d, 3))
print("Closest pair:", np.unravel_index(np.argmin(d + np.eye(4) * 1e9), d.shape))
mask = prices > 11
print("Prices above 11:", prices[mask])
print("Clipped:\n", np.clip(prices, 9.5, 12.5))
print("Shapes:", (a * b).shape, np.broadcast_shapes((4, 1), (3,)))
