import numpy as np
import pandas as pd
from sklearn.linear_model import LinearRegression

df = pd.DataFrame({"x": [1.0, 2.0, np.nan, 4.0, 5.0], "y": [2.1, 3.9, 6.2, 8.1, 9.8]})
print(df.isna().sum().to_dict())
model = LinearRegression()
model.fit(df[["x"]], df["y"])
print(model.coef_)
