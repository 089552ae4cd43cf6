experiment("type-mismatch") {
    data {
        batchSize = "large"
    }
    pretrain { epochs = 1 }
}
