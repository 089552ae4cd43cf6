// Another experiment than base.qat.kts (name and QAT bits differ).
experiment("bad-input-other") {
    data { synthetic(trainSize = 64, testSize = 32, height = 8, width = 8, channels = 1, classes = 3, noise = 0.5); batchSize = 32 }
    model { tinyMbv2() }
    pretrain { epochs = 1; optimizer = sgd(lr = cosine(0.05, 0.0)) }
    quantize { weights { bits = 3 }; activations { bits = 3 } }
    qat { epochs = 1; optimizer = sgd(lr = cosine(0.01, 0.0)) }
}
