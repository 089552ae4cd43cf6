package dev.kqat.dsl

import dev.kqat.runtime.data.Dataset
import dev.kqat.runtime.events.RunListener
import dev.kqat.runtime.events.TensorBoardWriter
import dev.kqat.runtime.io.KerasH5Weights
import dev.kqat.runtime.quant.QuantizationPolicy
import dev.kqat.runtime.run.PhaseRunner
import dev.kqat.runtime.run.SupernetRunner
import dev.kqat.runtime.train.SupernetTrainer
import dev.kqat.runtime.train.CheckpointStore
import dev.kqat.runtime.train.PhasePlan
import java.nio.file.Files
import java.nio.file.Path

/**
 * Runs an [Experiment] into a self-describing run directory (architecture.md):
 * `experiment.json`, `metrics.jsonl`, `tensorboard/`, `checkpoints/<phase>/`, `<phase>.outcome.json`,
 * `report.json`.
 * Started again on the same directory ([resume]), it skips finished phases and continues the
 * interrupted one from its last checkpoint.
 */
class ExperimentRunner(
    private val experiment: Experiment,
    private val runDir: Path,
    private val listener: RunListener = object : RunListener {},
    private val cache: PretrainCache = PretrainCache(),
) {
    companion object {
        const val EXPERIMENT_FILE = "experiment.json"
        const val REPORT_FILE = "report.json"
        const val METRICS_FILE = "metrics.jsonl"
        /** TensorBoard scalars of the same figures: `tensorboard --logdir RUN_DIR/tensorboard`. */
        const val TENSORBOARD_DIR = "tensorboard"
        /** The phase name, checkpoint folder and outcome file of a supernet. */
        const val SUPERNET_PHASE = "supernet"

        /**
         * Continues the unfinished run in [runDir] from its `experiment.json` and checkpoints; with
         * [expected], the run must be of that experiment (a script given beside `--resume`).
         */
        fun resume(
            runDir: Path,
            listener: RunListener = object : RunListener {},
            cache: PretrainCache = PretrainCache(),
            expected: Experiment? = null,
        ): Report {
            val e = storedExperiment(runDir)
            if (expected != null && e.withoutSource() != expected.withoutSource()) {
                throw IllegalArgumentException(
                    "$runDir: holds a run of experiment '${e.name}', not of the given script's '${expected.name}' " +
                        "(or the same name with other settings); resume without the script, or choose another --out")
            }
            if (Files.exists(runDir.resolve(REPORT_FILE))) {
                throw IllegalStateException("$runDir: the run already finished ($REPORT_FILE is there); start a new run with another --out")
            }
            return ExperimentRunner(e, runDir, listener, cache).run(resume = true)
        }

        /** The experiment a run directory was started with. */
        fun storedExperiment(runDir: Path): Experiment {
            val file = runDir.resolve(EXPERIMENT_FILE)
            require(Files.isRegularFile(file)) { "$runDir: not a kqat run directory (no $EXPERIMENT_FILE)" }
            return readExperimentFile(file)
        }

        private fun Experiment.withoutSource() = copy(sourceFile = null, sourceLines = emptyMap())
    }

    fun run(resume: Boolean = false): Report {
        Validation.requireValid(experiment)
        // A GPU that TensorFlow does not see fails here, before the run directory, data or any graph
        // (each PhaseRunner resolves the same setting again, from the same remembered device list).
        try {
            experiment.device.resolve()
        } catch (e: IllegalStateException) {
            throw IllegalStateException("device: ${e.message}", e)
        }
        RunLock.acquire(runDir).use {
            prepareDirectory(resume)
            // Load data before building anything: a corrupt file fails fast, naming the file.
            val (train, test) = RuntimeMapping.loadData(experiment)
            try {
                return runPhases(train, test)
            } finally {
                (train as? AutoCloseable)?.close()
                (test as? AutoCloseable)?.close()
            }
        }
    }

    private fun runPhases(train: Dataset, test: Dataset): Report {
        val outcomes = mutableListOf<PhaseOutcome>()
        var init: Path? = experiment.initFrom?.let(Path::of)
        MetricsLog(runDir.resolve(METRICS_FILE)).use { metrics -> TensorBoardWriter(runDir.resolve(TENSORBOARD_DIR)).use { tensorBoard ->
            val board = TensorBoardSink(tensorBoard)
            val events = RunListener.of(MetricsRecorder(listOf(metrics::write, board::write)), listener)
            experiment.pretrain?.let { spec ->
                val cached = if (spec.cacheKey != null) cache.lookup(experiment) else null
                val outcome = cached ?: runPhase(RunTarget.PRETRAIN, spec, null, train, test, events, init)
                if (cached == null && spec.cacheKey != null) cache.store(experiment, outcome)
                outcomes += outcome
                init = Path.of(outcome.checkpoint)
            }
            if (experiment.ptq) {
                // Zero epochs: calibrate and evaluate. QAT below starts from the same weights and calibrates anew.
                outcomes += runPhase(RunTarget.PTQ, RunTarget.ZERO_EPOCHS, experiment.quantization, train, test, events, init)
            }
            experiment.qat?.let { spec ->
                outcomes += runPhase(RunTarget.QAT, spec, experiment.quantization, train, test, events, init)
            }
            experiment.mixedPrecision?.let { spec ->
                var start = requireNotNull(init) { "initFrom: a supernet needs the FP32 network" }
                // The supernet maps a kqat FP32 checkpoint onto its variables: Keras weights become one first,
                // in a zero-epoch FP32 phase that imports and evaluates them.
                if (KerasH5Weights.isH5(start)) {
                    val imported = runPhase(RunTarget.IMPORT, RunTarget.ZERO_EPOCHS, null, train, test, events, start)
                    outcomes += imported
                    start = Path.of(imported.checkpoint)
                }
                outcomes += runSupernet(spec, train, test, events, start)
            }
        } }
        // A run resumed after its supernet finished searches the saved one.
        if (experiment.search != null && !Files.isRegularFile(runDir.resolve(SupernetSearch.FILE))) {
            SupernetSearch.run(runDir, experiment, experiment.search, train, test, listener)
        }
        val last = outcomes.last()
        val report = Report(
            experiment = experiment.name,
            testTop1 = last.testTop1,
            testLoss = last.testLoss,
            trainImagesPerSec = last.trainImagesPerSec,
            peakRssMb = peakRssMb(),
            fp32TestTop1 = outcomes.firstOrNull { it.phase in RunTarget.FP32_PHASES }?.testTop1,
            testTop1NoBnReestimation = last.testTop1NoBnReestimation,
            ptqTestTop1 = last.ptqTestTop1,
            oscillatingFraction = last.oscillatingFraction,
            frozenFraction = last.frozenFraction,
            oscillatingUnfrozenFraction = last.oscillatingUnfrozenFraction,
            phases = outcomes,
        )
        AtomicFiles.write(runDir.resolve(REPORT_FILE), ExperimentJson.encodeToString(Report.serializer(), report))
        return report
    }

    private fun prepareDirectory(resume: Boolean) {
        val file = runDir.resolve(EXPERIMENT_FILE)
        if (!resume && Files.exists(runDir.resolve("checkpoints"))) {
            throw IllegalStateException("$runDir already holds a run; continue it with --resume or choose another --out")
        }
        Files.createDirectories(runDir)
        if (!resume || !Files.exists(file)) AtomicFiles.write(file, experiment.toJson())
    }

    private fun runPhase(
        phase: String,
        spec: PhaseSpec,
        quantization: QuantizationPolicy?,
        train: Dataset,
        test: Dataset,
        events: RunListener,
        init: Path?,
    ): PhaseOutcome {
        val outcomeFile = runDir.resolve("$phase.outcome.json")
        if (Files.isRegularFile(outcomeFile)) {
            return ExperimentJson.decodeFromString(PhaseOutcome.serializer(), Files.readString(outcomeFile))
        }
        val store = CheckpointStore(runDir.resolve("checkpoints").resolve(phase), 2)
        val resumeFrom = store.latest().orElse(null)
        val setup = RuntimeMapping.setup(experiment, spec, quantization, init)
        val plan = PhasePlan(
            phase, spec.epochs, experiment.data.batchSize, train, test, store,
            quantization?.calibrationBatches() ?: 0, quantization != null,
            if (quantization != null) experiment.evaluation.bnReestimationBatches else 0,
        )
        val result = PhaseRunner(setup).use { it.train(plan, resumeFrom, init, events) }
        val outcome = PhaseOutcome(
            phase, result.test().top1(), result.test().loss(), result.imagesPerSecond(), result.steps(),
            store.latest().orElseThrow().toString(),
            testTop1NoBnReestimation = result.testWithoutBnReestimation()?.top1(),
            ptqTestTop1 = if (quantization == null) null else
                result.beforeTraining()?.top1() ?: evaluationBeforeTraining(phase)?.testTop1,
            oscillatingFraction = result.oscillations()?.oscillatingFraction(),
            meanOscillationFrequency = result.oscillations()?.meanFrequency(),
            frozenFraction = result.oscillations()?.frozenFraction(),
            oscillatingUnfrozenFraction = result.oscillations()?.oscillatingUnfrozenFraction(),
        )
        AtomicFiles.write(outcomeFile, ExperimentJson.encodeToString(PhaseOutcome.serializer(), outcome))
        return outcome
    }

    /** RFQuant's supernet phase: trained once from the FP32 network [init], its uniform subnets evaluated. */
    private fun runSupernet(spec: SupernetSpec, train: Dataset, test: Dataset, events: RunListener, init: Path): PhaseOutcome {
        val phase = SUPERNET_PHASE
        val outcomeFile = runDir.resolve("$phase.outcome.json")
        if (Files.isRegularFile(outcomeFile)) {
            return ExperimentJson.decodeFromString(PhaseOutcome.serializer(), Files.readString(outcomeFile))
        }
        val store = CheckpointStore(runDir.resolve("checkpoints").resolve(phase), 2)
        val plan = SupernetTrainer.Plan(phase, spec.epochs, experiment.data.batchSize, train, test, store,
            spec.calibrationBatches, spec.bitScheduler, spec.bnCalibrationBatches, spec.evaluateUniform)
        val result = SupernetRunner(RuntimeMapping.supernetSetup(experiment, spec), spec.graphSpec()).use { runner ->
            runner.train(plan, store.latest().orElse(null), init, events).also {
                // The trained graph searches at once (its EMA is in place), without building it again.
                experiment.search?.let { search ->
                    SupernetSearch.search(runner, runDir, store.latest().orElseThrow(), experiment, search, train, test, listener,
                        listener::searchReported)
                }
            }
        }
        val outcome = PhaseOutcome(
            phase, result.maxRunning().top1(), result.maxRunning().loss(), result.imagesPerSecond(), result.steps(),
            store.latest().orElseThrow().toString(),
            uniformTop1 = result.uniform().entries.associate { (bits, m) -> "W${bits}A$bits" to m.top1() },
            uniformTop1BeforeTraining = result.uniformBeforeTraining().entries.associate { (bits, m) -> "W${bits}A$bits" to m.top1() }
                .ifEmpty { null },
        )
        AtomicFiles.write(outcomeFile, ExperimentJson.encodeToString(PhaseOutcome.serializer(), outcome))
        return outcome
    }

    /** A resumed phase's evaluation before its first step, as the killed process logged it. */
    private fun evaluationBeforeTraining(phase: String): MetricsEvent.Eval? =
        MetricsEvents.read(runDir.resolve(METRICS_FILE)).filterIsInstance<MetricsEvent.Eval>()
            .firstOrNull { it.phase == phase && it.epoch == 0 }
}
