// VVTQ (Huang et al., TMLR 2024) — published recipe (algorithms.md §3.5–3.7): DeiT-T W3A3 on ImageNet,
// 150 epochs from FP32 weights; the repository reports 71.22 top-1 (FP32 73.75) with FKD soft labels.
// Distillation: 4 stored crops per image from KQAT_SOFT_LABELS (a .kqsl file of `kqat softlabels`)
// when set, else online from the FP32 network itself.
//   KQAT_IMAGENET=/data/imagenet KQAT_FP32_WEIGHTS=deit_tiny.safetensors \
//     ./kqat run examples/vvtq/deit-tiny-w3a3.qat.kts
experiment("vvtq-deit-tiny-w3a3") {
    vvtqImageNet(swin = false)   // KQAT_IMAGENET, KQAT_FP32_WEIGHTS; batch 512, drop-path 0.1
    vvtqQat(bits = 3)           // VVTQ map, AdamW 5e-4 / wd 1e-4, cosine, 150 epochs, bin regulariser, distillation
}
