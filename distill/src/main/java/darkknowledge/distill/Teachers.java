package darkknowledge.distill;

import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;

/** The teacher kinds behind {@link Teacher}'s factories. */
final class Teachers {
    private Teachers() {
    }

    record Single(String id, int numClasses, Teacher.Logits model) implements Teacher {
        @Override
        public INDArray softTargets(INDArray features, double temperature) {
            return TemperatureSoftmax.soften(model.logits(features), temperature);
        }
    }

    record ProbabilityMean(String id, List<Teacher> members) implements Teacher {
        ProbabilityMean {
            if (members.isEmpty()) {
                throw new IllegalArgumentException("an ensemble needs at least one member");
            }
            int k = members.get(0).numClasses();
            for (Teacher t : members) {
                if (t.numClasses() != k) {
                    throw new IllegalArgumentException("ensemble members disagree on the number of classes: "
                            + k + " vs " + t.numClasses() + " (" + t.id() + ")");
                }
            }
        }

        @Override
        public int numClasses() {
            return members.get(0).numClasses();
        }

        @Override
        public INDArray softTargets(INDArray features, double temperature) {
            INDArray sum = null;
            for (Teacher t : members) {
                INDArray p = t.softTargets(features, temperature);
                sum = sum == null ? p : sum.addi(p);
            }
            return sum.divi(members.size());
        }
    }

    record LogitMean(String id, int numClasses, List<Teacher.Logits> members) implements Teacher {
        LogitMean {
            if (members.isEmpty()) {
                throw new IllegalArgumentException("an ensemble needs at least one member");
            }
        }

        @Override
        public INDArray softTargets(INDArray features, double temperature) {
            INDArray sum = null;
            for (Teacher.Logits m : members) {
                INDArray v = m.logits(features);
                sum = sum == null ? v.dup() : sum.addi(v);
            }
            return TemperatureSoftmax.soften(sum.divi(members.size()), temperature);
        }
    }
}
