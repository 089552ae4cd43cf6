// Trains sanely for one epoch, then the learning rate jumps by 1e30 and the loss leaves the floats.
experiment("diverges") {
    data { synthetic(trainSize = 128, testSize = 32, height = 8, width = 8, channels = 1, classes = 3, noise = 0.5); batchSize = 32 }
    model { tinyMbv2() }
    pretrain { epochs = 2; optimizer = sgd(lr = step(0.01, 1e30, 0.5)) }
}
