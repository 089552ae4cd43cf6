package dev.kqat.dsl

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.plusOrMinus
import io.kotest.matchers.shouldBe
import java.util.BitSet

/** search.json's paired comparison of a searched subnet with uniform bits, against hand-computed binomial tails. */
class UniformComparisonSpec : FunSpec({
    fun bits(vararg right: Int) = BitSet().apply { right.forEach { set(it) } }

    test("counts the images only one of the two classifies right, and the exact McNemar p of those counts") {
        // Images 1 and 2 right in both; 0 only in the searched one; 3, 4, 5 only in the uniform one.
        val vs = UniformComparison(4, 3, -0.2).paired(bits(0, 1, 2), bits(1, 2, 3, 4, 5))
        listOf(vs.onlySearchedRight, vs.onlyUniformRight) shouldBe listOf(1, 3)
        // b = 1, c = 3: 2 · P(X ≤ 1), X ~ Bin(4, ½) = 2 · (1 + 4) / 16.
        vs.pValue!! shouldBe (10.0 / 16 plusOrMinus 1e-12)
        listOf(vs.index, vs.bits, vs.top1Difference) shouldBe listOf(4, 3, -0.2)
    }

    test("binomial tails by hand; no discordant image is no evidence; both tails at most 1") {
        UniformComparison.mcNemar(2, 8) shouldBe (2.0 * (1 + 10 + 45) / 1024 plusOrMinus 1e-12)
        UniformComparison.mcNemar(8, 2) shouldBe (2.0 * (1 + 10 + 45) / 1024 plusOrMinus 1e-12)
        UniformComparison.mcNemar(0, 0) shouldBe 1.0
        UniformComparison.mcNemar(5, 5) shouldBe 1.0
        UniformComparison.mcNemar(0, 10) shouldBe (2.0 / 1024 plusOrMinus 1e-15)
    }

    test("over calibration draws: the mean difference and its standard error, by hand; one draw has no spread") {
        // Differences 0.010, -0.020, 0.004: mean -0.002; deviations 0.012, -0.018, 0.006; sd sqrt(0.000504 / 2).
        val vs = UniformComparison(4, 3, 0.010).overDraws(listOf(0.010, -0.020, 0.004))
        vs.bnDraws shouldBe 3
        vs.meanTop1Difference!! shouldBe (-0.002 plusOrMinus 1e-15)
        vs.seTop1Difference!! shouldBe (Math.sqrt(0.000252) / Math.sqrt(3.0) plusOrMinus 1e-15)
        vs.top1Difference shouldBe 0.010
        UniformComparison(4, 3, 0.01).overDraws(listOf(0.01)).seTop1Difference shouldBe 0.0
    }

    test("the uniform subnet compared with is the best by its mean over calibrations, by its one where none were drawn") {
        fun uniform(index: Int, top1: Double, draws: List<Double>?) = FoundConfiguration(index, "uniform", bitops = 1.0, sizeMb = 1.0,
            meanBits = 3.0, testTop1 = top1, testLoss = 0.3, layers = emptyMap(), top1OverDraws = draws)
        // W5A5's usual calibration lands above W6A6's, its mean (0.9210) under W6A6's (0.9230).
        val w5 = uniform(3, 0.9241, listOf(0.9241, 0.9190, 0.9199))
        val w6 = uniform(4, 0.9227, listOf(0.9227, 0.9232, 0.9231))
        w5.meanTop1() shouldBe (0.9210 plusOrMinus 1e-12)
        UniformComparison.best(listOf(w5, w6)) shouldBe w6
        UniformComparison.best(listOf(w5.copy(top1OverDraws = null), w6.copy(top1OverDraws = null))) shouldBe w5.copy(top1OverDraws = null)
        UniformComparison.best(emptyList()) shouldBe null
    }
})
