import pandas as pd

df = pd.DataFrame({
    "Model": ["Baseline", "Ridge", "Random forest", "Gradient boosting"],
    "MAE": [12.413, 9.872, 7.1049, 6.8801],
    "R2": [0.41, 0.6312, 0.7815, 0.79],
    "Train s": [0.1, 0.4, 3.2, 5.75],
})
print(df.to_markdown(index=False, floatfmt=".3f"))
print()
print(df.set_index("Model").to_markdown(tablefmt="grid"))
print()
print(df.to_csv(index=False))
print(df.to_json(orient="records"))
