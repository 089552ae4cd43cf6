package dev.kqat.scripts

import com.tngtech.archunit.core.importer.ClassFileImporter
import com.tngtech.archunit.core.importer.ImportOption
import com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses
import com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices
import io.kotest.core.spec.style.FunSpec

/**
 * The layering of docs/architecture.md, checked on the compiled main classes of all three modules:
 * `scripts → dsl → runtime`, TensorFlow only inside the runtime, no cycles between runtime packages.
 */
class ArchitectureSpec : FunSpec({
    val classes = ClassFileImporter()
        .withImportOption(ImportOption.DoNotIncludeTests())
        .importPackages("dev.kqat")

    test("the runtime knows neither the DSL nor the scripts") {
        noClasses().that().resideInAPackage("dev.kqat.runtime..")
            .should().dependOnClassesThat().resideInAnyPackage("dev.kqat.dsl..", "dev.kqat.scripts..")
            .check(classes)
    }

    test("the DSL does not know the scripts") {
        noClasses().that().resideInAPackage("dev.kqat.dsl..")
            .should().dependOnClassesThat().resideInAPackage("dev.kqat.scripts..")
            .check(classes)
    }

    test("no TensorFlow type outside the runtime") {
        noClasses().that().resideInAnyPackage("dev.kqat.dsl..", "dev.kqat.scripts..")
            .should().dependOnClassesThat().resideInAPackage("org.tensorflow..")
            .check(classes)
    }

    test("no cycles between runtime packages") {
        slices().matching("dev.kqat.runtime.(*)..").should().beFreeOfCycles().check(classes)
    }
})
