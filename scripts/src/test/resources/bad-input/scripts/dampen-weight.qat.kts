experiment("dampen-weight") {
    data { synthetic(height = 8, width = 8) }
    quantize { weights { bits = 3 }; activations { bits = 3 } }
    qat { epochs = 1 }
    oscillations {
        dampen(weight = constant(-1.0))
    }
}
