package dev.kqat.runtime.train

import dev.kqat.runtime.data.SyntheticDataset
import dev.kqat.runtime.events.RunListener
import dev.kqat.runtime.models.TinyMbv2
import dev.kqat.runtime.quant.QuantPolicy
import dev.kqat.runtime.schedule.Schedule
import dev.kqat.runtime.toFloatArray
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.engine.spec.tempdir
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import org.tensorflow.Session

class DivergenceSpec : FunSpec({
    test("a NaN loss stops the run with its step and keeps the last good checkpoint") {
        val data = SyntheticDataset.generate(128, intArrayOf(8, 8, 1), 3, 0.5, 1)
        // A sane learning rate for the first epoch, an infinite one afterwards.
        val lr = Schedule.Step(0.01, Double.POSITIVE_INFINITY, listOf(0.5))
        val setup = TrainingSetup(TinyMbv2(3, intArrayOf(8, 8, 1)), QuantPolicy.FLOAT,
            OptimizerConfig.sgd(lr, 0.9, 0.0), OptimizerConfig.adam(Schedule.Constant(0.0), 0.0), 0.0, 0)
        val store = CheckpointStore(tempdir("kqat-nan").toPath(), 2)
        val e = shouldThrow<DivergenceException> {
            TrainingGraph(setup).use { g ->
                Session(g.graph()).use { s ->
                    Trainer(g, s, object : RunListener {}).run(PhasePlan("pretrain", 2, 32, data, data, store, 1, false), null, null)
                }
            }
        }
        e.message shouldContain "epoch 2"
        e.message shouldContain "epoch-0001"
        (e.step() > 4) shouldBe true
        val last = store.latest().get()
        CheckpointStore.state(last).epoch() shouldBe 1
        // The kept checkpoint loads into a fresh graph, with finite weights.
        TrainingGraph(setup).use { g ->
            Session(g.graph()).use { s ->
                CheckpointStore.restore(s, g, last)
                val kernel = s.runner().fetch(g.params().get("stem/kernel").variable()).run()
                    .use { r -> (r.get(0) as org.tensorflow.types.TFloat32).toFloatArray() }
                kernel.all { it.isFinite() } shouldBe true
            }
        }
    }
})
