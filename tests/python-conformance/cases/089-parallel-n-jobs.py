from concurrent.futures import ThreadPoolExecutor

from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import cross_val_score

X, y = load_iris(return_X_y=True)
# Models like to "speed things up" with all cores.
forest = RandomForestClassifier(n_estimators=50, random_state=0, n_jobs=-1)
scores = cross_val_score(forest, X, y, cv=5, n_jobs=-1)
print("CV accuracy:", [round(s, 4) for s in scores])


def square(n):
    return n * n


with ThreadPoolExecutor(max_workers=4) as pool:
    print("Squares:", list(pool.map(square, range(8))))
