// Tiny-ViT task: W3A3 + distillation (algorithms.md §3.4) from an online teacher, the FP32 tiny ViT QAT
// starts from: soft cross-entropy only, accuracy against the labels.
//   ./kqat run examples/vvtq/tiny-vit-w3a3-kd.qat.kts
experiment("tiny-vit-w3a3-kd") {
    tinyVitTask()
    tinyVitQat(bits = 3)
    distill { teacher() }
}
