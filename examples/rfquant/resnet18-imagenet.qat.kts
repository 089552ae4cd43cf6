// RFQuant (CVPR 2024), published ResNet18 config (algorithms.md §2.11): supernet of bit-widths 6..2,
// 150 epochs from FP32, then the greedy search at 33.9 GBitOPs; the paper reports 71.0 % top-1 at
// 31.6 G without retraining.
//   KQAT_IMAGENET=/data/imagenet KQAT_FP32_WEIGHTS=runs/resnet18-fp32/checkpoints/pretrain/epoch-0090 \
//     ./kqat run examples/rfquant/resnet18-imagenet.qat.kts
experiment("rfquant-resnet18") {
    rfquantImageNet(resnet18 = true, gBitOps = 33.9)
}
