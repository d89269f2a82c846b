import numpy as np
from scipy import signal

fs = 200
t = np.arange(0, 3, 1 / fs)
rng = np.random.default_rng(12)
clean = np.sin(2 * np.pi * 2 * t) + 0.5 * np.sin(2 * np.pi * 7 * t)
noisy = clean + 0.4 * rng.normal(size=t.size) + 0.3 * np.sin(2 * np.pi * 60 * t)

b, a = signal.butter(4, 15, btype="low", fs=fs)
filtered = signal.filtfilt(b, a, noisy)
print(f"RMS error noisy: {np.sqrt(np.mean((noisy - clean) ** 2)):.3f}, filtered: {np.sqrt(np.mean((filtered - clean) ** 2)):.3f}")
peaks, props = signal.find_peaks(filtered, height=0.8, distance=fs // 4)
print("Peaks found:", len(peaks), "first at t =", np.round(t[peaks[:4]], 3).tolist())
smooth = signal.savgol_filter(noisy, window_length=21, polyorder=3)
print(f"Savitzky-Golay RMS error: {np.sqrt(np.mean((smooth - clean) ** 2)):.3f}")
f, pxx = signal.welch(noisy, fs=fs, nperseg=256)
top = f[np.argsort(pxx)[-3:][::-1]]
print("Strongest frequencies (Hz):", np.round(np.sort(top), 2).tolist())
print("Detrended mean ~0:", abs(signal.detrend(noisy + 0.5 * t).mean()) < 1e-9)
