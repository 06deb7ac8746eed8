// MnemoMemory
