import numpy as np
from scipy import interpolate

x = np.array([0, 1, 2, 3, 4, 5])
y = np.array([0.0, 0.8, 0.9, 0.1, -0.8, -1.0])
xs = np.array([0.5, 1.5, 2.5, 4.25])

lin = np.interp(xs, x, y)
print("linear:", np.round(lin, 5))
cs = interpolate.CubicSpline(x, y)
print("cubic spline:", np.round(cs(xs), 5))
print("spline derivative at 2:", round(float(cs(2, 1)), 5))
pchip = interpolate.PchipInterpolator(x, y)
print("pchip:", np.round(pchip(xs), 5))
f = interpolate.interp1d(x, y, kind="quadratic")
print("interp1d quadratic:", np.round(f(xs), 5))
akima = interpolate.Akima1DInterpolator(x, y)
print("akima:", np.round(akima(xs), 5))
tck = interpolate.splrep(x, y, s=0.05)
print("smoothing spline:", np.round(interpolate.splev(xs, tck), 4))
gx, gy = np.mgrid[0:1:3j, 0:1:3j]
pts = np.array([[0, 0], [1, 0], [0, 1], [1, 1]])
vals = np.array([1.0, 2.0, 3.0, 4.0])
print("griddata:\n", np.round(interpolate.griddata(pts, vals, (gx, gy), method="linear"), 3))
