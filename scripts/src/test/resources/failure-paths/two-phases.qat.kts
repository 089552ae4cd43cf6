// A short real run with every piece of per-phase state: FP32 pre-training, then W3A3 QAT with
// oscillation tracking, dampening, freezing and BN re-estimation. FailurePathsSpec kills it and resumes it.
experiment("failure-paths") {
    seed = 3
    data { synthetic(trainSize = 256, testSize = 64, height = 12, width = 12, channels = 1, classes = 4, noise = 0.8); batchSize = 32 }
    model { tinyMbv2() }
    pretrain { epochs = 2; optimizer = sgd(lr = cosine(0.05, 0.0), weightDecay = 5e-5) }
    quantize { weights { bits = 3 }; activations { bits = 3 } }
    qat {
        epochs = 4
        optimizer = sgd(lr = cosine(0.02, 0.0), weightDecay = 2.5e-5)
        quantizerOptimizer = adam(lr = constant(1e-3))
    }
    oscillations {
        track(threshold = 0.005, momentum = 0.05)
        dampen(weight = cosine(0.0, 0.1))
        freeze(threshold = constant(0.02), after = 0.25)
    }
    evaluate { bnReestimation(batches = 2) }
}
