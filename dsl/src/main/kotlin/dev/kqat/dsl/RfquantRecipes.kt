package dev.kqat.dsl

/**
 * Building blocks of `examples/rfquant/`: RFQuant's published supernet setup (algorithms.md §2.7,
 * §2.11) on ImageNet, and its run on benchmark.md's Fashion-MNIST reference task.
 */

/**
 * RFQuant on the ImageNet folder of `KQAT_IMAGENET` (random resized crop 224 + flip; resize 256 +
 * centre crop 224), from the FP32 weights of `KQAT_FP32_WEIGHTS`: for ResNet18 a kqat checkpoint folder
 * (ImageNet mean/std inputs); for MobileNetV2 Keras' ImageNet weights (`.h5`) or a kqat checkpoint trained
 * alike (inputs scaled to [-1, 1], BN epsilon 1e-3, as [paperMobileNetV2]). 150 epochs of max + 3
 * random subnets at batch 512 (the reference's 4 GPUs × 128), SGD Nesterov 0.9, lr 0.04 after 5 warm-up
 * epochs, cosine to 1e-5, decay 2.5e-5 on convolution kernels; step sizes by Adam 1e-5 cosine to 0; IDM
 * 0.01, the bit-width scheduler, EMA 0.9997, 55 BN-calibration batches; candidates 6..2 (depth-wise
 * from 3), first and last layers at 8 bits. Label smoothing 0.1 for MobileNetV2, none for ResNet18.
 * Then the greedy search at the reference's BitOPs budget ([gBitOps]: 5.58 MobileNetV2, 33.9 ResNet18).
 */
fun ExperimentBuilder.rfquantImageNet(resnet18: Boolean, gBitOps: Double) {
    val images = PaperRecipes.input("imagenet", "the ImageNet folder with train/ and val/")
    data {
        if (resnet18) {
            imageFolder(images, imageSize = 224, resizeSize = 256)
        } else {
            imageFolder(images, imageSize = 224, resizeSize = 256, mean = PaperRecipes.KERAS_MEAN, std = PaperRecipes.KERAS_STD)
        }
        batchSize = 512
    }
    model { if (resnet18) resnet18() else mobilenetV2(bnEpsilon = 1e-3) }
    initFrom = PaperRecipes.input("fp32_weights",
        if (resnet18) "FP32 ResNet18 weights (kqat checkpoint folder)" else "FP32 MobileNetV2 weights (Keras .h5 or kqat checkpoint folder)")
    mixedPrecision {
        epochs = 150
        optimizer = sgd(lr = warmup(5.0 / 150, cosine(0.04, 1e-5)), momentum = 0.9, weightDecay = 2.5e-5, nesterov = true)
        quantizerOptimizer = adam(lr = cosine(1e-5, 0.0))
        labelSmoothing = if (resnet18) 0.0 else 0.1
        candidates(6 downTo 2)
        randomSubnets = 3
        idm(0.01)
        bitScheduler()
        ema(0.9997)
    }
    search {
        bitops(Budget(gBitOps.toString()))
        batchSize = if (resnet18) 256 else 512
    }
}

/**
 * RFQuant on benchmark.md's reference task: one supernet from the cached FP32 tiny-MBV2, [epochs] of
 * max + 3 random subnets at batch 128, SGD Nesterov 0.9 lr 0.01 cosine to 0 (the 3-epoch W4A4 run's
 * scale), step sizes by Adam 1e-3, IDM 0.01, the bit-width scheduler (its 150 reference epochs mapped onto
 * the run), EMA 0.99 (the reference's 0.9997 averages over ~3,300 of its 375,000 steps; over this run's
 * 937 steps 0.999 still kept 39 % of the FP32 start in the average, and uniform W3A3 tested 0.8396 with it
 * against 0.9004 for the trained weights themselves), 55
 * BN-calibration batches; uniform subnets 2..6 evaluated; searched at the BitOPs of uniform W3A3, W4A4
 * and W5A5, each search starting at its budget's uniform level and scoring on one batch of 1,024 per
 * greedy step (not the reference's start at 5 bits and batch of 64, which stayed 1.8–2 points under uniform
 * W3A3 here; docs/benchmarks.md), and filling the budget once under it (not the reference's either: its
 * first configuration under the budget leaves 1–3 % of it unspent, and over five BN calibrations on four
 * supernets those searches stayed 0.16 points under uniform W3A3 where filled ones were level, +0.01),
 * each compared with its uniform subnet over those five calibrations too. 3 epochs: with 2, no search
 * reached uniform W3A3 either.
 */
fun ExperimentBuilder.referenceSupernet(epochs: Int = 3) {
    mixedPrecision {
        this.epochs = epochs
        optimizer = sgd(lr = cosine(0.01, 0.0), momentum = 0.9, weightDecay = 2.5e-5, nesterov = true)
        quantizerOptimizer = adam(lr = cosine(1e-3, 0.0))
        candidates(6 downTo 2)
        idm(0.01)
        bitScheduler()
        ema(0.99)
        evaluateUniform = listOf(2, 3, 4, 5, 6)
    }
    search {
        bitops(uniform(3), uniform(4), uniform(5))
        batchSize = 1024
        startAtLevel = true
        fillBudget = true
        bnDraws = 5
    }
}
