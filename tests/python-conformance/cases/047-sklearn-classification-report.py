from sklearn.datasets import load_digits
from sklearn.metrics import classification_report, confusion_matrix, ConfusionMatrixDisplay
from sklearn.model_selection import train_test_split
from sklearn.naive_bayes import GaussianNB
from sklearn.tree import DecisionTreeClassifier

X, y = load_digits(return_X_y=True)
X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, random_state=3)
tree = DecisionTreeClassifier(max_depth=8, random_state=3).fit(X_tr, y_tr)
pred = tree.predict(X_te)
print(classification_report(y_te, pred, digits=3))
print(confusion_matrix(y_te, pred))
nb = GaussianNB().fit(X_tr, y_tr)
print("Naive Bayes accuracy:", round(nb.score(X_te, y_te), 4))
