package dev.kqat.runtime.settings

import dev.kqat.runtime.quant.GradientScaling
import dev.kqat.runtime.quant.Signedness
import dev.kqat.runtime.oscillation.OscillationSpec
import dev.kqat.runtime.quant.QuantizationPolicy
import dev.kqat.runtime.quant.LayerOverride
import dev.kqat.runtime.quant.QuantizerSpec
import dev.kqat.runtime.schedule.Schedule
import dev.kqat.runtime.train.OptimizerConfig
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.maps.shouldContainExactly
import io.kotest.matchers.shouldBe

/** Each settings record names its own bad components, nested ones by path; the defaults are valid. */
class SettingsProblemsSpec : FunSpec({
    test("the defaults have no problems") {
        listOf(
            QuantizerSpec.DEFAULT, QuantizationPolicy.DEFAULT, LayerOverride.DEFAULT, OptimizerConfig.DEFAULT,
            OptimizerConfig.QUANTIZER_DEFAULT, OscillationSpec.Tracking.DEFAULT, OscillationSpec.Dampening.DEFAULT,
            OscillationSpec.Freezing.DEFAULT,
        ).forEach { it.problems() shouldBe emptyMap() }
    }

    test("a quantization policy lists its quantizers' and overrides' problems under their paths") {
        val policy = QuantizationPolicy(
            QuantizerSpec.lsq(1), QuantizerSpec.lsq(4).let { QuantizerSpec(17, true, it.convention(), GradientScaling.OFF, it.init(), 0, true, Signedness.FROM_DATA, false, false) },
            8, mapOf("block1/pw" to LayerOverride(20, null, false)), 0,
        )
        policy.problems() shouldContainExactly mapOf(
            "weights.bits" to "bits must be in 2..16, got 1",
            "activations.bits" to "bits must be in 2..16, got 17",
            "activations.candidates" to "must be >= 1, got 0",
            "activations.perChannel" to "activations are quantized per tensor",
            "calibrationBatches" to "must be >= 1, got 0",
            "layers[block1/pw].weightBits" to "bits must be in 2..16, got 20",
        )
    }

    test("schedules check their own shape and every value they can take") {
        val lr = Schedule.Warmup(1.5, Schedule.Cosine(-0.1, 0.0, 2.0))
        OptimizerConfig.sgd(lr, 1.0, -1.0).problems() shouldContainExactly mapOf(
            "learningRate.fraction" to "must be in [0, 1), got 1.5",
            "learningRate.after.delay" to "must be in [0, 1), got 2.0",
            "learningRate" to "must be finite and >= 0, got [0.0, -0.1, 0.0]",
            "momentum" to "must be in [0, 1), got 1.0",
            "weightDecay" to "must be >= 0, got -1.0",
        )
        Schedule.Step(0.1, 0.1, listOf(0.5, 1.5)).problems() shouldContainExactly mapOf(
            "milestones" to "fractions of training: must be in [0, 1], got [0.5, 1.5]",
        )
    }

    test("oscillation control: bounds by part, and the runtime refuses a spec with problems") {
        val spec = OscillationSpec(
            OscillationSpec.Tracking(1, 0.0, 2.0, false),
            OscillationSpec.Dampening(Schedule.Constant(-1.0), OscillationSpec.Aggregation.SUM, 1.0),
            OscillationSpec.Freezing(Schedule.Linear(0.0, 0.5), 0.25, true),
        )
        spec.problems() shouldContainExactly mapOf(
            "tracking.maxBits" to "bits must be in 2..16, got 1",
            "tracking.momentum" to "must be in (0, 1], got 0.0",
            "tracking.threshold" to "a frequency: must be in [0, 1], got 2.0",
            "dampening.weight" to "must be finite and >= 0, got [-1.0]",
            "dampening.after" to "must be in [0, 1), got 1.0",
            "freezing.threshold" to "frequencies: must be in (0, 1], got [0.0, 0.5]",
        )
        shouldThrow<IllegalArgumentException> { spec.requireValid<OscillationSpec>() }.message shouldBe
            "OscillationSpec: " + spec.problems().entries.joinToString("; ") { "${it.key}: ${it.value}" }
    }

    test("a per-epoch schedule takes its phase's epoch count, or keeps its own") {
        val s = Schedule.PerEpoch(Schedule.Linear(1.0, 0.0))
        shouldThrow<IllegalStateException> { s.at(0.5) }
        s.forEpochs(4).at(0.3) shouldBe 0.75
        Schedule.PerEpoch(Schedule.Linear(1.0, 0.0), 2).forEpochs(4).at(0.3) shouldBe 1.0
        Schedule.Warmup(0.1, s).forEpochs(4).at(0.6) shouldBe 0.5
    }
})
