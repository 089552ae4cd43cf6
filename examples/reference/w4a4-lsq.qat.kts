// benchmark.md reference task: W4A4 plain LSQ QAT, 3 epochs, oscillations tracked,
// BN re-estimation before each evaluation; from the cached FP32 checkpoint (trained first if the
// cache has none).
//   ./kqat run examples/reference/w4a4-lsq.qat.kts
experiment("reference-w4a4-lsq") {
    referenceTask()
    referenceQat(bits = 4)
}
