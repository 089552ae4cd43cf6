package dev.kqat.runtime.quant

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.plusOrMinus
import io.kotest.matchers.shouldBe
import java.util.Random

/** algorithms.md §1.2: MSE grid search and min-max, on distributions with known answers. */
class RangeInitSpec : FunSpec({
    fun gaussian(n: Int, std: Double, seed: Long) = Random(seed).let { r -> FloatArray(n) { (r.nextGaussian() * std).toFloat() } }

    test("4-bit MSE on N(0,1) finds the optimal uniform step of a Gaussian (~0.335 sigma)") {
        val search = MseGridSearch(4, 100, 1)
        search.add(gaussian(200_000, 1.0, 1))
        search.intRange() shouldBe IntRange.signed(4)
        search.bestScales()[0].toDouble() shouldBe (0.335 plusOrMinus 0.02)
    }

    test("one-sided data gets the unsigned grid; the candidate grid uses the absolute 0.5 margin") {
        val x = gaussian(50_000, 1.0, 2).map { maxOf(it, 0f) }.toFloatArray()
        val search = MseGridSearch(3, 100, 1)
        search.add(x)
        search.intRange() shouldBe IntRange.unsigned(3)
        // Every candidate is k * (max + 0.5) / 100 / p, so the chosen step is on that lattice.
        val lattice = (x.max() + 0.5) / 100 / 7
        val k = search.bestScales()[0] / lattice
        k.toDouble() shouldBe (Math.rint(k.toDouble()) plusOrMinus 1e-3)
    }

    test("per-channel search gives each output channel its own step, proportional to its spread") {
        // Channel c of flat element i is i % 2 (channels last); channel 1 has 4× the spread.
        val a = gaussian(40_000, 0.25, 3)
        val b = gaussian(40_000, 1.0, 4)
        val x = FloatArray(80_000) { if (it % 2 == 0) a[it / 2] else b[it / 2] }
        val scales = MseGridSearch(4, 100, 2).apply { add(x) }.bestScales()
        (scales[1] / scales[0]).toDouble() shouldBe (4.0 plusOrMinus 0.5)
    }

    test("losses add up over batches: two halves give the same step as the whole") {
        val x = gaussian(20_000, 1.0, 5)
        // The grid is fixed by the first batch, so put the largest magnitude into it.
        val top = x.indices.maxBy { kotlin.math.abs(x[it]) }
        x[0] = x[top].also { x[top] = x[0] }
        val whole = MseGridSearch(4, 100, 1).apply { add(x) }.bestScales()[0]
        val halves = MseGridSearch(4, 100, 1).apply {
            add(x.copyOfRange(0, 10_000))
            add(x.copyOfRange(10_000, 20_000))
        }.bestScales()[0]
        halves shouldBe whole
    }

    test("min-max: s = max(|min|, max) / p and signedness from the sign of the data") {
        MinMaxRange.scales(floatArrayOf(-0.5f, 0.2f, 1.4f), 4, 1)[0] shouldBe 1.4f / 7
        MinMaxRange.scales(floatArrayOf(0.0f, 0.3f, 1.5f), 4, 1)[0] shouldBe 1.5f / 15
    }
})
