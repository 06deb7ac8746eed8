// MnemoFormats
