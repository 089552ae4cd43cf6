package dev.kqat.dsl

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.plusOrMinus
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import kotlin.math.PI
import kotlin.math.cos

/** Schedules as values of progress t (architecture.md rule 4; algorithms.md §1.6 for the delayed cosine). */
class SchedulesSpec : FunSpec({
    test("constant, linear and step") {
        constant(0.3).at(0.7) shouldBe 0.3
        linear(1.0, 0.0).at(0.25) shouldBe (0.75 plusOrMinus 1e-12)
        val s = step(0.1, 0.1, 0.5, 0.75)
        s.at(0.49) shouldBe (0.1 plusOrMinus 1e-12)
        s.at(0.5) shouldBe (0.01 plusOrMinus 1e-12)
        s.at(0.9) shouldBe (0.001 plusOrMinus 1e-12)
    }

    test("cosine with a delayed start follows §1.6: held until t0, then end + (start-end)/2 (1 + cos)") {
        val s = cosine(0.0, 0.1, delay = 0.25)
        s.at(0.1) shouldBe 0.0
        s.at(0.25) shouldBe (0.0 plusOrMinus 1e-12)
        val t = 0.625
        s.at(t) shouldBe ((0.1 + 0.5 * (0.0 - 0.1) * (1 + cos(PI * (t - 0.25) / 0.75))) plusOrMinus 1e-12)
        s.at(1.0) shouldBe (0.1 plusOrMinus 1e-12)
        cosine(0.05).at(0.5) shouldBe (0.025 plusOrMinus 1e-12)
    }

    test("warm-up ramps linearly to the following schedule") {
        val s = warmup(0.1, constant(0.4))
        s.at(0.05) shouldBe (0.2 plusOrMinus 1e-12)
        s.at(0.5) shouldBe 0.4
    }

    test("perEpoch holds the value of the epoch's start, as CosineAnnealingLR stepped once per epoch") {
        val spec = perEpoch(cosine(0.01, 0.0))
        val s = spec.forEpochs(3)
        val steps = 468
        // PyTorch: lr_e = 0.005 * (1 + cos(pi * e / 3)) for e = 0, 1, 2
        val expected = listOf(0.01, 0.0075, 0.0025)
        for (step in 0 until 3 * steps) {
            s.at(step.toDouble() / (3 * steps)) shouldBe (expected[step / steps] plusOrMinus 1e-12)
        }
        ExperimentJson.decodeFromString(ScheduleSerializer, ExperimentJson.encodeToString(ScheduleSerializer, spec)) shouldBe spec
        shouldThrow<IllegalStateException> { spec.at(0.5) }.message shouldContain "epoch count"
    }
})
