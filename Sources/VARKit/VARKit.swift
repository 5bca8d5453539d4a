// VARKit is the library a Swift program imports: the generation pipeline (Pipeline/) on top of the engine
// (VARCore: tensors and kernels, checkpoints, the VQVAE, the transformer, sampling and CoDe, image I/O).
// Importing VARKit makes the engine's public types visible too.
@_exported import VARCore
