package dev.kqat.runtime.nn

import dev.kqat.runtime.tf.ParamStore
import dev.kqat.runtime.data.InMemoryDataset
import dev.kqat.runtime.events.RunListener
import dev.kqat.runtime.fetchFloats
import dev.kqat.runtime.models.Model
import dev.kqat.runtime.quant.FakeQuantKernel
import dev.kqat.runtime.quant.QuantPolicy
import dev.kqat.runtime.toFloatArray
import dev.kqat.runtime.train.OptimizerConfig
import dev.kqat.runtime.train.PhasePlan
import dev.kqat.runtime.schedule.Schedule
import dev.kqat.runtime.train.Trainer
import dev.kqat.runtime.train.TrainingGraph
import dev.kqat.runtime.train.TrainingSetup
import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.plusOrMinus
import io.kotest.matchers.shouldBe
import org.tensorflow.Graph
import org.tensorflow.Operand
import org.tensorflow.Session
import org.tensorflow.ndarray.Shape
import org.tensorflow.op.Ops
import org.tensorflow.op.core.Placeholder
import org.tensorflow.types.TFloat32

/**
 * BN running statistics in training (Layers.batchNorm; benchmarks: "momentum 0.1 in PyTorch terms"):
 * moving = 0.9 * moving + 0.1 * batch statistic, with the unbiased batch variance (n - 1), starting from
 * mean 0 and variance 1; the batch itself is normalised with the biased variance.
 */
