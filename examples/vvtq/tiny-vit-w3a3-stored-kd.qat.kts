// Tiny-ViT task: W3A3 with VVTQ's map, distilled from stored soft labels (FKD, algorithms.md §3.4) of
// the FP32 network: 2 of the 8 stored crops per image per step, so the 3 epochs run as one pass of 2
// crops and one single-crop epoch. The labels come first:
//   ./kqat run examples/vvtq/tiny-vit-fp32.qat.kts --out runs/tiny-vit-fp32
//   ./kqat softlabels runs/tiny-vit-fp32 --crops 8 --min-scale 0.35
//   KQAT_SOFT_LABELS=runs/tiny-vit-fp32/softlabels-r8-k5.kqsl ./kqat run examples/vvtq/tiny-vit-w3a3-stored-kd.qat.kts
experiment("tiny-vit-w3a3-stored-kd") {
    tinyVitTask()
    tinyVitQat(bits = 3)
    distill { softLabels(PaperRecipes.input("soft_labels", "the .kqsl file written by kqat softlabels"), crops = 2) }
}
