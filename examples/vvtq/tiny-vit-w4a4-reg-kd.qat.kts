// Tiny-ViT task: W4A4 + bin regulariser + distillation from the FP32 tiny ViT: VVTQ's full recipe.
//   ./kqat run examples/vvtq/tiny-vit-w4a4-reg-kd.qat.kts
experiment("tiny-vit-w4a4-reg-kd") {
    tinyVitTask()
    tinyVitQat(bits = 4)
    oscillations { binRegularizer() }
    distill { teacher() }
}
