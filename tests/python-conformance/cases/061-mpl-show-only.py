import matplotlib.pyplot as plt
import numpy as np

# The way many chat answers end: build the chart and call plt.show().
x = np.linspace(0, 2 * np.pi, 200)
plt.figure(figsize=(6, 4))
plt.plot(x, np.sin(x), label="sin")
plt.plot(x, np.cos(x), label="cos")
plt.title("Sine and cosine")
plt.legend()
plt.show()
print("max of sin:", round(float(np.sin(x).max()), 4))
