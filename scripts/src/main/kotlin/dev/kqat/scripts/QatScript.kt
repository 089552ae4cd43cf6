package dev.kqat.scripts

import dev.kqat.dsl.Experiment
import dev.kqat.dsl.ExperimentBuilder
import dev.kqat.dsl.ToyStudy
import dev.kqat.dsl.ToyStudyBuilder
import kotlin.script.experimental.annotations.KotlinScript
import kotlin.script.experimental.api.ScriptAcceptedLocation
import kotlin.script.experimental.api.ScriptCompilationConfiguration
import kotlin.script.experimental.api.acceptedLocations
import kotlin.script.experimental.api.defaultImports
import kotlin.script.experimental.api.ide
import kotlin.script.experimental.jvm.dependenciesFromClassContext
import kotlin.script.experimental.jvm.jvm

/**
 * The `*.qat.kts` script definition. The base class takes `args` because `kotlinc -script` always
 * passes the command-line arguments as a constructor argument; the definition is found by plain
 * `kotlinc` through `META-INF/kotlin/script/templates/dev.kqat.scripts.QatScript.classname`.
 * A script's last expression is its [Experiment].
 */
@KotlinScript(
    displayName = "kqat experiment",
    fileExtension = "qat.kts",
    compilationConfiguration = QatScriptConfiguration::class,
)
abstract class QatScript(val args: Array<String>) {
    /**
     * The script's experiment. Under `kqat run` (and every other [ScriptHost]) it is the script's value;
     * under `kotlinc -script` nobody reads that value, so the call itself runs the experiment as
     * `kqat run` would (options from [args]) and ends the process with `kqat run`'s exit code.
     */
    fun experiment(name: String = "experiment", block: ExperimentBuilder.() -> Unit): Experiment =
        if (ScriptHost.isEvaluating()) dev.kqat.dsl.experiment(name, block)
        else StandaloneScript.run(args) { dev.kqat.dsl.experiment(name, block) }

    /** The script's toy study; under `kotlinc -script` it runs, as [experiment] does. */
    fun toyRegression(name: String = "toy-regression", block: ToyStudyBuilder.() -> Unit): ToyStudy =
        if (ScriptHost.isEvaluating()) dev.kqat.dsl.toyRegression(name, block)
        else StandaloneScript.run(args) { dev.kqat.dsl.toyRegression(name, block) }
}

/**
 * What a script sees without importing: the DSL, and the runtime's enums that settings take
 * (`convention = BackwardConvention.CLAMP_THEN_ROUND`, `init = RangeInit.MIN_MAX`,
 * `dampen(aggregation = Aggregation.SUM)`).
 */
val scriptImports = listOf(
    "dev.kqat.dsl.*",
    "dev.kqat.runtime.quant.BackwardConvention",
    "dev.kqat.runtime.quant.RangeInit",
    "dev.kqat.runtime.quant.GradientScaling",
    "dev.kqat.runtime.quant.Signedness",
    "dev.kqat.runtime.quant.QuantMap",
    "dev.kqat.runtime.distill.SoftLabelDecoding",
    "dev.kqat.runtime.oscillation.OscillationSpec.Aggregation",
)

object QatScriptConfiguration : ScriptCompilationConfiguration({
    defaultImports(scriptImports)
    jvm {
        dependenciesFromClassContext(QatScript::class, wholeClasspath = true)
    }
    ide {
        acceptedLocations(ScriptAcceptedLocation.Everywhere)
    }
})