class BatchNormRunningStatisticsSpec : FunSpec({

    /** Per channel of NHWC values with [channels] channels: mean, biased and unbiased variance. */
    fun statistics(x: FloatArray, channels: Int): List<Triple<Double, Double, Double>> = (0 until channels).map { c ->
        val values = x.indices.filter { it % channels == c }.map { x[it].toDouble() }
        val mean = values.average()
        val squares = values.sumOf { (it - mean) * (it - mean) }
        Triple(mean, squares / values.size, squares / (values.size - 1))
    }

    test("two training passes: moving mean and variance follow the momentum-0.1 update with unbiased variance") {
        // Batches [3, 1, 2, 2]: 6 values per channel, so unbiased = biased * 6/5.
        val batches = listOf(
            floatArrayOf(0.5f, -1.0f, 1.5f, 2.0f, -0.25f, 0.0f, 3.0f, 1.0f, 1.0f, -2.0f, 0.75f, 4.0f),
            floatArrayOf(-1.5f, 0.5f, 2.5f, 1.0f, 0.0f, 3.0f, 1.25f, -0.5f, -0.75f, 2.0f, 2.0f, 0.25f),
        )
        Graph().use { g ->
            val tf = Ops.create(g)
            val params = ParamStore(tf, 0)
            val state = ModelState(params, QuantPolicy.FLOAT, emptyList(), FakeQuantKernel.TF_OPS, QuantHooks.NONE)
            val ctx = NetContext(state, PassMode.TRAIN, null)
            val x = tf.placeholder(TFloat32::class.java, Placeholder.shape(Shape.of(3, 1, 2, 2)))
            val y = Layers.batchNorm(ctx, "bn", x)
            ctx.updates().size shouldBe 2
            val mean = params.get("bn/moving_mean").variable()
            val variance = params.get("bn/moving_variance").variable()
            Session(g).use { session ->
                session.initialize()
                var expectedMean = doubleArrayOf(0.0, 0.0)
                var expectedVariance = doubleArrayOf(1.0, 1.0)
                for ((t, batch) in batches.withIndex()) {
                    val normalised = TFloat32.tensorOf(Shape.of(3, 1, 2, 2), org.tensorflow.ndarray.buffer.DataBuffers.of(batch, true, false)).use { xt ->
                        val r = session.runner().feed(x, xt).fetch(y)
                        ctx.updates().forEach { r.addTarget(it) }
                        r.run().use { (it.get(0) as TFloat32).toFloatArray() }
                    }
                    val stats = statistics(batch, 2)
                    expectedMean = DoubleArray(2) { 0.9 * expectedMean[it] + 0.1 * stats[it].first }
                    expectedVariance = DoubleArray(2) { 0.9 * expectedVariance[it] + 0.1 * stats[it].third }
                    val (m, v) = session.fetchFloats(mean, variance)
                    for (c in 0 until 2) withClue("step ${t + 1}, channel $c") {
                        m[c].toDouble() shouldBe (expectedMean[c] plusOrMinus 1e-6)
                        v[c].toDouble() shouldBe (expectedVariance[c] plusOrMinus 1e-5)
                    }
                    // The batch is normalised with its biased variance (gamma 1, beta 0, epsilon 1e-5).
                    for (i in 0 until 12) withClue("step ${t + 1}, output $i") {
                        val (bm, biased) = stats[i % 2]
                        normalised[i].toDouble() shouldBe ((batch[i] - bm) / Math.sqrt(biased + 1e-5) plusOrMinus 1e-4)
                    }
                }
                // By hand for channel 0 of the first batch {0.5, 1.5, -0.25, 3.0, 1.0, 0.75}: mean 6.5/6 = 1.08333...,
                // squared deviations 6.08333..., unbiased variance 1.21666..., biased 1.01388...
                statistics(batches[0], 2)[0].let { (bm, biased, unbiased) ->
                    bm shouldBe (6.5 / 6 plusOrMinus 1e-12)
                    biased shouldBe (6.0833333333 / 6 plusOrMinus 1e-9)
                    unbiased shouldBe (6.0833333333 / 5 plusOrMinus 1e-9)
                }
            }
        }
    }

    test("one Trainer step of a BN model: running statistics of the training batch, momentum 0.1, unbiased") {
        // 4 images of 1x2 pixels, 2 channels: 8 values per channel.
        val images = floatArrayOf(
            0.5f, -1.0f, 1.5f, 2.0f,
            -0.25f, 0.0f, 3.0f, 1.0f,
            1.0f, -2.0f, 0.75f, 4.0f,
            2.5f, 0.5f, -1.5f, 1.0f,
        )
        val data = InMemoryDataset(images, intArrayOf(0, 1, 0, 1), intArrayOf(1, 2, 2), 2)
        val model = object : Model {
            override fun name() = "bn-only"
            override fun inputShape() = intArrayOf(1, 2, 2)
            override fun numClasses() = 2
            override fun forward(ctx: NetContext, images: Operand<TFloat32>): Operand<TFloat32> =
                Layers.dense(ctx, "fc", Layers.flatten(ctx, Layers.batchNorm(ctx, "bn", images)), 2)
        }
        val sgd = OptimizerConfig.sgd(Schedule.Constant(0.1), 0.9, 0.0)
        val (mean, variance) = TrainingGraph(TrainingSetup(model, QuantPolicy.FLOAT, sgd, sgd, 0.0, 0)).use { graph ->
            Session(graph.graph()).use { session ->
                val result = Trainer(graph, session, object : RunListener {})
                    .run(PhasePlan("fp", 1, 4, data, data, null, 1, false, 0), null, null)
                result.steps() shouldBe 1L
                session.fetchFloats(graph.params().get("bn/moving_mean").variable(),
                    graph.params().get("bn/moving_variance").variable())
            }
        }
        val stats = statistics(images, 2)
        for (c in 0 until 2) withClue("channel $c") {
            mean[c].toDouble() shouldBe (0.1 * stats[c].first plusOrMinus 1e-6)
            variance[c].toDouble() shouldBe (0.9 + 0.1 * stats[c].third plusOrMinus 1e-5)
        }
        // Channel 0 by hand: {0.5, 1.5, -0.25, 3.0, 1.0, 0.75, 2.5, -1.5}, mean 0.9375, squared deviations
        // 14.59375, unbiased 14.59375 / 7 = 2.0848214..., so 0.09375 and 0.9 + 0.20848214... = 1.10848214...
        // (the biased 14.59375 / 8 would give 1.08242...).
        mean[0].toDouble() shouldBe (0.09375 plusOrMinus 1e-6)
        variance[0].toDouble() shouldBe (1.1084821 plusOrMinus 1e-5)
    }
})
