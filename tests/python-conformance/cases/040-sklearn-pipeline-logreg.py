from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

X, y = load_breast_cancer(return_X_y=True, as_frame=True)
print("Data:", X.shape, "classes:", y.value_counts().to_dict())
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=42, stratify=y)

model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
model.fit(X_train, y_train)
pred = model.predict(X_test)
proba = model.predict_proba(X_test)[:, 1]
print(f"Accuracy: {accuracy_score(y_test, pred):.4f}")
print(f"ROC AUC: {roc_auc_score(y_test, proba):.4f}")

coefs = model.named_steps["logisticregression"].coef_[0]
top = sorted(zip(X.columns, coefs), key=lambda t: abs(t[1]), reverse=True)[:5]
print("Most influential features:")
for name, c in top:
    print(f"  {name:25s} {c:+.2f}")
