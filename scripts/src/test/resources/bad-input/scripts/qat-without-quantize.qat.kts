experiment("qat-without-quantize") {
    data { synthetic(height = 8, width = 8) }
    qat { epochs = 1 }
}
