// RFQuant (algorithms.md §2) on benchmark.md's reference task: one supernet trained from the cached
// FP32 tiny-MBV2 for every per-layer bit-width 2..6 (depth-wise 3..6, first and last layers 8), its
// uniform subnets evaluated without retraining, then the greedy search at the BitOPs of uniform
// W3A3, W4A4 and W5A5 into RUN_DIR/search.json and RUN_DIR/plots/search-pareto.png.
//   ./kqat run examples/rfquant/tiny-mbv2-supernet.qat.kts --out runs/rfq
//   ./kqat search runs/rfq --bitops uniform:4 --bitops 0.05      (other budgets, GBitOPs)
//   ./kqat eval runs/rfq --config search.json#1                   (one configuration again)
// Fine-tune a found configuration as fixed-bit QAT: examples/rfquant/tiny-mbv2-finetune.qat.kts.
experiment("rfquant-tiny-mbv2") {
    referenceTask()        // Fashion-MNIST, tiny-MBV2, FP32 pre-training (cached)
    referenceSupernet()    // 3 epochs of max + 3 random subnets; search at uniform:3, :4, :5 from each level, filling each budget
}
