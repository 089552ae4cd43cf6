experiment("missing-dataset") {
    data {
        fashionMnist("/nonexistent/fashion-mnist")
    }
    pretrain { epochs = 1 }
}
