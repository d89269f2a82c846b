import numpy as np

features = np.arange(12).reshape(4, 3)
weights = np.array([0.2, 0.5, 0.3, 0.1])
print("features:", features.shape, "weights:", weights.shape)
scores = features @ weights
print(scores)
