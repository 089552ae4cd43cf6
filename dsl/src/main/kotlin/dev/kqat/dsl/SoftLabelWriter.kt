package dev.kqat.dsl

import dev.kqat.runtime.distill.OnlineTeacher
import dev.kqat.runtime.distill.SoftLabelFile
import dev.kqat.runtime.distill.SoftLabelGenerator
import java.nio.file.Path

/**
 * `kqat softlabels`: a run's FP32 network (its pre-training checkpoint) labels R random crops of
 * every image of the run's training set into a soft-label file (algorithms.md §3.4), for QAT runs
 * to replay with `distill { softLabels(file) }`.
 */
object SoftLabelWriter {
    /** `RUN_DIR/softlabels-r<R>-k<k>.kqsl`. */
    fun defaultFile(target: RunTarget, settings: SoftLabelGenerator.Settings): Path =
        target.runDir.resolve("softlabels-r${settings.crops()}-k${settings.topK()}.kqsl")

    /** Writes [out] (whole or not at all); [progress] hears (images done, images in all). */
    fun write(target: RunTarget, out: Path, settings: SoftLabelGenerator.Settings, progress: (Int, Int) -> Unit): SoftLabelFile.Header {
        val (train, test) = RuntimeMapping.loadData(target.experiment)
        try {
            val teacher = OnlineTeacher(RuntimeMapping.model(target.experiment), target.checkpoint)
            return SoftLabelGenerator.generate(teacher, train, out, settings) { progress(it, train.size()) }
        } finally {
            (train as? AutoCloseable)?.close()
            (test as? AutoCloseable)?.close()
        }
    }
}
