// The tiny-ViT reference task (docs/benchmarks.md), FP32: patch 4 on Fashion-MNIST (49 patches and a
// class token), width 64, 3 blocks of 4 heads; AdamW with a linear warm-up and cosine decay. The
// checkpoint is cached: the tiny-vit-w* scripts start from it (and train it first if it is missing).
//   ./kqat run examples/vvtq/tiny-vit-fp32.qat.kts
experiment("tiny-vit-fp32") {
    tinyVitTask()
}
