// benchmark.md reference task: W3A3 LSQ QAT with iterative freezing (variant c), 3 epochs, oscillations tracked,
// BN re-estimation before each evaluation; from the cached FP32 checkpoint (trained first if the
// cache has none).
//   ./kqat run examples/reference/w3a3-freeze.qat.kts
experiment("reference-w3a3-freeze") {
    referenceTask()
    referenceQat(bits = 3)
    referenceFreezing(bits = 3)
}
