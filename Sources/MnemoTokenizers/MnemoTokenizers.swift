// MnemoTokenizers
