package dev.kqat.runtime.train

import dev.kqat.runtime.data.FashionMnist
import dev.kqat.runtime.events.RunListener
import dev.kqat.runtime.models.TinyMbv2
import dev.kqat.runtime.oscillation.OscillationSpec
import dev.kqat.runtime.quant.QuantPolicy
import dev.kqat.runtime.quant.QuantizationPolicy
import dev.kqat.runtime.quant.QuantizerSpec
import dev.kqat.runtime.schedule.Schedule
import dev.kqat.runtime.tf.ParamRole
import dev.kqat.runtime.toFloatArray
import io.kotest.core.spec.style.FunSpec
import io.kotest.engine.spec.tempdir
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.doubles.shouldBeGreaterThan
import io.kotest.matchers.shouldBe
import java.nio.file.Path
import org.tensorflow.Session
import org.tensorflow.types.TFloat32

/**
 * A phase started from another phase's checkpoint takes the model (and trained quantizers), never
 * the other phase's optimizer slots or trackers: QAT starts with a fresh optimizer, as the
 * reference implementation does.
 */
class PhaseHandOverSpec : FunSpec({
    val train = FashionMnist.load(FashionMnist.DEBIAN_DIR, true).head(512)
    val test = FashionMnist.load(FashionMnist.DEBIAN_DIR, false).head(256)
    val sgd = OptimizerConfig.sgd(Schedule.Constant(0.05), 0.9, 5e-5)
    val adam = OptimizerConfig.adam(Schedule.Constant(1e-3), 0.0)
    val w4a4 = QuantizationPolicy.DEFAULT
    val tracked = OscillationSpec(OscillationSpec.Tracking.DEFAULT, null, null)

    /** Every variable of [role], fetched in one run (each distinct fetch list costs a graph prune). */
    fun values(s: Session, g: TrainingGraph, role: ParamRole): Map<String, FloatArray> {
        val params = g.params().withRole(role)
        if (params.isEmpty()) return emptyMap()
        val runner = s.runner()
        params.forEach { runner.fetch(it.variable()) }
        return runner.run().use { r ->
            params.indices.associate { params[it].name() to (r.get(it) as TFloat32).toFloatArray() }
        }
    }

    /** Trains one epoch, saving into [dir]; returns the values of every variable at the end. */
    fun trainPhase(setup: TrainingSetup, phase: String, dir: Path, init: Path?): Map<String, FloatArray> =
        TrainingGraph(setup).use { g ->
            Session(g.graph()).use { s ->
                Trainer(g, s, object : RunListener {})
                    .run(PhasePlan(phase, 1, 64, train, test, CheckpointStore(dir, 1), 1, false), null, init)
                ParamRole.values().flatMap { values(s, g, it).entries }.associate { it.key to it.value }
            }
        }

    /** Builds [setup]'s graph, starts a phase from [init] and returns the variables at step 0 by role. */
    fun atStepZero(setup: TrainingSetup, init: Path): Map<ParamRole, Map<String, FloatArray>> =
        TrainingGraph(setup).use { g ->
            Session(g.graph()).use { s ->
                var seen: Map<ParamRole, Map<String, FloatArray>>? = null
                try {
                    Trainer(g, s, object : RunListener {
                        override fun phaseStarted(phase: String, epochs: Int, stepsPerEpoch: Int, startEpoch: Int) {
                            seen = ParamRole.values().associateWith { values(s, g, it) }
                            throw StopAtStepZero()
                        }
                    }).run(PhasePlan("qat", 1, 64, train, test, null, 1, false), null, init)
                } catch (_: StopAtStepZero) {
                }
                seen!!
            }
        }

    fun Map<String, FloatArray>.nonZeroSlots() = filterValues { v -> v.any { it != 0f } }.keys

    test("FP32 -> QAT: weights and BN statistics cross, every optimizer slot starts at zero") {
        val dir = tempdir("kqat-handover").toPath()
        val fp32 = trainPhase(TrainingSetup(TinyMbv2(), QuantPolicy.FLOAT, sgd, adam, 0.0, 0), "pretrain",
            dir.resolve("pretrain"), null)
        // The FP32 run really left momentum behind (otherwise the check below proves nothing).
        fp32.filterKeys { it.startsWith("opt/") }.values.count { v -> v.any { it != 0f } }.toDouble() shouldBeGreaterThan 20.0

        val init = CheckpointStore(dir.resolve("pretrain"), 1).latest().get()
        val qat = atStepZero(TrainingSetup(TinyMbv2(), w4a4, sgd, adam, 0.0, 0).withOscillations(tracked), init)

        qat.getValue(ParamRole.OPTIMIZER_SLOT).filterKeys { "beta" !in it }.nonZeroSlots().shouldBeEmpty()
        // Adam's bias-correction powers start at β1 and β2, not where the FP32 phase left them.
        qat.getValue(ParamRole.OPTIMIZER_SLOT).filterKeys { "beta1_power" in it }.values.single()[0] shouldBe 0.9f
        qat.getValue(ParamRole.OPTIMIZER_SLOT).filterKeys { "beta2_power" in it }.values.single()[0] shouldBe 0.999f
        qat.getValue(ParamRole.STATE).nonZeroSlots().shouldBeEmpty() // trackers: nothing seen yet
        for (role in listOf(ParamRole.WEIGHT, ParamRole.BN_STATISTIC)) {
            qat.getValue(role).size shouldBe fp32.count { (k, _) -> k in qat.getValue(role) }
            qat.getValue(role).forEach { (name, v) -> v.toList() shouldBe fp32.getValue(name).toList() }
        }
    }

    test("QAT -> QAT: trained step sizes and ranges cross without recalibration, trackers and slots do not") {
        val dir = tempdir("kqat-handover-qat").toPath()
        val setup = TrainingSetup(TinyMbv2(), w4a4, sgd, adam, 0.0, 0).withOscillations(tracked)
        val first = trainPhase(setup, "qat", dir.resolve("qat"), null)
        first.filterKeys { it.contains("/tracker/") || it.contains("oscillation") }.values
            .count { v -> v.any { it != 0f } }.toDouble() shouldBeGreaterThan 0.0

        val second = atStepZero(setup, CheckpointStore(dir.resolve("qat"), 1).latest().get())
        for (role in listOf(ParamRole.QUANTIZER, ParamRole.QUANTIZER_RANGE, ParamRole.WEIGHT)) {
            second.getValue(role).forEach { (name, v) -> v.toList() shouldBe first.getValue(name).toList() }
        }
        second.getValue(ParamRole.OPTIMIZER_SLOT).filterKeys { "beta" !in it }.nonZeroSlots().shouldBeEmpty()
        second.getValue(ParamRole.STATE).nonZeroSlots().shouldBeEmpty()
    }
})

private class StopAtStepZero : RuntimeException()
