// Tiny-ViT task: W3A3 + bin regulariser + distillation from the FP32 tiny ViT: VVTQ's full recipe.
//   ./kqat run examples/vvtq/tiny-vit-w3a3-reg-kd.qat.kts
experiment("tiny-vit-w3a3-reg-kd") {
    tinyVitTask()
    tinyVitQat(bits = 3)
    oscillations { binRegularizer() }
    distill { teacher() }
}
