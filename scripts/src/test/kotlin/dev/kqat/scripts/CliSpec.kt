package dev.kqat.scripts

import com.github.ajalt.clikt.core.ProgramResult
import com.github.ajalt.clikt.core.parse
import com.github.ajalt.clikt.core.subcommands
import com.github.ajalt.clikt.testing.test
import dev.kqat.dsl.ExperimentJson
import dev.kqat.dsl.Report
import dev.kqat.dsl.experiment
import dev.kqat.runtime.tf.DeviceSetting
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.engine.spec.tempdir
import io.kotest.engine.spec.tempfile
import io.kotest.matchers.doubles.plusOrMinus
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import java.nio.file.Files

class CliSpec : FunSpec({
    fun cli(vararg args: String) = Kqat().subcommands(RunCommand(), BenchCommand()).parse(args.toList())

    test("a script that does not compile exits with code 2") {
        val f = tempfile("broken", ".qat.kts").toPath().toFile().apply { writeText("experiment { data { batchSize = } }") }
        shouldThrow<ProgramResult> { cli("run", f.path, "--out", tempdir("o").toPath().toString()) }.statusCode shouldBe 2
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
        val f = tempfile("small", ".qat.kts").apply {
            writeText("""
                experiment("cli-small") {
                    data { synthetic(trainSize = 256, testSize = 64, height = 12, width = 12, classes = 3, noise = 0.5); batchSize = 32 }
                    pretrain { epochs = 1; optimizer = sgd(lr = cosine(0.05)) }
                }
            """.trimIndent())
        }
        val out = tempdir("kqat-cli").toPath().resolve("run")
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
        val result = Kqat().subcommands(RunCommand(), BenchCommand()).test("bench --steps 2 --rounds 1 --batch 32 --supernet")
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
        // Speeds are the benchmark's to print, not a test's to bound (docs/benchmarks.md has the figures): each
        // step-time ratio must be the ratio of the throughputs printed beside it, slower over faster the right way round.
        fun rate(key: String) = figures.getValue(key).toDouble()
        fun ratioOf(key: String, faster: String, slower: String) {
            val expected = rate(faster) / rate(slower)
            rate(key) shouldBe (expected plusOrMinus 1e-3 + 2e-3 * expected)
        }
        ratioOf("qat_over_fp32_step_time", "fp32_images_per_sec", "qat_w4a4_images_per_sec")
        ratioOf("oscillation_control_over_qat_step_time", "qat_w4a4_images_per_sec", "qat_oscillation_control_images_per_sec")
        ratioOf("qat_tf_ops_over_fp32_step_time", "fp32_images_per_sec", "qat_w4a4_tf_ops_images_per_sec")
        ratioOf("supernet_over_qat_step_time", "qat_w4a4_images_per_sec", "rfquant_supernet_images_per_sec")
        ratioOf("supernet_tf_ops_over_fused_step_time", "rfquant_supernet_images_per_sec", "rfquant_supernet_tf_ops_images_per_sec")
    }

    test("kqat bench --model tiny-vit measures the tiny ViT the same way; an unknown model is refused by name") {
        val result = Kqat().subcommands(RunCommand(), BenchCommand()).test("bench --model tiny-vit --steps 2 --rounds 1 --batch 32")
        result.statusCode shouldBe 0
        result.stdout.lines().first() shouldBe "tiny-vit, Fashion-MNIST, batch 32, median of 1 rounds × 2 steps"
        fun figure(key: String) = result.stdout.lines().first { it.startsWith("$key ") }.substringAfter(' ').toDouble()
        val expected = figure("fp32_images_per_sec") / figure("qat_w4a4_images_per_sec")
        figure("qat_over_fp32_step_time") shouldBe (expected plusOrMinus 1e-3 + 2e-3 * expected)
        val bad = Kqat().subcommands(RunCommand(), BenchCommand()).test("bench --model vgg16")
        bad.statusCode shouldBe 1
        bad.stderr shouldContain "vgg16"
        val vitSupernet = Kqat().subcommands(RunCommand(), BenchCommand()).test("bench --model tiny-vit --supernet")
        vitSupernet.statusCode shouldBe 2
        vitSupernet.stderr shouldContain "--supernet: the RFQuant supernet is measured on tiny-mbv2"
    }
})
