// benchmark.md reference task, FP32 pre-training: tiny-MBV2 on Fashion-MNIST, 8 epochs.
// The result is cached (~/.cache/kqat/pretrained, or $KQAT_CACHE) for the QAT scripts beside this one.
//   ./kqat run examples/reference/fp32.qat.kts
experiment("reference-fp32") {
    referenceTask()
}
