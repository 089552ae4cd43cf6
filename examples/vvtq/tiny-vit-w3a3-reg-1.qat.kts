// Tiny-ViT task: W3A3 + bin regulariser at 100× the paper's weight (λ cosine 0 -> 1.0 from 25 % of the
// epochs): a choice for this 3-epoch task, where the paper's 0.01 adds ~1e-4 to a loss of ~0.3
// (docs/benchmarks.md, tiny-ViT table).
//   ./kqat run examples/vvtq/tiny-vit-w3a3-reg-1.qat.kts
experiment("tiny-vit-w3a3-reg-1") {
    tinyVitTask()
    tinyVitQat(bits = 3)
    oscillations { binRegularizer(weight = perEpoch(cosine(0.0, 1.0, delay = 0.25))) }
}
