package dev.kqat.runtime.train

import dev.kqat.runtime.data.FashionMnist
import dev.kqat.runtime.events.RunListener
import dev.kqat.runtime.mixed.Candidates
import dev.kqat.runtime.mixed.SubnetSampler
import dev.kqat.runtime.models.TinyMbv2
import dev.kqat.runtime.quant.BitConfiguration
import dev.kqat.runtime.quant.MixedPrecisionPolicy
import dev.kqat.runtime.quant.QuantPolicy
import dev.kqat.runtime.schedule.Schedule
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.shouldBeGreaterThan
import io.kotest.matchers.shouldBe
import org.tensorflow.Session
import java.nio.file.Files

/**
 * A supernet trained the RFQuant way (algorithms.md §2.1, §2.5) on Fashion-MNIST, from an FP32
 * network: one set of weights that every uniform subnet, evaluated without retraining, uses.
 */
class SupernetTrainingSpec : FunSpec({
    test("tiny-MBV2 supernet from its FP32 checkpoint: BN rows start as the FP32 BN, 48 steps of max + 3 random subnets lift the low-bit subnets") {
        val train = FashionMnist.load(FashionMnist.DEBIAN_DIR, true).head(4096)
        val test = FashionMnist.load(FashionMnist.DEBIAN_DIR, false).head(1000)
        val dir = Files.createTempDirectory("kqat-supernet")
        val sgd = OptimizerConfig.sgd(Schedule.Cosine(0.05, 0.0), 0.9, 2.5e-5, true)
        val fp32Top1 = TrainingGraph(TrainingSetup(TinyMbv2(), QuantPolicy.FLOAT, sgd, OptimizerConfig.QUANTIZER_DEFAULT, 0.0, 0)).use { g ->
            Session(g.graph()).use { s ->
                Trainer(g, s, object : RunListener {}).run(
                    PhasePlan("pretrain", 1, 64, train, test, CheckpointStore(dir.resolve("fp32"), 1), 1, false), null, null).test().top1()
            }
        }
        val fp32 = CheckpointStore(dir.resolve("fp32"), 1).latest().get()

        val setup = TrainingSetup(TinyMbv2(), MixedPrecisionPolicy.DEFAULT,
            OptimizerConfig.sgd(Schedule.Cosine(0.01, 0.0), 0.9, 2.5e-5, true),
            OptimizerConfig.adam(Schedule.Cosine(1e-3, 0.0), 0.0), 0.0, 0)
        SupernetGraph(setup, SupernetGraph.Spec.DEFAULT).use { g ->
            g.candidates().size shouldBe 21 // 23 weight layers less the 8-bit first and last
            g.newSession().use { s ->
                s.initialize()
                val loaded = g.initFrom(s, fp32)
                loaded.count { it.endsWith("_per_bits") } shouldBe 4 * 21 // γ, β, mean, variance of each switchable BN
                train.batches(64, true, 0, true).next().use { g.calibrate(s, listOf(it)) }
                fun top1(config: BitConfiguration): Double {
                    var correct = 0.0
                    val batches = test.batches(250, false, 0, false)
                    while (batches.hasNext()) batches.next().use { b -> correct += g.evaluate(s, b, config).correct() }
                    return correct / test.size()
                }
                val candidates = Candidates(g.candidates())
                val max = SubnetSampler.max(candidates)
                val w2a2 = BitConfiguration.uniform(g.candidates(), 2)
                val before = listOf(top1(max), top1(BitConfiguration.uniform(g.candidates(), 4)), top1(w2a2))
                // W6A6 (8-bit ends) of the FP32 weights, before any supernet step, classifies as the FP32 network.
                before[0] shouldBeGreaterThan fp32Top1 - 0.03

                val steps = 3072 / 64
                var step = 0L
                val maxLosses = mutableListOf<Float>()
                val batches = train.head(3072).batches(64, true, 1, true)
                while (batches.hasNext()) batches.next().use { b ->
                    val progress = step.toDouble() / steps
                    val out = g.trainStep(s, b, SubnetSampler.draw(candidates, 3, 0, step), candidates,
                        setup.weights().learningRate().at(progress), setup.quantizers().learningRate().at(progress), 0, step)
                    out.loss().isFinite() shouldBe true
                    maxLosses += out.maxLoss()
                    step++
                }
                val after = listOf(top1(max), top1(BitConfiguration.uniform(g.candidates(), 4)), top1(w2a2))
                println("supernet from FP32 (top-1 $fp32Top1), 48 steps of 64 images: max / uniform W4A4 / W2A2 " +
                    "before $before, after $after (max-subnet loss ${maxLosses.take(8).average()} -> ${maxLosses.takeLast(8).average()})")
                // Measured: FP32 0.641; max 0.637 -> 0.698, W4A4 0.429 -> 0.629, W2A2 0.110 -> 0.232.
                after[0] shouldBeGreaterThan fp32Top1 - 0.03
                after[1] shouldBeGreaterThan before[1] + 0.07
                after[2] shouldBeGreaterThan before[2] + 0.05
            }
        }
    }
})
