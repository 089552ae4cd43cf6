package dev.kqat.runtime.train

import dev.kqat.runtime.SmallSupernet
import dev.kqat.runtime.data.Batch
import dev.kqat.runtime.mixed.Candidates
import dev.kqat.runtime.quant.BitConfiguration
import dev.kqat.runtime.quant.FakeQuantKernel
import dev.kqat.runtime.quant.MixedPrecisionPolicy
import dev.kqat.runtime.schedule.Schedule
import dev.kqat.runtime.toFloatArray
import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.plusOrMinus
import io.kotest.matchers.doubles.shouldBeGreaterThan
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import org.tensorflow.ndarray.Shape
import org.tensorflow.ndarray.buffer.DataBuffers
import org.tensorflow.types.TFloat32
import org.tensorflow.types.TInt32

/**
 * IDM in the supernet step (algorithms.md §2.5): the feature loss counts at the layers where a random
 * subnet drew its lowest weight bit-width and nowhere else, and kqat's fused kernels give the loss and
 * the weight updates of the plain TensorFlow ops.
 */
class SupernetIdmSpec : FunSpec({
    val setup = TrainingSetup(SmallSupernet(), MixedPrecisionPolicy.DEFAULT,
        OptimizerConfig.sgd(Schedule.Constant(0.5), 0.0, 0.0, false), OptimizerConfig.adam(Schedule.Constant(0.0), 0.0), 0.0, 3)

    fun batch(): Batch {
        val pixels = FloatArray(16 * 8 * 8 * 3) { ((it * 37) % 101) / 50f - 1f }
        return Batch(TFloat32.tensorOf(Shape.of(16, 8, 8, 3), DataBuffers.of(pixels, true, false)),
            TInt32.vectorOf(*IntArray(16) { it % 10 }), 16, IntArray(16) { it })
    }

    fun config(dw: Int, pw: Int) = BitConfiguration(mapOf("dw" to BitConfiguration.LayerBits(dw, 4), "pw" to BitConfiguration.LayerBits(pw, 4)))

    /** The summed loss of one step of [subnets] and the pw kernel after it, from a fresh graph of [kernel] and IDM [idm]. */
    fun step(kernel: FakeQuantKernel, idm: Double, subnets: List<BitConfiguration>): Pair<Float, FloatArray> =
        // No EMA, QE or adaptive-region term: the IDM term is all that differs between the graphs.
        SupernetGraph(setup.withKernel(kernel), SupernetGraph.Spec(3, idm, 1.0, 0.0, 0.0, 0.0, 0.0)).use { g ->
            g.newSession().use { s ->
                s.initialize()
                batch().use { b ->
                    g.calibrate(s, listOf(b))
                    val loss = g.trainStep(s, b, subnets, Candidates(g.candidates()), 0.5, 0.0, 0.5, 0, 1).loss()
                    val kernelValue = g.params().first { it.name() == "pw/kernel" }.variable()
                    loss to s.runner().fetch(kernelValue).run().use { (it.get(0) as TFloat32).toFloatArray() }
                }
            }
        }

    // dw's candidates are 3..6 and pw's 2..6: no subnet here draws a lowest bit-width.
    val noneLowest = listOf(config(4, 3), config(5, 6), config(6, 4))
    // The second subnet draws pw's lowest (2), the third dw's (3).
    val someLowest = listOf(config(4, 3), config(5, 2), config(3, 4))

    for (kernel in FakeQuantKernel.values()) {
        test("$kernel: no layer at its lowest bit-width, no IDM; at the lowest, the term adds to the loss and moves the weights") {
            val (plainLoss, plainKernel) = step(kernel, 0.0, noneLowest)
            step(kernel, 0.5, noneLowest).first shouldBe plainLoss
            val (withoutLoss, withoutKernel) = step(kernel, 0.0, someLowest)
            val (withLoss, withKernel) = step(kernel, 0.5, someLowest)
            withLoss shouldNotBe withoutLoss
            // By far more than the tolerance the kernels are compared with below.
            withKernel.indices.maxOf { Math.abs(withKernel[it] - withoutKernel[it]) }.toDouble() shouldBeGreaterThan 1e-2
            plainKernel.toList() shouldNotBe withKernel.toList()
        }
    }

    test("the fused kernels give the plain ops' loss and weight update") {
        val (fusedLoss, fusedKernel) = step(FakeQuantKernel.FUSED, 0.5, someLowest)
        val (opsLoss, opsKernel) = step(FakeQuantKernel.TF_OPS, 0.5, someLowest)
        fusedLoss.toDouble() shouldBe (opsLoss.toDouble() plusOrMinus 1e-5 * Math.abs(opsLoss.toDouble()))
        for (i in opsKernel.indices) withClue("pw/kernel[$i]") {
            fusedKernel[i].toDouble() shouldBe (opsKernel[i].toDouble() plusOrMinus 1e-5)
        }
    }
})
