package darkknowledge.experiments;

import java.util.List;
import java.util.Optional;

/** The registry of experiments, in the order {@code ./dk list} shows them. */
final class Experiments {
    /** What {@code ./dk run} runs when no experiment is named. */
    static final String DEFAULT = "mnist-distillation";

    private Experiments() {
    }

    static List<Experiment<?>> all() {
        return List.of(new MnistDistillation(), new MnistOmittedClass(), new TemperatureSweep(),
                new SoftTargetRegularizer(), new EnsembleDistillation(),
                new SpecialistsExperiment(SpecialistsExperiment.Variant.FASHION),
                new SpecialistsExperiment(SpecialistsExperiment.Variant.MNIST_FASHION),
                new SpecialistsExperiment(SpecialistsExperiment.Variant.SYNTHETIC), new Pipeline());
    }

    static Optional<Experiment<?>> byName(String name) {
        return all().stream().filter(e -> e.name().equals(name)).findFirst();
    }
}
