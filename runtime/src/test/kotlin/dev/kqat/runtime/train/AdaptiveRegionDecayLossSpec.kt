package dev.kqat.runtime.train

import dev.kqat.runtime.floats
import dev.kqat.runtime.runGraph
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.plusOrMinus
import io.kotest.matchers.shouldBe
import org.tensorflow.ndarray.Shape

/**
 * RFQuant's adaptive-region term (algorithms.md §2.5, `dist_loss`) on a hand-made kernel
 * W = [0.21, -0.33, 0.07, 0.52] with the 2-bit step 0.2: the 2-bit grid's range is [-0.4, 0.2].
 */
class AdaptiveRegionDecayLossSpec : FunSpec({
    val w = floatArrayOf(0.21f, -0.33f, 0.07f, 0.52f)
    // Step sizes per bit-width, slots 2..8.
    val steps = floatArrayOf(0.2f, 0.1f, 0.05f, 0.025f, 0.0125f, 0.00625f, 0.003125f)

    fun lossAndGradient(bits: Int): Pair<Double, FloatArray> {
        val (loss, grad) = runGraph { tf ->
            val kernel = tf.floats(Shape.of(1, 1, 1, 4), w)
            val term = AdaptiveRegionDecayLoss.term(tf, kernel, tf.floats(Shape.of(7), steps), tf.constant(bits))
            listOf(term, tf.gradients(term, listOf(kernel)).dy<org.tensorflow.types.TFloat32>(0))
        }
        return loss[0].toDouble() to grad
    }

    test("at 2 bits: half the squared clipped weights; in-range weights get their own value as gradient, clipped ones none") {
        val (loss, grad) = lossAndGradient(2)
        // clip -> [0.2, -0.33, 0.07, 0.2]: 0.5 · (0.04 + 0.1089 + 0.0049 + 0.04).
        loss shouldBe (0.0969 plusOrMinus 1e-6)
        grad.map { it.toDouble() }.zip(listOf(0.0, -0.33, 0.07, 0.0)).forEach { (g, e) -> g shouldBe (e plusOrMinus 1e-6) }
    }

    test("at any other bit-width the term and its gradient are zero") {
        val (loss, grad) = lossAndGradient(3)
        loss shouldBe 0.0
        grad.forEach { it.toDouble() shouldBe 0.0 }
    }
})
