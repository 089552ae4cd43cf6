// Fixed-bit QAT of a configuration that `kqat search` found (quantize { fromSearch(...) }): each
// searched layer at its weight and input bits, first and last layers at 8, 3 epochs of the reference
// task's W4A4 recipe from the cached FP32 network.
//   KQAT_SEARCH=runs/rfq/search.json#1 ./kqat run examples/rfquant/tiny-mbv2-finetune.qat.kts
experiment("rfquant-tiny-mbv2-finetune") {
    referenceTask()
    referenceQat(bits = 4)
    quantize { fromSearch(PaperRecipes.input("search", "a search.json#N written by kqat search")) }
}
