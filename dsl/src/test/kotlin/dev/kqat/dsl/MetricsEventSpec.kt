package dev.kqat.dsl

import io.kotest.core.spec.style.FunSpec
import io.kotest.engine.spec.tempfile
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldNotContain
import java.nio.file.Files

class MetricsEventSpec : FunSpec({
    val every = listOf(
        MetricsEvent.PhaseStart(1.5, "qat", 3, 468, 0),
        MetricsEvent.WeightsImported(2.0, "qat", "w.h5", 262, listOf("classifier/kernel (1000 classes)")),
        MetricsEvent.Calibrated(2.5, "qat", 45, 0.75),
        MetricsEvent.Step(3.0, "qat", 1, 10, 0.5, 0.875, 0.0033, 812.0),
        MetricsEvent.Eval(4.0, "qat", 0, 1.68, 0.4756),
        MetricsEvent.Epoch(5.0, "qat", 1, 468, 0.3, 0.89, 0.29, 0.8951, 0.8899, 700.0, 80.0, 0.025, 0.0004, 0.0, 0.025),
        MetricsEvent.Epoch(5.0, "pretrain", 1, 468, 0.3, 0.89, 0.29, 0.8951, imagesPerSec = 900.0, trainSeconds = 60.0),
        MetricsEvent.Oscillation(5.0, "qat", 1, 468, "block1/dw", 144, 0.1, 0.002, 0.0, 0.1),
        MetricsEvent.Epoch(5.0, "qat", 2, 936, 0.3, 0.89, 0.29, 0.8951, null, 700.0, 80.0, binRegularizer = 0.4, binRegularizerWeight = 0.01, binSpread = 0.02),
        MetricsEvent.Bins(5.0, "qat", 2, 936, "blocks/0/attn/q/weight", 4096, 0.004, 0.021),
        MetricsEvent.Checkpoint(6.0, "qat", 1, "/runs/x/checkpoints/qat/epoch-0001"),
    )

    test("every kind of metrics.jsonl line is read back by the serializer that wrote it") {
        for (e in every) MetricsEvents.decode(MetricsEvents.encode(e)) shouldBe e
    }

    test("lines keep the keys readers of earlier runs know, and omit figures a phase does not have") {
        MetricsEvents.encode(every[5]) shouldBe """{"event":"epoch","time":5.0,"phase":"qat","epoch":1,"step":468,""" +
            """"train_loss":0.3,"train_top1":0.89,"test_loss":0.29,"test_top1":0.8951,"test_top1_no_bn_reestimation":0.8899,""" +
            """"images_per_sec":700.0,"train_seconds":80.0,"oscillating_fraction":0.025,"mean_oscillation_frequency":4.0E-4,""" +
            """"frozen_fraction":0.0,"oscillating_unfrozen_fraction":0.025}"""
        MetricsEvents.encode(every[6]) shouldNotContain "oscillating_fraction"
    }

    test("a file with a torn last line (a killed run) reads up to it") {
        val file = tempfile("metrics", ".jsonl").toPath()
        Files.writeString(file, every.joinToString("\n") { MetricsEvents.encode(it) } + "\n" + MetricsEvents.encode(every[3]).take(25))
        MetricsEvents.read(file) shouldBe every
    }
})
