package dev.kqat.runtime.tf

import dev.kqat.runtime.floats
import dev.kqat.runtime.runGraph
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.plusOrMinus
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import org.tensorflow.ndarray.Shape
import org.tensorflow.op.Ops
import org.tensorflow.types.TFloat32
import kotlin.random.Random

/**
 * RFQuant's IDM term at one layer (algorithms.md §2.5): mask · mean((f − ref)²), ref held constant,
 * built of TensorFlow ops or of kqat's fused kernels; values and gradients against hand computation.
 */
class FeatureMseSpec : FunSpec({

    val variants = mapOf<String, (Ops, org.tensorflow.Operand<TFloat32>, org.tensorflow.Operand<TFloat32>,
        org.tensorflow.Operand<TFloat32>) -> FeatureMse.Tapped>(
        "plain" to FeatureMse::plain,
        "fused" to FeatureMse::fused,
    )

    /** [count] values of a fixed pseudo-random draw. */
    fun draw(count: Int, seed: Int) = Random(seed).let { r -> FloatArray(count) { r.nextFloat() * 4 - 2 } }

    for ((name, tap) in variants) context("$name kernels") {
        // Shapes: a small one, and one large enough that the fused kernels split it over two threads.
        for (shape in listOf(Shape.of(2, 3, 5), Shape.of(2, 16, 16, 128))) {
            val count = shape.size().toInt()
            val f = draw(count, 1)
            val ref = draw(count, 2)
            val upstream = draw(count, 3)
            val weight = 0.37f
            for (mask in listOf(0f, 1f)) {
                test("$shape, mask $mask: loss = mask · mean((f − ref)²), the feature unchanged, d/df = g + w·mask·2(f − ref)/N") {
                    // ref depends on f (ref0 + f/2), as the max subnet's feature depends on the shared
                    // weights: held constant, it adds nothing to d/df.
                    val refValues = FloatArray(count) { ref[it] + 0.5f * f[it] }
                    val (feature, loss, df) = runGraph { tf ->
                        val fv = tf.variable(tf.floats(shape, f))
                        val refOfF = tf.math.add(tf.floats(shape, ref), tf.math.mul(tf.constant(0.5f), fv))
                        val t = tap(tf, fv, refOfF, tf.constant(mask))
                        // L = Σ upstream ⊙ feature + w · loss: the feature's own gradient is `upstream`.
                        val l = tf.math.add(tf.reduceSum(tf.math.mul(t.feature(), tf.floats(shape, upstream)),
                            tf.range(tf.constant(0), tf.constant(shape.numDimensions()), tf.constant(1))),
                            tf.math.mul(tf.constant(weight), t.loss()))
                        listOf(t.feature(), t.loss(), tf.gradients(l, listOf(fv)).dy(0))
                    }
                    feature.toList() shouldBe f.toList()
                    val mse = f.indices.sumOf { ((f[it] - refValues[it]).toDouble()).let { d -> d * d } } / count
                    loss[0].toDouble() shouldBe ((mask * mse) plusOrMinus 1e-5 * mse)
                    for (i in f.indices) {
                        val expected = upstream[i] + weight * mask * 2.0 * (f[i] - refValues[i]) / count
                        withClue("element $i") { df[i].toDouble() shouldBe (expected plusOrMinus 1e-6) }
                    }
                }
            }
        }

        test("the gradient matches finite differences of the loss") {
            val shape = Shape.of(3, 4)
            val f = draw(12, 4)
            val ref = draw(12, 5)
            fun lossAt(values: FloatArray) = runGraph { tf ->
                listOf(tap(tf, tf.floats(shape, values), tf.floats(shape, ref), tf.constant(1f)).loss())
            }[0][0].toDouble()
            val (grad) = runGraph { tf ->
                val fv = tf.variable(tf.floats(shape, f))
                listOf(tf.gradients(tap(tf, fv, tf.floats(shape, ref), tf.constant(1f)).loss(), listOf(fv)).dy(0))
            }
            val h = 1e-2f
            for (i in f.indices) {
                val up = f.copyOf().also { it[i] += h }
                val down = f.copyOf().also { it[i] -= h }
                val numeric = (lossAt(up) - lossAt(down)) / (2 * h)
                withClue("element $i") { grad[i].toDouble() shouldBe (numeric plusOrMinus 1e-4) }
            }
        }
    }

    test("the fused kernels name the mismatch when f and ref differ in size") {
        val e = shouldThrow<Exception> {
            runGraph { tf ->
                listOf(FeatureMse.fused(tf, tf.floats(Shape.of(4), floatArrayOf(1f, 2f, 3f, 4f)),
                    tf.placeholderWithDefault(tf.floats(Shape.of(2), floatArrayOf(1f, 2f)), Shape.unknown()), tf.constant(1f)).loss())
            }
        }
        e.message shouldContain "f and ref differ in size"
    }
})
