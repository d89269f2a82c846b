from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

X, y = load_breast_cancer(return_X_y=True)
X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, random_state=11, stratify=y)
pipe = Pipeline([("scale", StandardScaler()), ("svc", SVC())])
grid = GridSearchCV(
    pipe,
    {"svc__C": [0.1, 1, 10], "svc__kernel": ["linear", "rbf"]},
    cv=StratifiedKFold(5, shuffle=True, random_state=11),
    scoring="accuracy",
)
grid.fit(X_tr, y_tr)
print("Best params:", grid.best_params_)
print(f"Best CV accuracy: {grid.best_score_:.4f}")
print(f"Test accuracy: {grid.score(X_te, y_te):.4f}")
for params, mean in zip(grid.cv_results_["params"], grid.cv_results_["mean_test_score"]):
    print(f"  C={params['svc__C']:<4} {params['svc__kernel']:6s} {mean:.4f}")
