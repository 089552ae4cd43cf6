package dev.kqat.dsl

/**
 * The reference task of benchmark.md as reusable blocks, so every reference script trains the
 * same thing. FP32 pre-training is cached (see [PretrainCache]): the first reference script run
 * trains it, the others start from it.
 */
object ReferenceTask {
    const val CACHE_KEY = "reference-tiny-mbv2-fp32"
}

/** tiny-MBV2 on Fashion-MNIST; FP32: SGD 0.9, lr 0.05 cosine to 0, wd 5e-5, batch 128, 8 epochs, seed 0. */
fun ExperimentBuilder.referenceTask() {
    seed = 0
    data {
        fashionMnist()
        batchSize = 128
    }
    model { tinyMbv2() }
    pretrain {
        epochs = 8
        optimizer = sgd(lr = cosine(0.05, 0.0), momentum = 0.9, weightDecay = 5e-5)
        cacheKey = ReferenceTask.CACHE_KEY
    }
}

/**
 * The published MobileNetV2 recipe's per-bit QAT settings (algorithms.md §1.11) that benchmark.md's
 * reference task uses: learning rate 0.01 at 3 bits and 0.0033 at 4 bits, weight decay 2.5e-5
 * (5e-5 for 4-bit freezing).
 */
object ReferenceRecipe {
    fun learningRate(bits: Int): Double = when (bits) {
        3 -> 0.01
        4 -> 0.0033
        else -> throw IllegalArgumentException("the reference task defines W3A3 and W4A4, not $bits bits")
    }

    fun weightDecay(bits: Int, freezing: Boolean): Double = if (freezing && bits == 4) 5e-5 else 2.5e-5
}

/**
 * Reference QAT: W[bits]A[bits] LSQ, MSE range init (per tensor), first/last layer 8 bits, 3 epochs;
 * SGD 0.9 with [ReferenceRecipe]'s per-bit learning rate (cosine to 0) and weight decay for weights,
 * Adam lr 1e-5 without weight decay for step sizes; oscillations tracked (threshold 0.005); BN
 * re-estimation over 50 training batches before each evaluation.
 * The cosine is stepped once per epoch, as the official implementation's `CosineAnnealingLR`
 * (algorithms.md §1.9): a per-step cosine leaves the last epoch near lr 0 and halves the share of
 * oscillating weights (docs/benchmarks.md).
 */
fun ExperimentBuilder.referenceQat(bits: Int, epochs: Int = 3) {
    quantize {
        weights { this.bits = bits }
        activations { this.bits = bits }
        firstLastBits = 8
    }
    qat {
        this.epochs = epochs
        optimizer = sgd(
            lr = perEpoch(cosine(ReferenceRecipe.learningRate(bits), 0.0)), momentum = 0.9,
            weightDecay = ReferenceRecipe.weightDecay(bits, freezing = false),
        )
        quantizerOptimizer = adam(lr = constant(1e-5))
    }
    oscillations { track(threshold = 0.005) }
    evaluate { bnReestimation(batches = 50) }
}

/** Variant (b) of benchmark.md: oscillation dampening, weight cosine 0 → 0.1 (after 25 % of steps, §1.6). */
fun ExperimentBuilder.referenceDampening() {
    oscillations { dampen(weight = cosine(0.0, 0.1), after = 0.25) }
}

/**
 * Variant (c): iterative freezing, threshold cosine 0.1 → 0.01 starting after 25 % of steps, with
 * the recipe's weight decay for freezing at [bits].
 */
fun ExperimentBuilder.referenceFreezing(bits: Int) {
    oscillations { freeze(threshold = cosine(0.1, 0.01), after = 0.25) }
    qat { optimizer = optimizer.withWeightDecay(ReferenceRecipe.weightDecay(bits, freezing = true)) }
}
