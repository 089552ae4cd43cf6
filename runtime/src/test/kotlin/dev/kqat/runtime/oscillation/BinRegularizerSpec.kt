package dev.kqat.runtime.oscillation

import dev.kqat.runtime.fetchFloats
import dev.kqat.runtime.floats
import dev.kqat.runtime.quant.FakeQuantKernel
import dev.kqat.runtime.quant.Quantizer
import dev.kqat.runtime.quant.QuantizerSpec
import dev.kqat.runtime.quant.QuantizerTarget
import dev.kqat.runtime.tf.ParamStore
import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.plusOrMinus
import io.kotest.matchers.shouldBe
import org.tensorflow.Graph
import org.tensorflow.Session
import org.tensorflow.ndarray.Shape
import org.tensorflow.ndarray.buffer.DataBuffers
import org.tensorflow.op.Ops
import org.tensorflow.op.core.Placeholder
import org.tensorflow.types.TFloat32
import kotlin.math.abs

/** algorithms.md §3.3: the bin regulariser's value, and its gradients to W and s against the formula and finite differences. */
class BinRegularizerSpec : FunSpec({
    // s = 0.5, signed 3 bits [-4, 3]: codes 0, 1 (three weights), -1 (two), 3 (one inside, two clamped above), -4 (clamped below).
    // No value within 0.05 steps of a rounding tie or of a clamp edge, so finite differences stay on one branch.
    val w = floatArrayOf(0.1f, 0.4f, 0.55f, 0.62f, -0.3f, -0.7f, 1.4f, 2.3f, 2.9f, -2.6f)
    val s0 = 0.5
    val n = -4.0
    val p = 3.0

    /** R and its gradients by the formula, in doubles. */
    fun byHand(s: Double): Triple<Double, DoubleArray, Double> {
        val u = w.map { it / s }
        val uc = u.map { it.coerceIn(n, p) }
        val wc = uc.map { it * s }
        val c = uc.map { Math.rint(it) }
        val wq = c.map { it * s }
        val count = w.size
        val damp = wc.indices.sumOf { (wq[it] - wc[it]).let { d -> d * d } } / count
        val bins = c.indices.groupBy { c[it] }
        val mean = bins.mapValues { (_, members) -> members.sumOf { wc[it] } / members.size }
        val variance = bins.values.filter { it.size > 1 }.sumOf { members ->
            val m = mean.getValue(c[members[0]])
            members.sumOf { (wc[it] - m).let { d -> d * d } } / (members.size - 1)
        }
        // dR/dwc_i = 2/N (wc_i - wq_i) + [bin > 1] 2 (wc_i - mean) / (m - 1); wc_i = W_i inside, bound * s when clamped.
        val dwc = DoubleArray(count) { i ->
            val m = bins.getValue(c[i]).size
            2.0 / count * (wc[i] - wq[i]) + if (m > 1) 2 * (wc[i] - mean.getValue(c[i])) / (m - 1) else 0.0
        }
        val dw = DoubleArray(count) { i -> if (u[i] > n && u[i] < p) dwc[i] else 0.0 }
        val ds = (0 until count).sumOf { i -> if (u[i] >= p) p * dwc[i] else if (u[i] <= n) n * dwc[i] else 0.0 }
        return Triple(damp + variance, dw, ds)
    }

    test("value and gradients of R = mean((sg(wq) - wc)^2) + sum of unbiased bin variances: against the formula, and W against finite differences") {
        Graph().use { g ->
            val tf = Ops.create(g)
            val params = ParamStore(tf, 0)
            val spec = QuantizerSpec.lsq(3)
            val quantizer = Quantizer(params, "dense/weight", QuantizerTarget.WEIGHT, spec, Shape.scalar(), FakeQuantKernel.TF_OPS)
            val kernelFeed = tf.placeholder(TFloat32::class.java, Placeholder.shape(Shape.of(2, 5)))
            val scaleFeed = tf.placeholder(TFloat32::class.java, Placeholder.shape(Shape.scalar()))
            val kernel = tf.identity(kernelFeed)
            val setScale = tf.assign(quantizer.scale(), scaleFeed)
            val bins = BinRegularizer.of(tf, quantizer, kernel)
            val term = bins.term()
            val grads = tf.gradients(term, listOf(kernel, quantizer.scale()))
            Session(g).use { session ->
                session.initialize()
                fun at(values: FloatArray, s: Float): List<FloatArray> =
                    TFloat32.tensorOf(Shape.of(2, 5), DataBuffers.of(values, true, false)).use { k ->
                        TFloat32.scalarOf(s).use { sv ->
                            session.runner().feed(scaleFeed, sv).addTarget(setScale).run().close()
                            val r = session.runner().feed(kernelFeed, k).fetch(term).fetch(grads.dy<TFloat32>(0)).fetch(grads.dy<TFloat32>(1)).run()
                            r.use { res -> (0 until 3).map { i -> (res.get(i) as TFloat32).let { t -> FloatArray(t.shape().size().toInt()).also { a -> t.copyTo(DataBuffers.of(a, false, false)) } } } }
                        }
                    }
                val (value, dw, ds) = at(w, s0.toFloat())
                // The reported spread: mean over bins of two or more weights of the unbiased variance of clamp(W/s, n, p).
                val spread = TFloat32.tensorOf(Shape.of(2, 5), DataBuffers.of(w, true, false)).use { k ->
                    session.runner().feed(kernelFeed, k).fetch(bins.spread()).run().use { (it.get(0) as TFloat32).getFloat() }
                }
                val inSteps = w.map { (it / s0).coerceIn(n, p) }
                val populated = inSteps.groupBy { Math.rint(it) + 0.0 }.values.filter { it.size > 1 }
                val expectedSpread = populated.map { b -> val m = b.average(); b.sumOf { (it - m) * (it - m) } / (b.size - 1) }.average()
                spread.toDouble() shouldBe (expectedSpread plusOrMinus 1e-6)
                val (expected, expectedDw, expectedDs) = byHand(s0)
                value[0].toDouble() shouldBe (expected plusOrMinus 1e-6)
                // Three codes hold two or more weights, so the variance term is not zero: R is more than dampening.
                (expected > 0.05) shouldBe true
                for (i in w.indices) withClue("dR/dW[$i]") { dw[i].toDouble() shouldBe (expectedDw[i] plusOrMinus 1e-5) }
                ds[0].toDouble() shouldBe (expectedDs plusOrMinus 1e-5)
                (abs(expectedDs) > 0.1) shouldBe true // the clamped weights carry a real step-size gradient
                val h = 1e-3f
                for (i in w.indices) {
                    val numeric = (at(w.copyOf().also { it[i] += h }, s0.toFloat())[0][0] - at(w.copyOf().also { it[i] -= h }, s0.toFloat())[0][0]) / (2 * h)
                    withClue("finite difference, W[$i]") { dw[i].toDouble() shouldBe (numeric.toDouble() plusOrMinus 2e-3) }
                }
                // No finite difference in s: moving s moves sg(wq) = c·s too, which the gradient leaves out
                // by definition (0.246 numerically against the formula's 0.200 here); the formula check above holds it.
            }
        }
    }
})
