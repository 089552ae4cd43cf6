val budget = 3
require(budget > 5) { "the budget is too small for this study" }
experiment("throws") { pretrain { epochs = 1 } }
