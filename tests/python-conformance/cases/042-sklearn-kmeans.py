import numpy as np
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs
from sklearn.metrics import silhouette_score

X, true = make_blobs(n_samples=300, centers=4, cluster_std=0.8, random_state=7)
print("Data shape:", X.shape)

for k in range(2, 7):
    km = KMeans(n_clusters=k, n_init=10, random_state=7).fit(X)
    print(f"k={k}: inertia={km.inertia_:.1f}, silhouette={silhouette_score(X, km.labels_):.4f}")

best = KMeans(n_clusters=4, n_init=10, random_state=7).fit(X)
order = np.argsort(best.cluster_centers_[:, 0])
print("Centers (sorted by x):")
for c in best.cluster_centers_[order]:
    print(f"  ({c[0]:7.3f}, {c[1]:7.3f})")
print("Cluster sizes:", sorted(np.bincount(best.labels_).tolist()))
print("New point goes to a cluster of size:", np.bincount(best.labels_)[best.predict([[0.0, 0.0]])[0]])
