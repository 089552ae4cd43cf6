// The bad-input corpus's base experiment: seconds of FP32 + W4A4 QAT on generated 8x8 images.
// Cases change one field with --set, or point the data at a damaged file through args[0].
experiment("bad-input-base") {
    data { synthetic(trainSize = 64, testSize = 32, height = 8, width = 8, channels = 1, classes = 3, noise = 0.5); batchSize = 32 }
    model { tinyMbv2() }
    pretrain { epochs = 1; optimizer = sgd(lr = cosine(0.05, 0.0)) }
    quantize { weights { bits = 4 }; activations { bits = 4 } }
    qat { epochs = 1; optimizer = sgd(lr = cosine(0.01, 0.0)) }
    oscillations { track() }
    evaluate { bnReestimation(batches = 1) }
}
