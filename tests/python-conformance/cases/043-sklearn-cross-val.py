import numpy as np
from sklearn.datasets import load_wine
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score, cross_validate
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

X, y = load_wine(return_X_y=True)
cv = StratifiedKFold(n_splits=5, shuffle=True, random_state=1)
models = {
    "knn (unscaled)": KNeighborsClassifier(n_neighbors=5),
    "knn (scaled)": Pipeline([("scale", StandardScaler()), ("knn", KNeighborsClassifier(n_neighbors=5))]),
    "tree": DecisionTreeClassifier(max_depth=3, random_state=1),
}
for name, model in models.items():
    scores = cross_val_score(model, X, y, cv=cv)
    print(f"{name:15s} folds={np.round(scores, 3).tolist()} mean={scores.mean():.4f} std={scores.std():.4f}")

res = cross_validate(models["knn (scaled)"], X, y, cv=KFold(4, shuffle=True, random_state=2),
                     scoring=["accuracy", "f1_macro"])
print("accuracy:", np.round(res["test_accuracy"], 4).tolist())
print("f1_macro:", np.round(res["test_f1_macro"], 4).tolist())
