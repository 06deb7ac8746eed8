// MnemoEngine
