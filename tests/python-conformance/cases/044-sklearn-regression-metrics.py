import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.linear_model import LinearRegression, Ridge, Lasso
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score
from sklearn.model_selection import train_test_split

X, y = load_diabetes(return_X_y=True)
X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, random_state=5)

for model in (LinearRegression(), Ridge(alpha=1.0), Lasso(alpha=0.1)):
    model.fit(X_tr, y_tr)
    pred = model.predict(X_te)
    rmse = np.sqrt(mean_squared_error(y_te, pred))
    print(f"{type(model).__name__:16s} R2={r2_score(y_te, pred):.4f} MAE={mean_absolute_error(y_te, pred):.3f} RMSE={rmse:.3f}")

lr = LinearRegression().fit(X_tr, y_tr)
print("Intercept:", round(lr.intercept_, 3))
print("Coefficients:", np.round(lr.coef_, 2).tolist())
lasso = Lasso(alpha=0.1).fit(X_tr, y_tr)
print("Lasso zeroed features:", int(np.sum(lasso.coef_ == 0)))
