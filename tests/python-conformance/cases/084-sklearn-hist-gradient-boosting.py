from sklearn.datasets import make_regression
from sklearn.ensemble import HistGradientBoostingRegressor, GradientBoostingClassifier
from sklearn.metrics import mean_absolute_error, r2_score
from sklearn.model_selection import train_test_split
from sklearn.datasets import load_breast_cancer

X, y = make_regression(n_samples=600, n_features=8, noise=12.0, random_state=4)
X_tr, X_te, y_tr, y_te = train_test_split(X, y, random_state=4)
hgb = HistGradientBoostingRegressor(max_iter=150, learning_rate=0.1, random_state=4).fit(X_tr, y_tr)
pred = hgb.predict(X_te)
print(f"HistGradientBoosting R2 = {r2_score(y_te, pred):.3f}, MAE = {mean_absolute_error(y_te, pred):.2f}")
print("Iterations:", hgb.n_iter_)

Xc, yc = load_breast_cancer(return_X_y=True)
Xc_tr, Xc_te, yc_tr, yc_te = train_test_split(Xc, yc, random_state=4, stratify=yc)
gbc = GradientBoostingClassifier(n_estimators=50, max_depth=2, random_state=4).fit(Xc_tr, yc_tr)
print(f"GradientBoosting accuracy = {gbc.score(Xc_te, yc_te):.4f}")
