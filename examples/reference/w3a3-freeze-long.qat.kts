// The long variant of the reference W3A3 runs: LSQ QAT with iterative freezing for 10 epochs instead of 3, where an EMA
// of momentum 0.001 has time to build up (issue 3); otherwise as w3a3-freeze.qat.kts.
//   ./kqat run examples/reference/w3a3-freeze-long.qat.kts
experiment("reference-w3a3-freeze-long") {
    referenceTask()
    referenceQat(bits = 3, epochs = 10)
    referenceFreezing(bits = 3)
}
