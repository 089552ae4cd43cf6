// RFQuant (CVPR 2024), published MobileNetV2 config (algorithms.md §2.11): supernet of bit-widths 6..2
// (depth-wise 6..3), 150 epochs from FP32, then the greedy search at 5.58 GBitOPs (the "4-bit level");
// the paper reports 70.7 % top-1 at 5.5 G without retraining.
//   KQAT_IMAGENET=/data/imagenet KQAT_FP32_CHECKPOINT=runs/mbv2-fp32/checkpoints/pretrain/epoch-0150 \
//     ./kqat run examples/rfquant/mobilenet-v2-imagenet.qat.kts
experiment("rfquant-mobilenet-v2") {
    rfquantImageNet(resnet18 = false, gBitOps = 5.58)
}
