package dev.kqat.dsl

import dev.kqat.runtime.distill.OnlineTeacher
import dev.kqat.runtime.distill.SoftLabelFile
import dev.kqat.runtime.distill.SoftLabelGenerator
import java.nio.file.Path

/**
 * `kqat softlabels`: a teacher labels R random crops of every image of an experiment's training set
 * into a soft-label file (algorithms.md §3.4), for QAT runs to replay with `distill { softLabels(file) }`.
 * The teacher is a run's FP32 network (its pre-training checkpoint) or the one a script names.
 */
object SoftLabelWriter {
    /** `RUN_DIR/softlabels-r<R>-k<k>.kqsl`. */
    fun defaultFile(target: RunTarget, settings: SoftLabelGenerator.Settings): Path =
        target.runDir.resolve(fileName(settings))

    /** `softlabels-r<R>-k<k>.kqsl`. */
    fun fileName(settings: SoftLabelGenerator.Settings): String = "softlabels-r${settings.crops()}-k${settings.topK()}.kqsl"

    /** Writes [out] from a run's FP32 network (whole or not at all); [progress] hears (images done, images in all). */
    fun write(target: RunTarget, out: Path, settings: SoftLabelGenerator.Settings, progress: (Int, Int) -> Unit): SoftLabelFile.Header =
        write(target.experiment, teacherOf(target), out, settings, progress)

    /** A run's FP32 network: its pre-training checkpoint in the run's architecture. */
    fun teacherOf(target: RunTarget): OnlineTeacher = OnlineTeacher(RuntimeMapping.model(target.experiment), target.checkpoint)

    /**
     * The teacher a script declares for labelling its training set: its online distillation teacher
     * (`distill { teacher(...) }`, by default the weights it starts from), or without distillation the
     * weights of `initFrom` in its own architecture.
     */
    fun teacherOf(e: Experiment): OnlineTeacher {
        val d = e.distillation
        require(d?.softLabels == null) {
            "distillation.softLabels: ${e.name} replays stored soft labels; a script that labels crops needs a teacher " +
                "(distill { teacher(...) }, or initFrom weights)"
        }
        val init = e.initFrom?.let(Path::of)
        if (d?.teacherCheckpoint == null) {
            requireNotNull(init) {
                "initFrom: ${e.name} names no teacher weights (it would train its FP32 network first): run it and give " +
                    "kqat softlabels the run directory, or name them with initFrom or distill { teacher(\"FILE\") }"
            }
        }
        return if (d != null) RuntimeMapping.distillation(e, d, init) as OnlineTeacher
        else OnlineTeacher(RuntimeMapping.model(e), init!!)
    }

    /** Writes [out] with [teacher] from [e]'s training set. */
    fun write(e: Experiment, teacher: OnlineTeacher, out: Path, settings: SoftLabelGenerator.Settings,
        progress: (Int, Int) -> Unit): SoftLabelFile.Header {
        val (train, test) = RuntimeMapping.loadData(e)
        try {
            return SoftLabelGenerator.generate(teacher, train, out, settings) { progress(it, train.size()) }
        } finally {
            (train as? AutoCloseable)?.close()
            (test as? AutoCloseable)?.close()
        }
    }
}
