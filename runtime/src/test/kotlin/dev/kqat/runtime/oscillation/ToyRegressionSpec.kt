package dev.kqat.runtime.oscillation

import dev.kqat.runtime.schedule.Schedule
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.plusOrMinus
import io.kotest.matchers.doubles.shouldBeGreaterThan
import io.kotest.matchers.doubles.shouldBeLessThan
import io.kotest.matchers.shouldBe

/** algorithms.md §1.12: s = 1, w* = 0.6, SGD lr 0.01, 5000 steps. */
class ToyRegressionSpec : FunSpec({
    fun toy(oscillations: OscillationSpec) = ToyRegression(0.6, 1.0, 0.6, 0.01, 5000, oscillations).run()

    test("plain STE: the weight hovers at the threshold, 60 % of steps in the upper state, frequency 0.8") {
        val t = toy(OscillationSpec.NONE)
        for (i in 500 until 5000) Math.abs(t.latent[i] - 0.5) shouldBeLessThan 0.0101
        t.shareAbove(0.5) shouldBe (0.6 plusOrMinus 0.02)
        t.flipsPerStep(500, 5000) shouldBe (0.8 plusOrMinus 0.02)
        // The EMA (momentum 0.001) has nearly reached the flip rate after 5000 steps.
        t.frequency.last().toDouble() shouldBe (0.8 * (1 - Math.pow(0.999, 5000.0)) plusOrMinus 0.02)
    }

    test("dampening: once λ passes 0.4 the weight leaves the threshold and stops flipping") {
        val damp = OscillationSpec.Dampening(Schedule.Cosine(0.0, 0.8), OscillationSpec.Aggregation.SUM, 0.25)
        val t = toy(OscillationSpec(null, damp, null))
        t.flipsPerStep(500, 1000) shouldBeGreaterThan 0.5
        t.flipsPerStep(4000, 5000) shouldBe 0.0
        t.integer.last() shouldBe 1f
        // At the end λ = 0.8: w settles at 1 − 0.2/λ = 0.75.
        t.latent.last().toDouble() shouldBe (0.75 plusOrMinus 0.01)
        t.frequency.last().toDouble() shouldBeLessThan toy(OscillationSpec.NONE).frequency.last() / 2.0
    }

    test("freezing: the oscillating weight is pinned to rint(average integer) = 1 and never moves again") {
        val freeze = OscillationSpec.Freezing(Schedule.Constant(0.1), 0.0, true)
        val t = toy(OscillationSpec(null, null, freeze))
        val first = t.frozen.indexOfFirst { it }
        (first > 0) shouldBe true
        first.toDouble() shouldBeLessThan 300.0
        for (i in first + 1 until 5000) {
            t.frozen[i] shouldBe true
            t.integer[i] shouldBe 1f
        }
    }
})
