// Tiny-ViT task: W3A3 + VVTQ's bin regulariser at the paper's schedule (λ cosine 0 -> 0.01 from 25 %
// of the epochs, evaluated per epoch; algorithms.md §3.3).
//   ./kqat run examples/vvtq/tiny-vit-w3a3-reg.qat.kts
experiment("tiny-vit-w3a3-reg") {
    tinyVitTask()
    tinyVitQat(bits = 3)
    oscillations { binRegularizer() }
}
