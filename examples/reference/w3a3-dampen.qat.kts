// benchmark.md reference task: W3A3 LSQ QAT with oscillation dampening (variant b), 3 epochs, oscillations tracked,
// BN re-estimation before each evaluation; from the cached FP32 checkpoint (trained first if the
// cache has none).
//   ./kqat run examples/reference/w3a3-dampen.qat.kts
experiment("reference-w3a3-dampen") {
    referenceTask()
    referenceQat(bits = 3)
    referenceDampening()
}
