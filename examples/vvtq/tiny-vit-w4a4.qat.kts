// Tiny-ViT task: W4A4 with VVTQ's quantization map, plain (no regulariser, no distillation), 3 epochs
// from the cached FP32 checkpoint.
//   ./kqat run examples/vvtq/tiny-vit-w4a4.qat.kts
experiment("tiny-vit-w4a4") {
    tinyVitTask()
    tinyVitQat(bits = 4)
}
