// The tiny-ViT reference task (docs/benchmarks.md), FP32: patch 4 on Fashion-MNIST (49 patches and a
// class token), width 64, 3 blocks of 4 heads; AdamW with a linear warm-up and cosine decay.
//   ./kqat run examples/vvtq/tiny-vit-fp32.qat.kts
experiment("tiny-vit-fp32") {
    seed = 0
    data {
        fashionMnist()
        batchSize = 128
    }
    model { tinyVit() }
    pretrain {
        epochs = 15
        optimizer = adamW(lr = warmup(0.05, cosine(1e-3, 0.0)), weightDecay = 0.05)
    }
}
