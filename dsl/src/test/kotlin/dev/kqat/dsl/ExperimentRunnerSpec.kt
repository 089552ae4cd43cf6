package dev.kqat.dsl

import dev.kqat.runtime.distill.OnlineTeacher
import dev.kqat.runtime.distill.SoftLabelGenerator
import dev.kqat.runtime.distill.StoredSoftLabels
import io.kotest.core.spec.style.FunSpec
import io.kotest.engine.spec.tempdir
import io.kotest.matchers.doubles.plusOrMinus
import io.kotest.matchers.doubles.shouldBeGreaterThan
import io.kotest.matchers.doubles.shouldBeGreaterThanOrEqual
import io.kotest.matchers.doubles.shouldBeLessThanOrEqual
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import java.nio.file.Files
import java.nio.file.Path

class ExperimentRunnerSpec : FunSpec({
    fun small(name: String) = experiment(name) {
        data { synthetic(trainSize = 1024, testSize = 128, height = 12, width = 12, classes = 4, noise = 0.8); batchSize = 32 }
        model { tinyMbv2() }
        pretrain { epochs = 2; optimizer = sgd(lr = cosine(0.05)); cacheKey = "spec-$name" }
        quantize { weights { bits = 4 }; activations { bits = 4 } }
        qat { epochs = 1; optimizer = sgd(lr = cosine(0.01)) }
    }

    test("a run directory describes itself and the FP32 result is cached for the next run") {
        val cache = PretrainCache(tempdir("kqat-cache").toPath())
        val dir = tempdir("kqat-run").toPath()
        val report = ExperimentRunner(small("cached"), dir, cache = cache).run()
        report.testTop1 shouldBeGreaterThan 0.5 // 4 classes: chance is 0.25
        report.phases.map { it.phase } shouldBe listOf("pretrain", "qat")
        ExperimentJson.decodeFromString(Report.serializer(), Files.readString(dir.resolve("report.json"))) shouldBe report
        readExperimentFile(dir.resolve("experiment.json")) shouldBe small("cached")
        val events = MetricsEvents.read(dir.resolve("metrics.jsonl"))
        events.filterIsInstance<MetricsEvent.Epoch>().map { it.phase to it.epoch } shouldBe
            listOf("pretrain" to 1, "pretrain" to 2, "qat" to 1)
        // The cache holds the FP32 phase's outcome and checkpoint.
        val cached = cache.lookup(small("cached"))!!
        cached.testTop1 shouldBe report.fp32TestTop1
        Files.isRegularFile(Path.of(cached.checkpoint, "variables.index")) shouldBe true
        // Second run: pre-training comes from the cache, so only QAT is logged, and QAT starts from the
        // same FP32 weights: its evaluation after calibration is the first run's, exactly.
        val dir2 = tempdir("kqat-run2").toPath()
        val report2 = ExperimentRunner(small("cached"), dir2, cache = cache).run()
        val events2 = MetricsEvents.read(dir2.resolve("metrics.jsonl"))
        events2.map { it.phase }.toSet() shouldBe setOf("qat")
        fun afterCalibration(e: List<MetricsEvent>) = e.filterIsInstance<MetricsEvent.Eval>().single { it.phase == "qat" && it.epoch == 0 }
        afterCalibration(events2).testTop1 shouldBe afterCalibration(events).testTop1
        afterCalibration(events2).testLoss shouldBe afterCalibration(events).testLoss
        report2.fp32TestTop1 shouldBe report.fp32TestTop1
    }

    test("distill { teacher() }: QAT learns from the FP32 network it starts from; the teacher is that checkpoint and architecture") {
        val cache = PretrainCache(tempdir("kqat-cache").toPath())
        val e = experiment("kd") {
            data { synthetic(trainSize = 1024, testSize = 128, height = 12, width = 12, classes = 4, noise = 0.8); batchSize = 32 }
            model { tinyMbv2() }
            pretrain { epochs = 2; optimizer = sgd(lr = cosine(0.05)); cacheKey = "spec-kd" }
            quantize { weights { bits = 4 }; activations { bits = 4 } }
            qat { epochs = 1; optimizer = sgd(lr = cosine(0.01)) }
            distill { teacher() }
        }
        experimentFromJson(e.toJson()) shouldBe e
        val dir = tempdir("kqat-run-kd").toPath()
        val report = ExperimentRunner(e, dir, cache = cache).run()
        report.testTop1 shouldBeGreaterThan 0.5 // accuracy against the labels, which the loss never saw
        val fp32 = Path.of(cache.lookup(e)!!.checkpoint)
        val kd = RuntimeMapping.setup(e, e.qat!!, e.quantization, fp32).distillation() as OnlineTeacher
        kd.checkpoint() shouldBe fp32
        kd.teacher().name() shouldBe "tiny-mbv2"
        // Another architecture from a named checkpoint; PTQ and FP32 phases never distil.
        val other = e.copy(distillation = DistillationSpec(fp32.toString(), ModelSpec.TinyVitSpec()))
        (RuntimeMapping.setup(other, other.qat!!, other.quantization, null).distillation() as OnlineTeacher).teacher().name() shouldBe "tiny-vit"
        RuntimeMapping.setup(e, PhaseSpec(epochs = 0), e.quantization, fp32).distillation() shouldBe null
        RuntimeMapping.setup(e, e.pretrain!!, null, fp32).distillation() shouldBe null

        // Stored soft labels from the same FP32 network (what `kqat softlabels RUN_DIR` writes), replayed
        // 2 crops per image: 3 epochs are one pass of 2 and one single-crop epoch.
        val file = dir.resolve("softlabels.kqsl")
        var done = 0
        val fp32Run = RunTarget.resolve(dir, RunTarget.PRETRAIN)
        val header = SoftLabelWriter.write(fp32Run, file,
            SoftLabelGenerator.Settings(4, 2, 0.35, 1.0, 0)) { images, total -> done = images; total shouldBe 1024 }
        done shouldBe 1024
        header.teacher() shouldBe fp32Run.checkpoint.toString()
        fp32Run.checkpoint.toString() shouldContain "checkpoints/pretrain/epoch-0002"
        val stored = e.copy(name = "kd-stored", qat = e.qat!!.copy(epochs = 3),
            distillation = DistillationSpec(softLabels = file.toString(), crops = 2))
        experimentFromJson(stored.toJson()) shouldBe stored
        val storedDir = tempdir("kqat-run-kd-stored").toPath()
        val storedReport = ExperimentRunner(stored, storedDir, cache = cache).run()
        storedReport.testTop1 shouldBeGreaterThan 0.5
        MetricsEvents.read(storedDir.resolve("metrics.jsonl")).filterIsInstance<MetricsEvent.Epoch>()
            .filter { it.phase == "qat" }.map { it.epoch } shouldBe listOf(2, 3)
        (RuntimeMapping.setup(stored, stored.qat!!, stored.quantization, fp32).distillation() as StoredSoftLabels).crops() shouldBe 2
    }

    test("oscillation tracking, dampening, freezing, the bin regulariser and BN re-estimation land in report.json, metrics.jsonl and TensorBoard") {
        val cache = PretrainCache(tempdir("kqat-cache").toPath())
        val e = experiment("oscillations") {
            data { synthetic(trainSize = 1024, testSize = 128, height = 12, width = 12, classes = 4, noise = 0.8); batchSize = 32 }
            model { tinyMbv2() }
            pretrain { epochs = 2; optimizer = sgd(lr = cosine(0.05)); cacheKey = "spec-oscillations" }
            quantize { weights { bits = 3 }; activations { bits = 4 } }
            qat { epochs = 2; optimizer = sgd(lr = cosine(0.05)) }
            // A large momentum and threshold 0.02 so that 64 steps can freeze something.
            oscillations {
                track(momentum = 0.2, threshold = 0.02)
                dampen(weight = cosine(0.0, 0.1))
                freeze(threshold = constant(0.05), after = 0.25)
                binRegularizer(weight = constant(0.02))
            }
            evaluate { bnReestimation(batches = 4) }
        }
        val dir = tempdir("kqat-run-osc").toPath()
        val report = ExperimentRunner(e, dir, cache = cache).run()
        report.testTop1 shouldBeGreaterThan 0.5
        // The run must have frozen something (momentum 0.2, threshold 0.05), or freezing went untested.
        report.frozenFraction!! shouldBeGreaterThan 0.0
        // Weights still free to flip: the oscillating ones minus those of them that are frozen.
        report.oscillatingUnfrozenFraction!! shouldBeLessThanOrEqual report.oscillatingFraction!!
        report.oscillatingUnfrozenFraction!! shouldBeGreaterThanOrEqual report.oscillatingFraction!! - report.frozenFraction!! - 1e-9
        ExperimentJson.decodeFromString(Report.serializer(), Files.readString(dir.resolve("report.json"))) shouldBe report
        val events = MetricsEvents.read(dir.resolve("metrics.jsonl"))
        val lastEpoch = events.filterIsInstance<MetricsEvent.Epoch>().last()
        lastEpoch.testTop1 shouldBe report.testTop1
        lastEpoch.testTop1NoBnReestimation shouldBe report.testTop1NoBnReestimation
        lastEpoch.oscillatingFraction shouldBe report.oscillatingFraction
        lastEpoch.frozenFraction shouldBe report.frozenFraction
        val layers = events.filterIsInstance<MetricsEvent.Oscillation>()
        // 3-bit weights: every weight layer but the 8-bit first and last is tracked, each epoch.
        layers.map { it.layer }.toSet().size shouldBe 21
        layers.size shouldBe 2 * 21
        // The model's share is the weight-weighted mean of the layers' shares.
        val final = layers.filter { it.epoch == 2 }
        (final.sumOf { it.oscillatingFraction * it.weights } / final.sumOf { it.weights }) shouldBe
            (report.oscillatingFraction!! plusOrMinus 1e-9)
        // The bin regulariser: λ, Σ_layers R and the weight-weighted bin spread per epoch, and every
        // quantized weight layer (the 8-bit ends too) per epoch.
        val bins = events.filterIsInstance<MetricsEvent.Bins>()
        bins.map { it.layer }.toSet().size shouldBe 23
        bins.size shouldBe 2 * 23
        val finalBins = bins.filter { it.epoch == 2 }
        lastEpoch.binRegularizerWeight shouldBe 0.02
        lastEpoch.binRegularizer!! shouldBe (finalBins.sumOf { it.regularizer } plusOrMinus 1e-9)
        lastEpoch.binSpread!! shouldBe (finalBins.sumOf { it.spread * it.weights } / finalBins.sumOf { it.weights } plusOrMinus 1e-9)
        finalBins.forEach { it.regularizer shouldBeGreaterThan 0.0 }
        // TensorBoard: the same figures as scalars, readable from the event file.
        val scalars = TensorBoardEvents.read(dir.resolve("tensorboard"))
        scalars.getValue("qat/test_top1").last().toDouble() shouldBe (report.testTop1 plusOrMinus 1e-6)
        scalars.getValue("qat/oscillating_fraction").last().toDouble() shouldBe (report.oscillatingFraction!! plusOrMinus 1e-6)
        scalars.getValue("qat/frozen_fraction").last().toDouble() shouldBe (report.frozenFraction!! plusOrMinus 1e-6)
        scalars.getValue("qat/oscillating_unfrozen_fraction").last().toDouble() shouldBe
            (report.oscillatingUnfrozenFraction!! plusOrMinus 1e-6)
        scalars.keys.count { it.startsWith("qat/oscillating_share/") } shouldBe 21
        scalars.getValue("qat/bin_regularizer").last().toDouble() shouldBe (lastEpoch.binRegularizer!! plusOrMinus 1e-6)
        scalars.getValue("qat/bin_spread").last().toDouble() shouldBe (lastEpoch.binSpread!! plusOrMinus 1e-6)
        scalars.keys.count { it.startsWith("qat/bin_spread/") } shouldBe 23
        scalars.getValue("qat/loss").size shouldBe 64 / 10
        // kqat report: both pictures, as PNGs that decode.
        val pictures = RunPlots.draw(dir)
        pictures.map { it.fileName.toString() } shouldBe listOf("oscillating-share-per-layer.png", "latent-distance-to-bin-centre.png")
        for (p in pictures) {
            val image = javax.imageio.ImageIO.read(p.toFile())
            (image.width > 400 && image.height > 300) shouldBe true
        }
    }
})
