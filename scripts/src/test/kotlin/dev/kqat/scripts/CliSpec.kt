package dev.kqat.scripts

import com.github.ajalt.clikt.core.ProgramResult
import com.github.ajalt.clikt.core.parse
import com.github.ajalt.clikt.core.subcommands
import com.github.ajalt.clikt.testing.test
import dev.kqat.runtime.tf.DeviceSetting
import dev.kqat.dsl.experiment
import dev.kqat.dsl.Report
import dev.kqat.dsl.ExperimentJson
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.shouldBeGreaterThan
import io.kotest.matchers.doubles.plusOrMinus
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import java.io.File
import java.nio.file.Files

class CliSpec : FunSpec({
    fun cli(vararg args: String) = Kqat().subcommands(RunCommand(), BenchCommand()).parse(args.toList())

    test("a script that does not compile exits with code 2") {
        val f = Files.createTempFile("broken", ".qat.kts").toFile().apply { writeText("experiment { data { batchSize = } }") }
        shouldThrow<ProgramResult> { cli("run", f.path, "--out", Files.createTempDirectory("o").toString()) }.statusCode shouldBe 2
    }

    test("--set overrides any field and rejects unknown ones") {
        val e = experiment { data { synthetic() }; pretrain { epochs = 3 } }
        Overrides.apply(e, listOf("pretrain.epochs=1", "data.trainLimit=100")).let {
            it.pretrain!!.epochs shouldBe 1
            it.data.trainLimit shouldBe 100
        }
        shouldThrow<IllegalArgumentException> { Overrides.apply(e, listOf("pretrain.epoks=1")) }
            .message shouldContain "no such field 'pretrain.epoks'"
    }

    test("--set device takes cpu, gpu, gpu:N or auto, and its thread counts after it") {
        val e = experiment { data { synthetic() }; pretrain { } }
        Overrides.apply(e, listOf("device=gpu:1", "device.intraOpThreads=2")).device shouldBe DeviceSetting(DeviceSetting.Kind.GPU, 1, 2, 0)
        Overrides.apply(e, listOf("device=auto")).device shouldBe DeviceSetting(DeviceSetting.Kind.AUTO, 0, 0, 0)
        Overrides.apply(e, listOf("device.interOpThreads=3")).device shouldBe DeviceSetting(DeviceSetting.Kind.CPU, 0, 0, 3)
        shouldThrow<IllegalArgumentException> { Overrides.apply(e, listOf("device=tpu")) }
            .message shouldBe "--set device=tpu: device: 'tpu' is not a device; use cpu, gpu, gpu:N or auto"
    }

    test("kqat run trains a script into a run directory, replays its experiment.json, and refuses to overwrite it") {
        val f = File.createTempFile("small", ".qat.kts").apply {
            writeText("""
                experiment("cli-small") {
                    data { synthetic(trainSize = 256, testSize = 64, height = 12, width = 12, classes = 3, noise = 0.5); batchSize = 32 }
                    pretrain { epochs = 1; optimizer = sgd(lr = cosine(0.05)) }
                }
            """.trimIndent())
        }
        val out = Files.createTempDirectory("kqat-cli").resolve("run")
        cli("run", f.path, "--out", out.toString())
        val report = ExperimentJson.decodeFromString(Report.serializer(), Files.readString(out.resolve("report.json")))
        report.phases.single().steps shouldBe 8L // 256 images, batch 32, one epoch
        // Replaying the stored experiment.json into a new directory trains the same network again.
        val replay = out.resolveSibling("replay")
        cli("run", "--experiment", out.resolve("experiment.json").toString(), "--out", replay.toString())
        val replayed = ExperimentJson.decodeFromString(Report.serializer(), Files.readString(replay.resolve("report.json")))
        replayed.testLoss shouldBe report.testLoss
        replayed.testTop1 shouldBe report.testTop1
        shouldThrow<ProgramResult> { cli("run", f.path, "--out", out.toString()) }.statusCode shouldBe 2
    }

    test("kqat bench measures FP32, fused-kernel QAT with and without oscillation control, TF-op QAT and supernet steps fused and of TF ops, in one process") {
        // Three alternating rounds, medians: in CI the other Surefire fork shares the 2 cores, and one round of
        // 2 steps once measured the supernet at 1.49 QAT steps (2.9-3.7 alone).
        val result = Kqat().subcommands(RunCommand(), BenchCommand()).test("bench --steps 2 --rounds 3 --batch 32 --supernet")
        result.statusCode shouldBe 0
        val figures = result.stdout.lines().mapNotNull { line ->
            line.split(" ").takeIf { it.size == 2 }?.let { (key, value) -> key to value }
        }.toMap()
        figures["fake_quant_kernel"] shouldBe "fused"
        // Every configuration was measured over whole steps: 2 steps of 32 images (the warm-up is 10 steps).
        figures["images_per_measurement"] shouldBe "64"
        figures.keys shouldBe setOf("fake_quant_kernel", "fp32_images_per_sec", "qat_w4a4_images_per_sec",
            "qat_over_fp32_step_time", "qat_oscillation_control_images_per_sec", "oscillation_control_over_qat_step_time",
            "qat_w4a4_tf_ops_images_per_sec", "qat_tf_ops_over_fp32_step_time", "rfquant_supernet_images_per_sec",
            "supernet_over_qat_step_time", "rfquant_supernet_tf_ops_images_per_sec", "supernet_tf_ops_over_fused_step_time",
            "peak_rss_mb", "images_per_measurement")
        // Four passes (max + 3 random subnets) and their gradients: slower than one QAT step.
        figures.getValue("supernet_over_qat_step_time").toDouble() shouldBeGreaterThan 1.5
        val fused = figures.getValue("rfquant_supernet_images_per_sec").toDouble()
        val tfOps = figures.getValue("rfquant_supernet_tf_ops_images_per_sec").toDouble()
        figures.getValue("supernet_tf_ops_over_fused_step_time").toDouble() shouldBe (fused / tfOps plusOrMinus 5e-3 * fused / tfOps)
    }

    test("kqat bench --model tiny-vit measures the tiny ViT the same way; an unknown model is refused by name") {
        val result = Kqat().subcommands(RunCommand(), BenchCommand()).test("bench --model tiny-vit --steps 2 --rounds 1 --batch 32")
        result.statusCode shouldBe 0
        result.stdout.lines().first() shouldBe "tiny-vit, Fashion-MNIST, batch 32, median of 1 rounds × 2 steps"
        val ratio = result.stdout.lines().first { it.startsWith("qat_over_fp32_step_time ") }.substringAfter(' ').toDouble()
        (ratio > 0.5 && ratio < 20) shouldBe true
        val bad = Kqat().subcommands(RunCommand(), BenchCommand()).test("bench --model vgg16")
        bad.statusCode shouldBe 1
        bad.stderr shouldContain "vgg16"
        val vitSupernet = Kqat().subcommands(RunCommand(), BenchCommand()).test("bench --model tiny-vit --supernet")
        vitSupernet.statusCode shouldBe 2
        vitSupernet.stderr shouldContain "--supernet: the RFQuant supernet is measured on tiny-mbv2"
    }
})
