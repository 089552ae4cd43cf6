// benchmark.md reference task: W4A4 LSQ QAT with iterative freezing (variant c), 3 epochs, oscillations tracked,
// BN re-estimation before each evaluation; from the cached FP32 checkpoint (trained first if the
// cache has none).
//   ./kqat run examples/reference/w4a4-freeze.qat.kts
experiment("reference-w4a4-freeze") {
    referenceTask()
    referenceQat(bits = 4)
    referenceFreezing(bits = 4)
}
