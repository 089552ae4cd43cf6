package dev.kqat.dsl

/**
 * Building blocks of `examples/vvtq/`'s ImageNet recipes: VVTQ's published setup (algorithms.md
 * §3.5–3.6) for DeiT and Swin. The reference distils from FKD soft labels stored per crop: given a
 * `.kqsl` file in `KQAT_SOFT_LABELS` (`kqat softlabels` of a teacher run or script on the same folder), the
 * recipes replay 4 of its crops per image and step; without one they distil online from the FP32
 * checkpoint they start from.
 */

/**
 * DeiT-Tiny or Swin-Tiny on the ImageNet folder of `KQAT_IMAGENET` (random resized crop 224 + flip;
 * resize 256 + centre crop 224 for validation; batch 512 as the README), from the FP32 weights of
 * `KQAT_FP32_WEIGHTS` (timm `.safetensors` with a fused or split qkv, or a kqat checkpoint folder),
 * drop-path 0.1 (the reference hard-codes it).
 */
fun ExperimentBuilder.vvtqImageNet(swin: Boolean) {
    val path = PaperRecipes.input("imagenet", "the ImageNet folder with train/ and val/")
    data {
        imageFolder(path, imageSize = 224, resizeSize = 256)
        batchSize = 512
    }
    initFrom = PaperRecipes.input("fp32_weights", "FP32 ${if (swin) "Swin-T" else "DeiT-T"} weights (timm .safetensors or kqat checkpoint folder)")
    model { if (swin) swinTiny(dropPath = 0.1) else deitTiny(dropPath = 0.1) }
}

/**
 * VVTQ QAT at W[bits]A[bits]: its map and quantizers (8-bit patch embedding and head), AdamW lr 5e-4
 * (README) with weight decay 1e-4 (CLI default), cosine to 0 without warm-up, 150 epochs; step sizes and
 * offsets at the same rate without decay; the bin regulariser with its schedule (`--reg`); distillation
 * (stored crops or online, see above); oscillations tracked for the report. 150 epochs are counted
 * as the reference counts them: over 4-crop passes with stored crops, single-crop epochs online (as
 * many optimizer steps either way).
 */
fun ExperimentBuilder.vvtqQat(bits: Int) {
    quantize {
        vvtq()
        weights { this.bits = bits }
        activations { this.bits = bits }
    }
    qat {
        epochs = 150
        optimizer = adamW(lr = cosine(5e-4, 0.0), weightDecay = 1e-4)
        quantizerOptimizer = adam(lr = cosine(5e-4, 0.0))
    }
    oscillations {
        track(threshold = 0.005)
        binRegularizer()
    }
    val stored = PaperRecipes.optionalInput("soft_labels")
    distill { if (stored != null) softLabels(stored, crops = 4) else teacher() }
}
