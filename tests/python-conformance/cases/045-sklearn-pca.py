import numpy as np
from sklearn.datasets import load_iris
from sklearn.decomposition import PCA
from sklearn.preprocessing import StandardScaler

iris = load_iris()
Xs = StandardScaler().fit_transform(iris.data)
pca = PCA(n_components=2)
Z = pca.fit_transform(Xs)
print("Explained variance ratio:", np.round(pca.explained_variance_ratio_, 5))
print("Cumulative:", round(pca.explained_variance_ratio_.sum(), 5))
print("Components:\n", np.round(pca.components_, 4))
for k, name in enumerate(iris.target_names):
    c = Z[iris.target == k].mean(axis=0)
    print(f"{name:10s} centroid in PC space: ({c[0]:+.3f}, {c[1]:+.3f})")
full = PCA().fit(Xs)
n95 = int(np.searchsorted(np.cumsum(full.explained_variance_ratio_), 0.95) + 1)
print("Components for 95% variance:", n95)
