experiment("freeze-threshold") {
    data { synthetic(height = 8, width = 8) }
    quantize { weights { bits = 3 }; activations { bits = 3 } }
    qat { epochs = 1 }
    oscillations {
        freeze(threshold = constant(0.0))
    }
}
