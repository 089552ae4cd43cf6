experiment("negative-lr") {
    data { synthetic(height = 8, width = 8) }
    pretrain {
        epochs = 1
        optimizer = sgd(lr = cosine(-0.1, 0.0))
    }
}
