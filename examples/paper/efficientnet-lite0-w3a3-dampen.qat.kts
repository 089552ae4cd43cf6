// Nagel et al., ICML 2022 — published recipe (algorithms.md §1.11): EfficientNet-lite0 W3A3 LSQ QAT with oscillation dampening,
// on ImageNet from FP32 weights, 50 epochs.
// FP32 weights: a kqat checkpoint folder (e.g. checkpoints/pretrain/epoch-NNNN of an FP32 run of this model);
// timm's efficientnet_lite0 weights are PyTorch files, which kqat does not read.
//   KQAT_IMAGENET=/data/imagenet KQAT_FP32_WEIGHTS=runs/lite0-fp32/checkpoints/pretrain/epoch-0050 \
//     ./kqat run examples/paper/efficientnet-lite0-w3a3-dampen.qat.kts
experiment("osc-efficientnet-lite0-w3a3-dampen") {
    paperEfficientNetLite0()     // KQAT_IMAGENET, KQAT_FP32_WEIGHTS (checkpoint folder)
    paperQuantization(bits = 3)  // §1.11 common part: LSQ W3A3, MSE init, 8-bit first/last, Adam 1e-5, BN re-estimation
    qat { epochs = 50; optimizer = sgd(lr = perEpoch(cosine(0.01, 0.0)), momentum = 0.9, weightDecay = 5e-5) }
    oscillations { dampen(weight = cosine(0.0, 0.1), after = 0.25) }
}
