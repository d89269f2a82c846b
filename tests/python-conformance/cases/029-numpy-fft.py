import numpy as np

fs = 100  # Hz
t = np.arange(0, 2, 1 / fs)
signal = 2.0 * np.sin(2 * np.pi * 5 * t) + 0.8 * np.sin(2 * np.pi * 12 * t) + 0.3 * np.cos(2 * np.pi * 30 * t)
spectrum = np.fft.rfft(signal)
freqs = np.fft.rfftfreq(len(signal), d=1 / fs)
amplitude = np.abs(spectrum) * 2 / len(signal)
top = np.argsort(amplitude)[-3:][::-1]
for i in top:
    print(f"{freqs[i]:5.1f} Hz  amplitude {amplitude[i]:.3f}")
print("Samples:", len(signal), "bins:", len(freqs))
recon = np.fft.irfft(spectrum, n=len(signal))
print("Reconstruction error < 1e-9:", np.max(np.abs(recon - signal)) < 1e-9)
kernel = np.ones(5) / 5
smooth = np.convolve(signal, kernel, mode="same")
print("Smoothed first values:", np.round(smooth[:5], 4))
