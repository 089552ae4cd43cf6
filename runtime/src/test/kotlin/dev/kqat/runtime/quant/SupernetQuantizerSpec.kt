package dev.kqat.runtime.quant

import dev.kqat.runtime.floats
import dev.kqat.runtime.runTargets
import dev.kqat.runtime.tf.ParamStore
import dev.kqat.runtime.toFloatArray
import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.plusOrMinus
import io.kotest.matchers.shouldBe
import org.tensorflow.Graph
import org.tensorflow.Session
import org.tensorflow.ndarray.Shape
import org.tensorflow.op.Ops
import org.tensorflow.types.TFloat32
import org.tensorflow.types.TInt32

/**
 * RFQuant's multi-bit quantizer (algorithms.md §2.3): one latent tensor, one step size per bit-width,
 * the bit-width an input of the graph, clamp-then-round (§0.1 B).
 */
class SupernetQuantizerSpec : FunSpec({
    val slots = floatArrayOf(0.9f, 0.5f, 0.3f, 0.2f, 0.1f, 0.05f, 0.02f) // 2..8 bits
    val x = floatArrayOf(-2.371f, -1.013f, -0.26f, 0.04f, 0.331f, 0.74f, 1.26f, 3.137f) // no x/s at a rounding tie
    val c = floatArrayOf(1f, -2f, 0.5f, 3f, -1f, 2f, 1.5f, -0.5f)

    /** Σ c·q(x) at each fed bit-width: q(x) and its gradients to x and to the step-size slots. */
    fun quantize(spec: QuantizerSpec, bitWidths: List<Int>, lowest: Float? = null): Map<Int, List<FloatArray>> = Graph().use { g ->
        val tf = Ops.create(g)
        val q = Quantizer(ParamStore(tf, 0), "layer/input", QuantizerTarget.ACTIVATION, spec, Shape.scalar(), FakeQuantKernel.TF_OPS)
        val input = tf.identity(tf.floats(Shape.of(x.size.toLong()), x))
        val bits = tf.placeholderWithDefault(tf.constant(spec.bits()), Shape.scalar())
        val y = q.apply(tf, input, bits)
        val grads = tf.gradients(tf.reduceSum(tf.math.mul(y, tf.floats(Shape.of(8), c)), tf.constant(0)), listOf(input, q.scale()))
        val setup = listOfNotNull(tf.assign(q.scale(), tf.floats(Shape.of(7), slots)),
            lowest?.let { tf.assign(q.lowest() as org.tensorflow.op.core.Variable<TFloat32>, tf.constant(it)) })
        Session(g).use { s ->
            s.initialize()
            s.runTargets(*setup.toTypedArray())
            bitWidths.associateWith { b ->
                TInt32.scalarOf(b).use { fed ->
                    s.runner().feed(bits, fed).fetch(y).fetch(grads.dy<TFloat32>(0)).fetch(grads.dy<TFloat32>(1)).run().use { r ->
                        (0 until 3).map { (r.get(it) as TFloat32).toFloatArray() }
                    }
                }
            }
        }
    }

    fun check(results: Map<Int, List<FloatArray>>, signed: Boolean) {
        for ((b, out) in results) {
            val (y, dx, ds) = out
            val step = slots[b - 2].toDouble()
            val n = if (signed) -(1 shl (b - 1)).toDouble() else 0.0
            val p = if (signed) (1 shl (b - 1)) - 1.0 else (1 shl b) - 1.0
            var expectedDs = 0.0
            for (i in x.indices) {
                val u = x[i] / step
                withClue("$b bits, x = ${x[i]}") {
                    y[i].toDouble() shouldBe (step * Math.rint(u.coerceIn(n, p)) plusOrMinus 1e-6)
                    dx[i].toDouble() shouldBe (if (u in n..p) c[i].toDouble() else 0.0)
                }
                expectedDs += c[i] * (if (u < n) n else if (u > p) p else Math.rint(u) - u)
            }
            for (slot in 0 until 7) {
                withClue("$b bits fed, slot of ${slot + 2} bits") {
                    ds[slot].toDouble() shouldBe ((if (slot == b - 2) expectedDs else 0.0) plusOrMinus 1e-5)
                }
            }
        }
    }

    test("weights: the fed bit-width picks its step size and signed grid; only that step size receives gradient") {
        check(quantize(MixedPrecisionPolicy.weights(6), listOf(6, 4, 3, 2)), signed = true)
    }

    test("inputs with signedness from data: unsigned [0, 2^b-1] at every bit-width, signed once calibration found negative values") {
        check(quantize(MixedPrecisionPolicy.activations(6), listOf(5, 3, 2), lowest = 0f), signed = false)
        check(quantize(MixedPrecisionPolicy.activations(6), listOf(5, 3, 2), lowest = -32f), signed = true)
    }

    test("RFQuant's initialisations: weights max(|μ-3σ|, |μ+3σ|)/2^(b-1), inputs 2·mean|x|/√p with the grid's own p") {
        val w = floatArrayOf(0.5f, -0.25f, 0.75f, 0.1f, -0.6f)
        val mean = w.average()
        val sigma = Math.sqrt(w.sumOf { (it - mean) * (it - mean) } / (w.size - 1))
        for (b in 2..8) {
            Calibration.threeSigmaSteps(w, b, 1)[0].toDouble() shouldBe
                (maxOf(Math.abs(mean - 3 * sigma), Math.abs(mean + 3 * sigma)) / (1 shl (b - 1)) plusOrMinus 1e-7)
            Calibration.lsqMagnitudeSteps(x, IntRange.unsigned(b), 1)[0].toDouble() shouldBe
                (2 * x.map { Math.abs(it.toDouble()) }.average() / Math.sqrt((1 shl b) - 1.0) plusOrMinus 1e-7)
        }
    }
})
