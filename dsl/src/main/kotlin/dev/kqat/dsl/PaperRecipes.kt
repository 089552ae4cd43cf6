package dev.kqat.dsl

import dev.kqat.runtime.quant.QuantizerSpec
import dev.kqat.runtime.quant.RangeInit

/**
 * Building blocks of `examples/paper/`: the published ImageNet recipes of the oscillation paper
 * (algorithms.md §1.11). Only what all recipes share lives here; each script spells out its own
 * model, learning rate, weight decay, epochs and oscillation control.
 */
object PaperRecipes {
    /**
     * A path the user supplies to a recipe: the system property `kqat.<key>` or else the environment
     * variable `KQAT_<KEY>` (e.g. `KQAT_IMAGENET`). Missing, it is a validation problem naming both.
     */
    fun input(key: String, what: String): String =
        optionalInput(key)
            ?: throw ExperimentValidationException(
                listOf(Problem("KQAT_${key.uppercase()}", "not set: $what (or -Dkqat.$key=...)")),
            )

    /** Like [input], but `null` when neither is set: a choice the recipe falls back from. */
    fun optionalInput(key: String): String? =
        System.getProperty("kqat.$key") ?: System.getenv("KQAT_${key.uppercase()}")

    /** Keras' MobileNet input scaling, x / 127.5 - 1, as mean and std on the [0, 1] scale. */
    val KERAS_MEAN = listOf(0.5, 0.5, 0.5)
    val KERAS_STD = listOf(0.5, 0.5, 0.5)
}

/**
 * §1.9 data: the ImageNet folder of `KQAT_IMAGENET` (`train/<class>/`, `val/<class>/`), random
 * resized crop 224 + flip for training, resize 248 + centre crop 224 for validation, batch 128.
 * [kerasInputs]: pixels scaled to [-1, 1] as Keras' pretrained MobileNets expect; otherwise the
 * ImageNet mean/std normalisation.
 */
fun ExperimentBuilder.paperImageNet(kerasInputs: Boolean) {
    val path = PaperRecipes.input("imagenet", "the ImageNet folder with train/ and val/")
    data {
        if (kerasInputs) {
            imageFolder(path, imageSize = 224, resizeSize = 248, mean = PaperRecipes.KERAS_MEAN, std = PaperRecipes.KERAS_STD)
        } else {
            imageFolder(path, imageSize = 224, resizeSize = 248)
        }
        batchSize = 128
    }
}

/**
 * §1.11 common part: LSQ weights and activations at [bits] (per tensor, MSE range init with 100
 * candidates, round-then-clamp), first and last layer at 8 bits, step sizes trained by Adam lr 1e-5
 * without weight decay, oscillations tracked (threshold 0.005), BN re-estimation over 50 batches
 * before each evaluation. The script adds `qat { epochs; optimizer = sgd(...) }`.
 */
fun ExperimentBuilder.paperQuantization(bits: Int) {
    quantize {
        weights { this.bits = bits; init = RangeInit.MSE; candidates = QuantizerSpec.DEFAULT_CANDIDATES }
        activations { this.bits = bits; init = RangeInit.MSE; candidates = QuantizerSpec.DEFAULT_CANDIDATES }
        firstLastBits = 8
    }
    qat { quantizerOptimizer = adam(lr = constant(1e-5)) }
    oscillations { track(threshold = 0.005) }
    evaluate { bnReestimation(batches = 50) }
}

/**
 * MobileNetV2 of the recipes, from `KQAT_FP32_WEIGHTS`: Keras' ImageNet weights (`.h5`) or a kqat
 * checkpoint trained the same way — inputs scaled to [-1, 1], BN epsilon 1e-3.
 */
fun ExperimentBuilder.paperMobileNetV2() {
    paperImageNet(kerasInputs = true)
    initFrom = PaperRecipes.input("fp32_weights", "FP32 MobileNetV2 weights (Keras .h5 or kqat checkpoint folder)")
    model { mobilenetV2(bnEpsilon = 1e-3) }
}

/**
 * EfficientNet-lite0 of the recipes, from the kqat checkpoint folder of `KQAT_FP32_WEIGHTS` (timm's
 * weights are PyTorch files); ImageNet mean/std inputs.
 */
fun ExperimentBuilder.paperEfficientNetLite0() {
    paperImageNet(kerasInputs = false)
    initFrom = PaperRecipes.input("fp32_weights", "FP32 EfficientNet-lite0 weights (kqat checkpoint folder)")
    model { efficientNetLite0() }
}
