// MnemoModels
