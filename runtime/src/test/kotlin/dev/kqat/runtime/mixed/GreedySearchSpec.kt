package dev.kqat.runtime.mixed

import dev.kqat.runtime.quant.BitConfiguration
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.shouldBeLessThan
import io.kotest.matchers.ints.shouldBeLessThan
import io.kotest.matchers.shouldBe

/** RFQuant's greedy bidirectional search (§2.10) on a synthetic score whose best configuration is known. */
class GreedySearchSpec : FunSpec({
    val layers = SyntheticSearchProblem.layers
    val cost = SyntheticSearchProblem.cost
    fun error(cfg: BitConfiguration) = SyntheticSearchProblem.error(cfg)
    val budget = SyntheticSearchProblem.BUDGET

    // Layers lose nothing down to 3 bits and a little per bit below, "a" least, "c" most.
    fun errorBelow3(cfg: BitConfiguration) = 1 + mapOf("a" to 0.01, "b" to 0.1, "c" to 0.2).entries.sumOf { (l, w) ->
        cfg.layers().getValue(l).let { b -> w * (maxOf(0, 3 - b.weight()) + maxOf(0, 3 - b.input())) }
    }

    test("the brute-force best under the budget is a, b at W3A3 and c untouched at W5A5") {
        val all = SyntheticSearchProblem.all()
        val best = all.filter { cost.of(it) < budget }.minBy { error(it) }
        best.layers().values.toList() shouldBe listOf(BitConfiguration.LayerBits(3, 3), BitConfiguration.LayerBits(3, 3),
            BitConfiguration.LayerBits(5, 5))
    }

    test("the greedy search from W5A5 finds it: weights down to 95 % of the W4 level, then inputs, sensitive layer left alone") {
        val scored = mutableListOf<Int>()
        val result = GreedySearch.search(layers, budget, GreedySearch.Settings(5, 4, 2, 50),
            { current, cfg, step ->
                scored += step
                // Each move is the step's configuration with one layer's weight or input bits one step away.
                val changed = current.layers().keys.filter { current.layers()[it] != cfg.layers()[it] }
                changed.size shouldBe 1
                val (was, now) = current.layers()[changed[0]]!! to cfg.layers()[changed[0]]!!
                Math.abs(was.weight() - now.weight()) + Math.abs(was.input() - now.input()) shouldBe 1
                error(cfg)
            }, cost)
        result.config()!!.layers().values.toList() shouldBe listOf(BitConfiguration.LayerBits(3, 3),
            BitConfiguration.LayerBits(3, 3), BitConfiguration.LayerBits(5, 5))
        result.cost() shouldBe 4300.0
        // Weights 5→4→3 for a and b, then inputs likewise: 8 greedy steps, each scoring every valid move on that step's batch.
        result.steps() shouldBe 8
        scored.distinct() shouldBe (0 until 8).toList()
        result.evaluations() shouldBe scored.size
        result.evaluations() shouldBeLessThan 8 * 6 + 1
    }

    test("the budget's uniform level sets the weight target and the floor; a budget the floor cannot meet ends without a configuration") {
        GreedySearch.uniformLevel(layers, budget, cost) shouldBe 4 // uniform W4A4 costs 4800, W3A3 2700
        // The level whose cost reaches a budget: exactly uniform W3A3's → 3; just above it → 4; under W2A2's
        // (1200) → 2; above W6A6's (10800, the highest every layer takes) → 8.
        GreedySearch.levelReaching(layers, 2700.0, cost) shouldBe 3
        GreedySearch.levelReaching(layers, 2701.0, cost) shouldBe 4
        GreedySearch.levelReaching(layers, 1000.0, cost) shouldBe 2
        GreedySearch.levelReaching(layers, 1e9, cost) shouldBe 8
        GreedySearch.floorFor(4) shouldBe 3
        GreedySearch.floorFor(3) shouldBe 2
        GreedySearch.search(layers, 1000.0, GreedySearch.Settings(5, 2, 3, 20), { _, cfg, _ -> error(cfg) }, cost).config() shouldBe null
    }

    test("an up move of a layer at the floor that keeps winning stalls the reference's search; freezeAtFloor leaves that layer out") {
        // As errorBelow3, but a move raising a layer from 2 bits scores best of all.
        fun scorer() = GreedySearch.Scorer { current, move, _ ->
            val changed = current.layers().keys.single { current.layers()[it] != move.layers()[it] }
            val (was, now) = current.layers().getValue(changed) to move.layers().getValue(changed)
            if ((was.weight() == 2 && now.weight() == 3) || (was.input() == 2 && now.input() == 3)) 0.0 else errorBelow3(move)
        }
        // From W3A3: a's weights, then a's inputs go to 2 (the floor), then a's up move wins every step.
        val reference = GreedySearch.search(layers, 2000.0, GreedySearch.Settings(3, 3, 2, 20), scorer(), cost)
        reference.config() shouldBe null
        listOf(reference.down(), reference.up(), reference.unapplied()) shouldBe listOf(2, 0, 18)
        val frozen = GreedySearch.search(layers, 2000.0, GreedySearch.Settings(3, 3, 2, 20, true), scorer(), cost)
        frozen.config()!!.layers().values.toList() shouldBe listOf(BitConfiguration.LayerBits(2, 2),
            BitConfiguration.LayerBits(3, 2), BitConfiguration.LayerBits(3, 3))
        listOf(frozen.steps(), frozen.down(), frozen.up(), frozen.unapplied()) shouldBe listOf(3, 3, 0, 0)
    }

    test("a weight target at the floor: the weight phase ends at 110 % of its cost, then the inputs descend to the budget") {
        // Every move scores the same error, so the cheapest wins, the first layer on ties. From W3A3 (2,700),
        // weight target W2 at the 2-bit floor: the weights of a, b and c go to 2 (1,800 ≤ 1.1 × 1,800), then a's
        // inputs (1,600 < 1,700). With 95 % (1,710) the weight phase could not end: only up moves are left at
        // the floor, and the reference applies none of them.
        val atFloor = GreedySearch.Settings(3, 2, 2, 20)
        GreedySearch.weightPhaseFraction(atFloor) shouldBe 1.1
        GreedySearch.weightPhaseFraction(GreedySearch.Settings(5, 4, 3, 20)) shouldBe 0.95
        val result = GreedySearch.search(layers, 1700.0, atFloor, { _, _, _ -> 1.0 }, cost)
        result.config()!!.layers().values.toList() shouldBe listOf(BitConfiguration.LayerBits(2, 2),
            BitConfiguration.LayerBits(2, 3), BitConfiguration.LayerBits(2, 3))
        listOf(result.steps(), result.down(), result.up(), result.unapplied()) shouldBe listOf(4, 4, 0, 0)
        result.cost() shouldBe 1600.0
    }

    test("a budget reached while the weights descend ends the search there, as the reference's code records it") {
        // From W3A3 (2,700) with the weight target W2 (the weight phase's end, 1.1 × 1,800 = 1,980, not reached),
        // one weight move crosses the budget of 2,500.
        val result = GreedySearch.search(layers, 2500.0, GreedySearch.Settings(3, 2, 2, 20), { _, cfg, _ -> errorBelow3(cfg) }, cost)
        result.steps() shouldBe 1
        result.cost() shouldBe 2400.0
        // The least sensitive layer's weights went down; every input stayed.
        result.config()!!.layers().values.toList() shouldBe listOf(BitConfiguration.LayerBits(2, 3),
            BitConfiguration.LayerBits(3, 3), BitConfiguration.LayerBits(3, 3))
    }

    test("fillBudget: once under the budget, up moves that still fit are applied, least error first, the cheaper on ties") {
        // A small layer c (10 MACs) beside a and b (100 each); c gains 0.05 per weight or input bit above 3, up to 4.
        val small = GreedySearch.Cost { cfg -> cfg.layers().entries.sumOf { (l, b) -> (if (l == "c") 10.0 else 100.0) * b.weight() * b.input() } }
        fun error(cfg: BitConfiguration) = errorBelow3(cfg) -
            cfg.layers().getValue("c").let { b -> 0.05 * (minOf(4, b.weight()) - 3 + minOf(4, b.input()) - 3).coerceAtLeast(0) }
        // From W3A3 (1,890) a's weights go to 2 (1,590), under the budget of 1,800: the reference stops there.
        val stopped = GreedySearch.search(layers, 1800.0, GreedySearch.Settings(3, 2, 2, 20), { _, cfg, _ -> error(cfg) }, small)
        stopped.config()!!.layers().getValue("a") shouldBe BitConfiguration.LayerBits(2, 3)
        listOf(stopped.steps(), stopped.filled(), stopped.cost()) shouldBe listOf(1, 0, 1590.0)
        // Filling: c's weights (equal error to its inputs, first), c's inputs (less error than its weights to 5),
        // c's weights to 5 (a tie at equal cost), to 6 (cheaper than c's inputs to 5); then nothing fits under 1,800.
        val progress = mutableListOf<GreedySearch.Progress>()
        val filled = GreedySearch.search(layers, 1800.0, GreedySearch.Settings(3, 2, 2, 20, false, true), { _, cfg, _ -> error(cfg) }, small,
            { progress += it })
        // Progress after every step: the weight move, then the four fills, each with the cost it left.
        progress.map { Triple(it.step(), it.filling(), it.cost()) } shouldBe listOf(Triple(0, false, 1590.0), Triple(1, true, 1620.0),
            Triple(2, true, 1660.0), Triple(3, true, 1700.0), Triple(4, true, 1740.0))
        progress.last().filled() shouldBe 4
        filled.config()!!.layers().values.toList() shouldBe listOf(BitConfiguration.LayerBits(2, 3),
            BitConfiguration.LayerBits(3, 3), BitConfiguration.LayerBits(6, 4))
        listOf(filled.steps(), filled.down(), filled.up(), filled.filled(), filled.cost()) shouldBe listOf(5, 1, 0, 4, 1740.0)
        error(filled.config()) shouldBeLessThan error(stopped.config())
    }
})
