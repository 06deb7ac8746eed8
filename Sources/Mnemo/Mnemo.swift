// The umbrella module: `import Mnemo` gives the whole public API.
@_exported import MnemoTensor
@_exported import MnemoFormats
@_exported import MnemoTokenizers
@_exported import MnemoModels
@_exported import MnemoMemory
@_exported import MnemoEngine
