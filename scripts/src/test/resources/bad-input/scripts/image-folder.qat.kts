// An image folder given as the script's first argument, at 8x8 pixels.
experiment("bad-input-image-folder") {
    data { imageFolder(args[0], imageSize = 8, resizeSize = 8); batchSize = 2 }
    model { tinyMbv2() }
    pretrain { epochs = 1; optimizer = sgd(lr = cosine(0.05, 0.0)) }
}
