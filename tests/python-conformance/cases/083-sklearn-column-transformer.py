import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

df = pd.read_csv("survey.csv", na_values=["N/A"])
df["happy"] = (df["satisfaction"] >= 4).astype(int)
X = df[["age", "city", "income"]]
y = df["happy"]

pre = ColumnTransformer([
    ("num", Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]), ["age", "income"]),
    ("cat", Pipeline([("impute", SimpleImputer(strategy="constant", fill_value="unknown")),
                      ("onehot", OneHotEncoder(handle_unknown="ignore"))]), ["city"]),
])
clf = Pipeline([("pre", pre), ("model", LogisticRegression(max_iter=500))])
X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, random_state=0)
clf.fit(X_tr, y_tr)
print("Features:", list(clf.named_steps["pre"].get_feature_names_out()))
print("Train accuracy:", round(clf.score(X_tr, y_tr), 3), "test accuracy:", round(clf.score(X_te, y_te), 3))
print("Coefficients:", clf.named_steps["model"].coef_.round(2).tolist())
new = pd.DataFrame({"age": [30, None], "city": ["Paris", "Lisbon"], "income": [50000, None]})
print("Predictions for new people:", clf.predict(new).tolist())
