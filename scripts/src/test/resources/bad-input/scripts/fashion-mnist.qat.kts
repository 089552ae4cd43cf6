// Fashion-MNIST read from the folder given as the script's first argument.
experiment("bad-input-fashion-mnist") {
    data { fashionMnist(args[0]); batchSize = 16 }
    model { tinyMbv2() }
    pretrain { epochs = 1; optimizer = sgd(lr = cosine(0.05, 0.0)) }
}
