// Nagel et al., ICML 2022 — published recipe (algorithms.md §1.11): EfficientNet-lite0 W4A4 LSQ QAT with iterative weight freezing,
// on ImageNet from FP32 weights, 50 epochs.
// FP32 weights: a kqat checkpoint folder (e.g. checkpoints/pretrain/epoch-NNNN of an FP32 run of this model);
// timm's efficientnet_lite0 weights are PyTorch files, which kqat does not read.
// The published script passes only a final threshold (0.015) and no start threshold, so its freezing never
// switches on (§1.11 quirk) and it runs as dampening alone; here freezing runs as the paper describes it,
// threshold cosine 0.1 -> 0.015 after 25 %, next to the script's dampening.
//   KQAT_IMAGENET=/data/imagenet KQAT_FP32_WEIGHTS=runs/lite0-fp32/checkpoints/pretrain/epoch-0050 \
//     ./kqat run examples/paper/efficientnet-lite0-w4a4-freeze.qat.kts
experiment("osc-efficientnet-lite0-w4a4-freeze") {
    paperEfficientNetLite0()     // KQAT_IMAGENET, KQAT_FP32_WEIGHTS (checkpoint folder)
    paperQuantization(bits = 4)  // §1.11 common part: LSQ W4A4, MSE init, 8-bit first/last, Adam 1e-5, BN re-estimation
    qat { epochs = 50; optimizer = sgd(lr = perEpoch(cosine(0.0033, 0.0)), momentum = 0.9, weightDecay = 1e-4) }
    oscillations {
        dampen(weight = cosine(0.0, 0.1), after = 0.25)
        freeze(threshold = cosine(0.1, 0.015), after = 0.25)
    }
}
