// Tiny-ViT task: W3A3 with VVTQ's quantization map, plain, 3 epochs from the cached FP32 checkpoint.
//   ./kqat run examples/vvtq/tiny-vit-w3a3.qat.kts [--set seed=1]
experiment("tiny-vit-w3a3") {
    tinyVitTask()
    tinyVitQat(bits = 3)
}
