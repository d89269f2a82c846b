import matplotlib.pyplot as plt
import seaborn as sns
from PIL import Image
from sklearn.datasets import load_iris

iris = load_iris(as_frame=True).frame
corr = iris.drop(columns="target").corr().round(2)
print(corr)

plt.figure(figsize=(6, 5), dpi=100)
sns.heatmap(corr, annot=True, fmt=".2f", cmap="coolwarm", vmin=-1, vmax=1, square=True)
plt.title("Iris feature correlations")
plt.savefig("corr_heatmap.png")
plt.close()

g = sns.pairplot(iris, hue="target", vars=["sepal length (cm)", "petal length (cm)"], height=2)
g.savefig("pairplot.png", dpi=60)
for name in ["corr_heatmap.png", "pairplot.png"]:
    with Image.open(name) as im:
        print(name, im.format, im.size)
