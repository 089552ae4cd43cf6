experiment("unknown-layer") {
    data { synthetic(height = 8, width = 8) }
    model { tinyMbv2() }
    quantize {
        weights { bits = 4 }
        activations { bits = 4 }
        layer("block9/dw") { weightBits = 8 }
    }
    qat { epochs = 1 }
}
