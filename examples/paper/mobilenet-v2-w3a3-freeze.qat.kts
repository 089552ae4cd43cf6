// Nagel et al., ICML 2022 — published recipe (algorithms.md §1.11): MobileNetV2 W3A3 LSQ QAT with iterative weight freezing,
// on ImageNet from FP32 weights, 90 epochs.
// FP32 weights: Keras' ImageNet MobileNetV2 (.h5, e.g. mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224.h5),
// which wants inputs in [-1, 1] and BN epsilon 1e-3, or a kqat checkpoint folder trained the same way.
//   KQAT_IMAGENET=/data/imagenet KQAT_FP32_WEIGHTS=mobilenet_v2_1.0_224.h5 \
//     ./kqat run examples/paper/mobilenet-v2-w3a3-freeze.qat.kts
experiment("osc-mobilenet-v2-w3a3-freeze") {
    paperMobileNetV2()           // KQAT_IMAGENET, KQAT_FP32_WEIGHTS; inputs in [-1, 1], BN epsilon 1e-3
    paperQuantization(bits = 3)  // §1.11 common part: LSQ W3A3, MSE init, 8-bit first/last, Adam 1e-5, BN re-estimation
    qat { epochs = 90; optimizer = sgd(lr = perEpoch(cosine(0.01, 0.0)), momentum = 0.9, weightDecay = 2.5e-5) }
    oscillations { freeze(threshold = cosine(0.1, 0.011), after = 0.25) }
}
