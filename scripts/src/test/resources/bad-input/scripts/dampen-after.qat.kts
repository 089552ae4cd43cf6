experiment("dampen-after") {
    data { synthetic(height = 8, width = 8) }
    quantize { weights { bits = 3 }; activations { bits = 3 } }
    qat { epochs = 1 }
    oscillations {
        dampen(weight = cosine(0.0, 0.1), after = 1.5)
    }
}
