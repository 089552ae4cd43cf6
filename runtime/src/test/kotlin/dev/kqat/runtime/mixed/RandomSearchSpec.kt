package dev.kqat.runtime.mixed

import dev.kqat.runtime.quant.BitConfiguration
import dev.kqat.runtime.quant.BitRange
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.shouldBeLessThanOrEqual
import io.kotest.matchers.shouldBe

/** RFQuant's random search (§2.10's alternative) on a synthetic score. */
class RandomSearchSpec : FunSpec({
    val layers = linkedMapOf("a" to BitRange(2, 6), "b" to BitRange(2, 6), "c" to BitRange(3, 6))
    val cost = GreedySearch.Cost { cfg -> cfg.layers().values.sumOf { 100.0 * it.weight() * it.input() } }
    // Each layer loses more below 5 bits; "c" the most.
    fun error(cfg: BitConfiguration): Double = cfg.layers().entries.sumOf { (name, b) ->
        (if (name == "c") 3.0 else 1.0) * (maxOf(0, 5 - b.weight()) + maxOf(0, 5 - b.input()))
    }
    val budget = 4800.0 // uniform W4A4
    val settings = RandomSearch.Settings(200, 10, 0.05, 1_000_000)

    test("it scores configurations within the tolerance only and keeps the lowest errors of all it scored, lowest first") {
        val scored = mutableListOf<Pair<BitConfiguration, Double>>()
        val result = RandomSearch.search(layers, budget, settings, 11, { cfg -> error(cfg).also { scored += cfg to it } }, cost)
        result.scored() shouldBe 200
        scored.size shouldBe 200
        (result.drawn() > 200) shouldBe true // some draws fell outside ±5 %
        scored.forEach { (cfg, _) -> Math.abs(cost.of(cfg) - budget) shouldBeLessThanOrEqual 0.05 * budget }
        // Every layer within its own candidates ("c" from 3), weights and inputs drawn independently.
        scored.forEach { (cfg, _) -> cfg.layers().getValue("c").let { it.weight() >= 3 && it.input() >= 3 } shouldBe true }
        scored.any { (cfg, _) -> cfg.layers().values.any { it.weight() != it.input() } } shouldBe true
        result.kept().map { it.error() } shouldBe scored.map { it.second }.sorted().take(10)
        result.kept().forEach { it.cost() shouldBe cost.of(it.config()) }
        // The same seed draws the same configurations; progress comes after each one scored, with the draws so far.
        val reports = mutableListOf<RandomSearch.Progress>()
        RandomSearch.search(layers, budget, settings, 11, { error(it) }, cost) { reports += it } shouldBe result
        reports.map { it.scored() } shouldBe (1..200).toList()
        reports.zipWithNext().forEach { (x, y) -> (y.drawn() > x.drawn()) shouldBe true }
        reports.last().drawn() shouldBe result.drawn()
    }

    test("a budget no configuration meets ends after maxDraws with nothing kept") {
        val result = RandomSearch.search(layers, 100.0, RandomSearch.Settings(10, 3, 0.01, 5000), 3, { error(it) }, cost)
        result.kept() shouldBe emptyList()
        result.scored() shouldBe 0
        result.drawn() shouldBe 5000L
    }
})
