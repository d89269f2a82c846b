import pandas as pd
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split

iris = load_iris(as_frame=True)
X, y = iris.data, iris.target
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)

forest = RandomForestClassifier(n_estimators=100, max_depth=4, random_state=0)
forest.fit(X_train, y_train)
print("Test accuracy:", round(accuracy_score(y_test, forest.predict(X_test)), 4))
imp = pd.Series(forest.feature_importances_, index=X.columns).sort_values(ascending=False)
print("Feature importances:")
print(imp.round(3).to_string())
sample = pd.DataFrame([[5.9, 3.0, 5.1, 1.8], [5.0, 3.4, 1.5, 0.2]], columns=X.columns)
print("Predictions:", [iris.target_names[i] for i in forest.predict(sample)])
print("Probabilities:", forest.predict_proba(sample).round(2).tolist())
print("Trees:", len(forest.estimators_), "max depth used:", max(t.get_depth() for t in forest.estimators_))
