package dev.kqat.dsl

import dev.kqat.runtime.quant.QuantizationPolicy
import dev.kqat.runtime.train.CheckpointStore
import dev.kqat.runtime.train.TrainingSetup
import java.nio.file.Files
import java.nio.file.Path

/**
 * A checkpoint and the experiment that wrote it, named the way a user names it: a run directory
 * (its last phase's final checkpoint) or one checkpoint folder inside it
 * (`RUN_DIR/checkpoints/<phase>/epoch-NNNN`).
 */
data class RunTarget(
    val runDir: Path,
    val experiment: Experiment,
    val phase: String,
    val checkpoint: Path,
    /** Whether the user named the run directory (its final checkpoint) rather than one checkpoint. */
    val wholeRun: Boolean,
) {
    /** The settings the phase's graph was built from; its checkpoint restores into that graph. */
    val phaseSpec: PhaseSpec
        get() = when (phase) {
            PRETRAIN -> requireNotNull(experiment.pretrain) { "$runDir: the experiment has no pretrain phase" }
            IMPORT, PTQ -> ZERO_EPOCHS
            QAT -> requireNotNull(experiment.qat) { "$runDir: the experiment has no qat phase" }
            else -> throw IllegalArgumentException("$checkpoint: unknown phase '$phase'")
        }

    /** The quantization of the phase; null for FP32 pre-training. */
    val quantization: QuantizationPolicy?
        get() = if (phase in FP32_PHASES) null else experiment.quantization

    /** The epoch the checkpoint closed (0: a post-training checkpoint). */
    val epoch: Int
        get() = CheckpointStore.state(checkpoint).epoch()

    /** The runtime setup whose graph the checkpoint restores into. */
    fun setup(): TrainingSetup = RuntimeMapping.setup(experiment, phaseSpec, quantization)

    companion object {
        const val PRETRAIN = "pretrain"
        /** Keras `.h5` weights imported into an FP32 checkpoint (zero epochs), which a supernet starts from. */
        const val IMPORT = "import"
        const val PTQ = "ptq"
        const val QAT = "qat"

        /** Phases in the order a run goes through them. */
        val PHASES = listOf(PRETRAIN, IMPORT, PTQ, QAT)

        /** The phases whose network is unquantized; the first of them in a run gives its FP32 top-1. */
        val FP32_PHASES = setOf(PRETRAIN, IMPORT)

        /** The settings of the phases that train nothing (PTQ, a Keras import): calibrate, evaluate, save. */
        val ZERO_EPOCHS = PhaseSpec(epochs = 0)

        /** [target] resolved; with [phase], a run directory's checkpoint of that phase, and a checkpoint folder must be one. */
        fun resolve(target: Path, phase: String? = null): RunTarget {
            require(Files.isDirectory(target)) { "$target: no such run directory or checkpoint folder" }
            val resolved = when {
                Files.isRegularFile(target.resolve(ExperimentRunner.EXPERIMENT_FILE)) -> ofRun(target, phase)
                Files.isRegularFile(target.resolve(CheckpointStore.STATE_FILE)) -> ofCheckpoint(target)
                else -> throw IllegalArgumentException("$target: neither a run directory (no ${ExperimentRunner.EXPERIMENT_FILE}) " +
                    "nor a checkpoint folder (no ${CheckpointStore.STATE_FILE})")
            }
            require(phase == null || resolved.phase == phase) {
                "$target: a '${resolved.phase}' checkpoint, a '$phase' one is needed"
            }
            return resolved
        }

        private fun ofRun(runDir: Path, only: String?): RunTarget {
            val experiment = ExperimentRunner.storedExperiment(runDir)
            for (phase in PHASES.reversed().filter { only == null || it == only }) {
                val checkpoint = CheckpointStore(runDir.resolve("checkpoints").resolve(phase), Int.MAX_VALUE).latest().orElse(null)
                    ?: outcomeCheckpoint(runDir, phase)
                if (checkpoint != null) return RunTarget(runDir, experiment, phase, checkpoint, wholeRun = true)
            }
            throw IllegalArgumentException("$runDir: the run has no complete ${only?.let { "'$it' " } ?: ""}checkpoint yet")
        }

        /** A phase's checkpoint kept elsewhere (a cached pre-training), as its outcome names it. */
        private fun outcomeCheckpoint(runDir: Path, phase: String): Path? {
            val file = runDir.resolve("$phase.outcome.json")
            if (!Files.isRegularFile(file)) return null
            return Path.of(ExperimentJson.decodeFromString(PhaseOutcome.serializer(), Files.readString(file)).checkpoint)
        }

        private fun ofCheckpoint(checkpoint: Path): RunTarget {
            val phase = CheckpointStore.state(checkpoint).phase()
            val runDir = checkpoint.toAbsolutePath().normalize().parent?.parent?.parent
            require(runDir != null && Files.isRegularFile(runDir.resolve(ExperimentRunner.EXPERIMENT_FILE))) {
                "$checkpoint: no ${ExperimentRunner.EXPERIMENT_FILE} in the run directory above it " +
                    "(expected RUN_DIR/checkpoints/$phase/${checkpoint.fileName}); give the run directory"
            }
            return RunTarget(runDir, ExperimentRunner.storedExperiment(runDir), phase, checkpoint, wholeRun = false)
        }
    }
}
