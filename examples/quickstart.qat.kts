// Quickstart: tiny-MBV2 on Fashion-MNIST, a short FP32 pre-training, then W4A4 LSQ QAT.
// Run it with:  ./kqat run examples/quickstart.qat.kts
// A few minutes on 2 CPU cores. Make it shorter with e.g. --set data.trainLimit=5000.

experiment("quickstart") {
    seed = 0
    data {
        fashionMnist()          // /usr/share/datasets/fashion-mnist (apt-get install dataset-fashion-mnist)
        batchSize = 128
        trainLimit = 20_000     // a third of the training set keeps this quick
    }
    model { tinyMbv2() }
    pretrain {
        epochs = 2
        optimizer = sgd(lr = cosine(0.05, 0.0), momentum = 0.9, weightDecay = 5e-5)
    }
    quantize {
        weights { bits = 4 }        // LSQ step sizes, MSE range init, per tensor
        activations { bits = 4 }
        firstLastBits = 8           // first and last layer at 8 bits; the image stays FP
    }
    qat {
        epochs = 1
        optimizer = sgd(lr = cosine(0.01, 0.0), momentum = 0.9, weightDecay = 5e-5)
        quantizerOptimizer = adam(lr = constant(1e-5))
    }
}
