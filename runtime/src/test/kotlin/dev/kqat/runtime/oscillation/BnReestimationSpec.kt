package dev.kqat.runtime.oscillation

import dev.kqat.runtime.nn.Layers
import dev.kqat.runtime.nn.ModelState
import dev.kqat.runtime.nn.NetContext
import dev.kqat.runtime.nn.PassMode
import dev.kqat.runtime.nn.QuantHooks
import dev.kqat.runtime.tf.ParamStore
import dev.kqat.runtime.quant.FakeQuantKernel
import dev.kqat.runtime.quant.QuantPolicy
import dev.kqat.runtime.toFloatArray
import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.plusOrMinus
import io.kotest.matchers.shouldBe
import org.tensorflow.Graph
import org.tensorflow.Session
import org.tensorflow.op.Ops
import org.tensorflow.types.TFloat32

/** algorithms.md §1.8: after re-estimation the running statistics are the per-batch averages. */
class BnReestimationSpec : FunSpec({
    test("running mean and variance become the average of the batches' mean and unbiased variance") {
        Graph().use { g ->
            val tf = Ops.create(g)
            val params = ParamStore(tf, 0)
            val state = ModelState(params, QuantPolicy.FLOAT, emptyList(), FakeQuantKernel.TF_OPS, QuantHooks.NONE)
            val ctx = NetContext(state, PassMode.BN_STATISTICS, null)
            val x = tf.placeholder(TFloat32::class.java)
            val shaped = tf.reshape(x, tf.constant(longArrayOf(4, 2, 2, 3)))
            // Two BN layers: the second sees the first's batch-normalised output.
            val first = Layers.batchNorm(ctx, "bn1", shaped)
            Layers.batchNorm(ctx, "bn2", tf.math.mul(tf.nn.relu(first), tf.constant(3f)))
            val reestimation = BnReestimation(params, ctx.batchStatistics())
            Session(g).use { s ->
                s.initialize()
                s.runner().addTarget(reestimation.reset()).run()
                val rng = java.util.Random(3)
                val batches = 5
                val sums = ctx.batchStatistics().map { Pair(DoubleArray(3), DoubleArray(3)) }
                repeat(batches) { b ->
                    val values = FloatArray(48) { (rng.nextGaussian() * (1 + b) + b).toFloat() }
                    TFloat32.vectorOf(*values).use { batch ->
                        val r = s.runner().feed(x, batch).addTarget(reestimation.accumulate())
                        ctx.batchStatistics().forEach { r.fetch(it.batchMean()).fetch(it.batchVariance()) }
                        r.run().use { res ->
                            ctx.batchStatistics().indices.forEach { l ->
                                val mean = (res.get(2 * l) as TFloat32).toFloatArray()
                                val variance = (res.get(2 * l + 1) as TFloat32).toFloatArray()
                                if (l == 0) {
                                    // The batch's own statistics, unbiased variance (n − 1 = 15).
                                    for (c in 0 until 3) {
                                        val xs = (0 until 16).map { values[it * 3 + c].toDouble() }
                                        val m = xs.average()
                                        mean[c].toDouble() shouldBe (m plusOrMinus 1e-4)
                                        variance[c].toDouble() shouldBe (xs.sumOf { (it - m) * (it - m) } / 15 plusOrMinus 1e-3)
                                    }
                                }
                                for (c in 0 until 3) {
                                    sums[l].first[c] += mean[c]
                                    sums[l].second[c] += variance[c]
                                }
                            }
                        }
                    }
                }
                s.runner().addTarget(reestimation.apply()).run()
                val r = s.runner()
                ctx.batchStatistics().forEach { r.fetch(it.movingMean()).fetch(it.movingVariance()) }
                r.run().use { res ->
                    ctx.batchStatistics().indices.forEach { l ->
                        val mean = (res.get(2 * l) as TFloat32).toFloatArray()
                        val variance = (res.get(2 * l + 1) as TFloat32).toFloatArray()
                        for (c in 0 until 3) {
                            withClue("layer $l channel $c") {
                                mean[c].toDouble() shouldBe (sums[l].first[c] / batches plusOrMinus 1e-4)
                                variance[c].toDouble() shouldBe (sums[l].second[c] / batches plusOrMinus 1e-4)
                            }
                        }
                    }
                }
            }
        }
    }
})
