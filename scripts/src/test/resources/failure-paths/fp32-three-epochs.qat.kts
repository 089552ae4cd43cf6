// Three epochs of FP32 training on generated data, one checkpoint per epoch; FailurePathsSpec runs
// it on a disk with room for one checkpoint.
experiment("small-disk") {
    data { synthetic(trainSize = 128, testSize = 32, height = 8, width = 8, channels = 1, classes = 3, noise = 0.5); batchSize = 32 }
    model { tinyMbv2() }
    pretrain { epochs = 3; optimizer = sgd(lr = cosine(0.05, 0.0)) }
}
