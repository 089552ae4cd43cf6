package dev.kqat.runtime.mixed

import dev.kqat.runtime.quant.BitConfiguration
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.shouldBeGreaterThan
import io.kotest.matchers.ints.shouldBeLessThanOrEqual
import io.kotest.matchers.shouldBe

/** RFQuant's evolutionary search (§2.10's alternative) on [SyntheticSearchProblem]. */
class EvolutionSearchSpec : FunSpec({
    val layers = SyntheticSearchProblem.layers
    val cost = SyntheticSearchProblem.cost
    fun accuracy(cfg: BitConfiguration) = -SyntheticSearchProblem.error(cfg)
    val budget = SyntheticSearchProblem.BUDGET
    val settings = EvolutionSearch.Settings(20, 5, 10, 10, 10, 0.2, 0.5, 2, 100_000)

    test("the evolution finds the brute-force best feasible configuration, scoring each configuration once within the window") {
        val scored = mutableListOf<BitConfiguration>()
        val result = EvolutionSearch.search(layers, budget, settings, 11, { cfg -> scored += cfg; accuracy(cfg) }, cost)
        val all = SyntheticSearchProblem.all()
        val feasible = all.filter { cost.of(it) in budget * 0.5..budget }
        val best = feasible.maxBy { accuracy(it) }
        best.layers().values.toList() shouldBe listOf(BitConfiguration.LayerBits(3, 3), BitConfiguration.LayerBits(3, 3),
            BitConfiguration.LayerBits(5, 5))
        result.best().first().config() shouldBe best
        result.best().size shouldBe 5
        result.best().zipWithNext().forEach { (x, y) -> x.fitness() shouldBeGreaterThan y.fitness() - 1e-12 }
        result.generations() shouldBe 10
        // Every scored configuration is feasible and new; fewer than the space's feasible ones were scored.
        scored.size shouldBe result.scored()
        scored.toSet().size shouldBe scored.size
        scored.forEach { (cost.of(it) in budget * 0.5..budget) shouldBe true }
        scored.size shouldBeLessThanOrEqual 20 * 10
        println("evolution: ${scored.size} of ${feasible.size} feasible configurations scored")
        // The same seed gives the same search, and its progress after each generation: the scored count and
        // the fittest so far, ending at the result's.
        val reports = mutableListOf<EvolutionSearch.Progress>()
        EvolutionSearch.search(layers, budget, settings, 11, { cfg -> accuracy(cfg) }, cost) { reports += it } shouldBe result
        reports.map { it.generation() } shouldBe (1..10).toList()
        reports.zipWithNext().forEach { (x, y) ->
            (y.scored() >= x.scored()) shouldBe true
            y.best().fitness() shouldBeGreaterThan x.best().fitness() - 1e-12
        }
        reports.last().scored() shouldBe result.scored()
        reports.last().best() shouldBe result.best().first()
    }

    test("as the reference, candidates under the floor are left out: at floor 3 no layer is drawn at 2 bits") {
        val scored = mutableListOf<BitConfiguration>()
        EvolutionSearch.search(layers, budget, EvolutionSearch.Settings(20, 5, 10, 10, 10, 0.2, 0.5, 3, 100_000), 5, { cfg -> scored += cfg; accuracy(cfg) }, cost)
        scored.flatMap { it.layers().values }.all { it.weight() >= 3 && it.input() >= 3 } shouldBe true
        scored.isNotEmpty() shouldBe true
    }
})
