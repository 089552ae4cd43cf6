// The long variant of the reference W3A3 runs: LSQ QAT with oscillation dampening for 10 epochs instead of 3, where an EMA
// of momentum 0.001 has time to build up (issue 3); otherwise as w3a3-dampen.qat.kts.
//   ./kqat run examples/reference/w3a3-dampen-long.qat.kts
experiment("reference-w3a3-dampen-long") {
    referenceTask()
    referenceQat(bits = 3, epochs = 10)
    referenceDampening()
}
