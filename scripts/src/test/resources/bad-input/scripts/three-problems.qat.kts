experiment("three-problems") {
    data { synthetic(height = 8, width = 8); batchSize = 0 }
    model { tinyMbv2() }
    pretrain { epochs = 0 }
    quantize { weights { bits = 1 } }
    qat { epochs = 1 }
}
