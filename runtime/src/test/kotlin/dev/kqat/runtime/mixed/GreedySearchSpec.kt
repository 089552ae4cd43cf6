package dev.kqat.runtime.mixed

import dev.kqat.runtime.quant.BitConfiguration
import dev.kqat.runtime.quant.BitRange
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.ints.shouldBeLessThan
import io.kotest.matchers.shouldBe

/** RFQuant's greedy bidirectional search (§2.10) on a synthetic score whose best configuration is known. */
class GreedySearchSpec : FunSpec({
    // Three layers of 100 MACs; "c" is sensitive below 5 bits, "a" and "b" lose a little per bit, convexly.
    val layers = linkedMapOf("a" to BitRange(2, 6), "b" to BitRange(2, 6), "c" to BitRange(2, 6))
    val cost = GreedySearch.Cost { cfg -> cfg.layers().values.sumOf { 100.0 * it.weight() * it.input() } }
    fun error(cfg: BitConfiguration): Double {
        fun mild(b: Int) = 0.01 * Math.pow(2.0, 6.0 - b)
        val c = cfg.layers().getValue("c")
        return 1 + listOf("a", "b").sumOf { cfg.layers().getValue(it).let { l -> mild(l.weight()) + mild(l.input()) } } +
            10.0 * (maxOf(0, 5 - c.weight()) + maxOf(0, 5 - c.input()))
    }
    val budget = 4301.0 // a and b at W3A3, c at W5A5: 900 + 900 + 2500

    test("the brute-force best under the budget is a, b at W3A3 and c untouched at W5A5") {
        val all = (2..6).flatMap { aw -> (2..6).flatMap { aa -> (2..6).flatMap { bw -> (2..6).flatMap { ba -> (2..6).flatMap { cw -> (2..6).map { ca ->
            BitConfiguration(linkedMapOf("a" to BitConfiguration.LayerBits(aw, aa), "b" to BitConfiguration.LayerBits(bw, ba),
                "c" to BitConfiguration.LayerBits(cw, ca)))
        } } } } } }
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
        GreedySearch.floorFor(4) shouldBe 3
        GreedySearch.floorFor(3) shouldBe 2
        GreedySearch.search(layers, 1000.0, GreedySearch.Settings(5, 2, 3, 20), { _, cfg, _ -> error(cfg) }, cost).config() shouldBe null
    }
})
