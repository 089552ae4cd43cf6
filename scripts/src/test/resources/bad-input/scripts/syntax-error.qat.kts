experiment("syntax-error") {
    data {
        batchSize =
    }
}
