package dev.kqat.runtime.train

import dev.kqat.runtime.data.FashionMnist
import dev.kqat.runtime.events.RunListener
import dev.kqat.runtime.models.ModelInspector
import dev.kqat.runtime.models.TinyMbv2
import dev.kqat.runtime.quant.QuantPolicy
import dev.kqat.runtime.quant.QuantizationPolicy
import dev.kqat.runtime.quant.QuantizerSpec
import dev.kqat.runtime.schedule.Schedule
import io.kotest.core.spec.style.FunSpec
import io.kotest.engine.spec.tempdir
import io.kotest.matchers.doubles.shouldBeGreaterThan
import io.kotest.matchers.doubles.shouldBeLessThan
import io.kotest.matchers.shouldBe
import org.tensorflow.Session

class TrainerSpec : FunSpec({
    val train = FashionMnist.load(FashionMnist.DEBIAN_DIR, true).head(3072)
    val test = FashionMnist.load(FashionMnist.DEBIAN_DIR, false).head(1024)
    val sgd = OptimizerConfig.sgd(Schedule.Cosine(0.05, 0.0), 0.9, 5e-5)
    val adam = OptimizerConfig.adam(Schedule.Constant(1e-5), 0.0)

    test("tiny-MBV2 has the reference task's 86,634 parameters and 23 weight layers") {
        val summary = ModelInspector.inspect(TinyMbv2())
        summary.trainableParameters() shouldBe 86_634L
        summary.layers().size shouldBe 23
        summary.layers().first().name() shouldBe "stem"
        summary.layers().last().name() shouldBe "classifier"
    }

    test("FP32 training on a Fashion-MNIST subset learns, and W4A4 LSQ QAT from it stays close") {
        val dir = tempdir("kqat-trainer").toPath()
        val fp = TrainingGraph(TrainingSetup(TinyMbv2(), QuantPolicy.FLOAT, sgd, adam, 0.0, 0))
        val fpResult = fp.use { g ->
            Session(g.graph()).use { s ->
                Trainer(g, s, object : RunListener {}).run(
                    PhasePlan("pretrain", 2, 64, train, test, CheckpointStore(dir.resolve("pretrain"), 1), 1, false),
                    null, null)
            }
        }
        fpResult.test().top1() shouldBeGreaterThan 0.70
        val policy = QuantizationPolicy.DEFAULT
        val qat = TrainingGraph(TrainingSetup(TinyMbv2(), policy,
            OptimizerConfig.sgd(Schedule.Cosine(0.01, 0.0), 0.9, 5e-5), adam, 0.0, 0))
        val init = CheckpointStore(dir.resolve("pretrain"), 1).latest().get()
        val qatResult = qat.use { g ->
            g.quantizers().size shouldBe 45 // 23 kernels + 22 inputs (the image stays FP)
            Session(g.graph()).use { s ->
                Trainer(g, s, object : RunListener {}).run(
                    PhasePlan("qat", 1, 64, train, test, null, 1, false), null, init)
            }
        }
        qatResult.test().top1() shouldBeGreaterThan fpResult.test().top1() - 0.05
    }

    test("a run resumed from its epoch-1 checkpoint ends where the uninterrupted run ends") {
        val small = train.head(1024)
        val setup = TrainingSetup(TinyMbv2(), QuantizationPolicy.DEFAULT,
            sgd, adam, 0.1, 7)
        fun runFor(epochs: Int, store: CheckpointStore, resume: java.nio.file.Path?): Double =
            TrainingGraph(setup).use { g ->
                Session(g.graph()).use { s ->
                    Trainer(g, s, object : RunListener {})
                        .run(PhasePlan("qat", epochs, 64, small, test, store, 1, false), resume, null)
                        .test().loss()
                }
            }
        val straight = runFor(2, CheckpointStore(tempdir("kqat-a").toPath(), 2), null)
        val store = CheckpointStore(tempdir("kqat-b").toPath(), 2)
        // Same 2-epoch plan, stopped after the first epoch's checkpoint by running 1 of 2 epochs:
        TrainingGraph(setup).use { g ->
            Session(g.graph()).use { s ->
                val t = Trainer(g, s, object : RunListener {
                    override fun checkpointSaved(phase: String, epoch: Int, dir: java.nio.file.Path) {
                        if (epoch == 1) throw KilledForTest()
                    }
                })
                try {
                    t.run(PhasePlan("qat", 2, 64, small, test, store, 1, false), null, null)
                } catch (_: KilledForTest) {
                }
            }
        }
        val checkpoint = store.latest().get()
        CheckpointStore.state(checkpoint).epoch() shouldBe 1
        val resumed = runFor(2, store, checkpoint)
        Math.abs(resumed - straight) shouldBeLessThan 1e-4
    }
})

private class KilledForTest : RuntimeException()
