experiment("unresolved") {
    model {
        mobilenetV9()
    }
    pretrain { epochs = 1 }
}
