// Tiny-ViT task: W3A3 + bin regulariser at 10^4× the paper's weight (λ cosine 0 -> 100 from 25 % of the
// epochs): a choice for this 3-epoch task, where the paper's 0.01 adds ~1e-4 to a loss of ~0.3
// (docs/benchmarks.md, tiny-ViT table).
//   ./kqat run examples/vvtq/tiny-vit-w3a3-reg-100.qat.kts
experiment("tiny-vit-w3a3-reg-100") {
    tinyVitTask()
    tinyVitQat(bits = 3)
    oscillations { binRegularizer(weight = perEpoch(cosine(0.0, 100.0, delay = 0.25))) }
}
