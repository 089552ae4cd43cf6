// benchmark.md reference task: W3A3 plain LSQ QAT, 3 epochs, oscillations tracked,
// BN re-estimation before each evaluation; from the cached FP32 checkpoint (trained first if the
// cache has none).
//   ./kqat run examples/reference/w3a3-lsq.qat.kts
experiment("reference-w3a3-lsq") {
    referenceTask()
    referenceQat(bits = 3)
}
