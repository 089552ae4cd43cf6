// QAT of tiny-MBV2 starting from the weights given as the script's first argument.
experiment("bad-input-init-from") {
    data { synthetic(trainSize = 64, testSize = 32, height = 8, width = 8, channels = 1, classes = 3, noise = 0.5); batchSize = 32 }
    model { tinyMbv2() }
    initFrom = args[0]
    quantize { weights { bits = 4 }; activations { bits = 4 } }
    qat { epochs = 1 }
}
