package dev.kqat.dsl

/**
 * The tiny-ViT reference task of docs/benchmarks.md as reusable blocks, as [ReferenceTask] is for
 * tiny-MBV2: the FP32 recipe (cached, so the QAT scripts start from one checkpoint) and VVTQ's QAT.
 */
object TinyVitTask {
    const val CACHE_KEY = "reference-tiny-vit-fp32"
}

/** The tiny ViT on Fashion-MNIST; FP32: AdamW 1e-3, 5 % warm-up then cosine to 0, wd 0.05, batch 128, 15 epochs, seed 0. */
fun ExperimentBuilder.tinyVitTask() {
    seed = 0
    data {
        fashionMnist()
        batchSize = 128
    }
    model { tinyVit() }
    pretrain {
        epochs = 15
        optimizer = adamW(lr = warmup(0.05, cosine(1e-3, 0.0)), weightDecay = 0.05)
        cacheKey = TinyVitTask.CACHE_KEY
    }
}

/**
 * VVTQ QAT of the tiny ViT at W[bits]A[bits] (algorithms.md §3.1–3.5 scaled to the task): VVTQ's map
 * and quantizers, AdamW with the README's 5e-4 and the CLI's default weight decay 1e-4, cosine to 0
 * without warm-up; step sizes and offsets by Adam at the same rate without decay (the reference trains
 * them in the same AdamW, where 1-D parameters do not decay); oscillations tracked (threshold 0.005)
 * for the oscillating share.
 */
fun ExperimentBuilder.tinyVitQat(bits: Int, epochs: Int = 3) {
    quantize {
        vvtq()
        weights { this.bits = bits }
        activations { this.bits = bits }
    }
    qat {
        this.epochs = epochs
        optimizer = adamW(lr = cosine(5e-4, 0.0), weightDecay = 1e-4)
        quantizerOptimizer = adam(lr = cosine(5e-4, 0.0))
    }
    oscillations { track(threshold = 0.005) }
}
