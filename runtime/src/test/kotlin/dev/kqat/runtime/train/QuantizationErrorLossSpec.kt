package dev.kqat.runtime.train

import dev.kqat.runtime.floats
import dev.kqat.runtime.runGraph
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.plusOrMinus
import io.kotest.matchers.shouldBe
import org.tensorflow.ndarray.Shape

/**
 * RFQuant's QE loss (algorithms.md §2.5) on a hand-made kernel: W = [0.21, -0.33, 0.07, 0.52] as a
 * 1×1 conv of 4 output channels, 3-bit step 0.1 (grid -4..3, codes 2, -3, 1, 3 after clipping 0.52 to 0.3).
 */
class QuantizationErrorLossSpec : FunSpec({
    val w = floatArrayOf(0.21f, -0.33f, 0.07f, 0.52f)
    // Step sizes per bit-width, slots 2..8; slot 3 bits = 0.1.
    val steps = floatArrayOf(0.2f, 0.1f, 0.05f, 0.025f, 0.0125f, 0.00625f, 0.003125f)

    fun lossAndGradient(bits: Int, lowest: Int): Pair<Double, FloatArray> {
        val (loss, grad) = runGraph { tf ->
            val kernel = tf.floats(Shape.of(1, 1, 1, 4), w)
            val term = QuantizationErrorLoss.term(tf, kernel, tf.floats(Shape.of(7), steps), tf.constant(bits), tf.constant(lowest), 4)
            listOf(term, tf.gradients(term, listOf(kernel)).dy<org.tensorflow.types.TFloat32>(0))
        }
        return loss[0].toDouble() to grad
    }

    test("b > bMin: only the code on the coarse 2-bit grid (2 -> coarse 1 in -2..1) is pulled; odd codes and the coarse-out-of-range ones are not") {
        val (loss, grad) = lossAndGradient(bits = 3, lowest = 2)
        // (0.21 - 0.2)² / 4 · 4 output channels.
        loss shouldBe (1e-4 plusOrMinus 1e-8)
        grad[0].toDouble() shouldBe (0.02 plusOrMinus 1e-6)
        grad[1].toDouble() shouldBe 0.0
        grad[2].toDouble() shouldBe 0.0
        grad[3].toDouble() shouldBe 0.0
    }

    test("b = bMin: every weight is pulled to its quantized value; the clipped one gives no gradient") {
        val (loss, grad) = lossAndGradient(bits = 3, lowest = 3)
        // (0.01² + 0.03² + 0.03² + 0) / 4 · 4.
        loss shouldBe (1.9e-3 plusOrMinus 1e-7)
        grad.map { it.toDouble() }.zip(listOf(0.02, -0.06, -0.06, 0.0)).forEach { (g, e) -> g shouldBe (e plusOrMinus 1e-6) }
    }
})
