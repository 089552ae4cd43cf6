// RFQuant (CVPR 2024), published MobileNetV2 config (algorithms.md §2.11): supernet of bit-widths 6..2
// (depth-wise 6..3), 150 epochs from FP32, then the greedy search at 5.58 GBitOPs (the "4-bit level");
// the paper reports 70.7 % top-1 at 5.5 G without retraining. FP32 weights: Keras' ImageNet MobileNetV2
// (.h5, imported in a zero-epoch 'import' phase; inputs scaled to [-1, 1], BN epsilon 1e-3 as Keras) or a
// kqat checkpoint trained the same way.
//   KQAT_IMAGENET=/data/imagenet KQAT_FP32_WEIGHTS=mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224.h5 \
//     ./kqat run examples/rfquant/mobilenet-v2-imagenet.qat.kts
experiment("rfquant-mobilenet-v2") {
    rfquantImageNet(resnet18 = false, gBitOps = 5.58)
}
