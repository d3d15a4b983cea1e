package darkknowledge.experiments;

import darkknowledge.clustering.AdjustedRandIndex;
import darkknowledge.clustering.ClassClustering;
import darkknowledge.clustering.ClusteringConfig;
import darkknowledge.core.AtomicFiles;
import darkknowledge.core.Check;
import darkknowledge.core.ClassPartition;
import darkknowledge.core.ResultTables;
import darkknowledge.core.RunConfig;
import darkknowledge.core.Scale;
import darkknowledge.core.Seeds;
import darkknowledge.data.GlyphsConfig;
import darkknowledge.generalist.Classifier;
import darkknowledge.generalist.ConvConfig;
import darkknowledge.generalist.MlpConfig;
import darkknowledge.generalist.TrainingSchedule;
import darkknowledge.core.engine.EngineConfig;
import darkknowledge.pipeline.Architecture;
import darkknowledge.pipeline.DataConfig;
import darkknowledge.pipeline.EnsembleConfig;
import darkknowledge.pipeline.Models;
import darkknowledge.pipeline.RunContext;
import darkknowledge.pipeline.RunData;
import darkknowledge.pipeline.SpecialistDataset;
import darkknowledge.pipeline.SpecialistStages;
import darkknowledge.pipeline.Synthetic;
import darkknowledge.specialists.SpecialistConfig;
import darkknowledge.specialists.Specialists;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.IntStream;

/**
 * <b>Specialists</b> — Hinton, Vinyals &amp; Dean 2015, §5 (Tables 3 and 4), on three datasets.
 *
 * <ol>
 * <li>A generalist is trained on all classes.
 * <li>The covariance of its predicted class probabilities (on the validation split, or the training
 *     split for the many-class synthetic set where validation has few examples per class) is
 *     clustered with K-means into subsets of classes it confuses (§5.3).
 * <li>One specialist per subset, initialised from the generalist, is trained on half subset, half
 *     other classes mapped to a dustbin; its dustbin logit is then corrected (§5.2).
 * <li>On each test example, the specialists covering the generalist's top class are combined with it
 *     by minimising the sum of KL divergences (§5.4).
 * </ol>
 * Reported: Table 3 (overall accuracy and accuracy on specialist classes, generalist vs ensemble),
 * Table 4 (accuracy change by number of specialists covering the correct class, and the share of
 * test examples covered by two or more), the ensemble under each dustbin correction (the headline
 * one configured, or chosen on validation with {@code specialists.correctionOnValidation}), and two
 * controls that no paper run has, both with the specialists' extra compute: the generalist
 * fine-tuned for as many extra example-passes as all specialists together, and that copy averaged
 * with the generalist (an unspecialised ensemble), so the specialists' gain is neither more training
 * nor ensembling alone. {@code specialists.head=full} trains §6.1's specialists instead of §5.2's.
 * Each run also draws the histogram of subset sizes ({@code subset-sizes.png}), and
 * {@code ./dk tables} writes the validation ablation over the runs ({@link #figures}). On glyphs every
 * test figure is reported twice: on the <em>seen typefaces</em> (fresh images of the training faces, the
 * i.i.d. regime of JFT's test set; keys prefixed {@code seen.}) and on the <em>unseen typefaces</em>.
 *
 * <p>Paper (JFT, 15,000 classes, 61 specialists): 25.0% → 26.1% test accuracy (+4.4% relative);
 * conditional accuracy on specialist classes 43.1% → 45.9%.
 */
public final class SpecialistsExperiment implements Experiment<SpecialistsExperiment.Config> {
    static final ResultTables.Metric CONTROL_TEST_ACCURACY = new ResultTables.Metric("control.test_accuracy",
            "control: generalist fine-tuned, same extra compute (%)", "–", 2);
    static final ResultTables.Metric ENSEMBLE_NONE_TEST_ACCURACY =
            new ResultTables.Metric("ensemble.none.test_accuracy", "ensemble, no dustbin correction (%)", "–", 2);
    static final ResultTables.Metric ENSEMBLE_LOG_OVERSAMPLING_TEST_ACCURACY = new ResultTables.Metric("ensemble.log_oversampling.test_accuracy",
            "ensemble, paper's log(oversampling) correction (%)", "–", 2);
    static final ResultTables.Metric ENSEMBLE_PRIOR_SHIFT_TEST_ACCURACY =
            new ResultTables.Metric("ensemble.prior_shift.test_accuracy", "ensemble, exact prior shift (%)", "–", 2);
    static final ResultTables.Metric ENSEMBLE_FITTED_TEST_ACCURACY =
            new ResultTables.Metric("ensemble.fitted.test_accuracy", "ensemble, dustbin shift fitted on validation (%)", "–", 2);
    static final ResultTables.Metric UNSPECIALISED_TEST_ACCURACY = new ResultTables.Metric("unspecialised.test_accuracy",
            "control: generalist averaged with its fine-tuned copy, same extra compute (%)", "–", 2);
    /**
     * The test of §5 against honest baselines: generalist + specialists minus the better of the two
     * equal-compute controls (fine-tuned, unspecialised ensemble), in accuracy points on a test set.
     */
    static final ResultTables.Metric MARGIN_OVER_CONTROLS = new ResultTables.Metric("ensemble.margin_over_controls",
            "generalist + specialists minus the better control (points)", "–", 2);
    static final ResultTables.Metric COVERED_TWICE_PCT = new ResultTables.Metric("cover2plus.test_share",
            "test examples covered by 2 or more specialists (%)", "–", 1);
    static final ResultTables.Metric CLUSTERING_SPECIALISTS =
            new ResultTables.Metric("clustering.specialists", "number of specialists", "61", 0);
    static final ResultTables.Metric CLUSTERING_ARI =
            new ResultTables.Metric("clustering.ari", "planted groups recovered (adjusted Rand index)", "–", 3);


    public record Config(RunConfig run, DataConfig data, Synthetic synthetic, GlyphsConfig glyphs,
                         Architecture architecture, MlpConfig generalist, ConvConfig conv, ClusteringConfig clustering,
                         SpecialistConfig specialists, EnsembleConfig ensemble, EngineConfig engine, Stages stages) {
        public Config {
            refuseFreshOnSpark(glyphs, engine);
        }

        /** The generalist's net: {@code generalist.*} (MLP) or {@code conv.*}, as {@code architecture.generalist} says. */
        TrainingSchedule generalistNet() {
            return architecture.pick(generalist, conv);
        }
    }

    /**
     * Fresh images are rendered from the glyph fonts of this machine, which a cluster's executors lack:
     * refused when the config is read, before the generalist trains, rather than when the specialists
     * are shipped.
     */
    static void refuseFreshOnSpark(GlyphsConfig glyphs, EngineConfig engine) {
        Check.that(!(glyphs.freshEachEpoch() && engine.kind() == EngineConfig.Kind.SPARK),
                "glyphs.freshEachEpoch", "fresh training images are rendered from the glyph fonts on this "
                        + "machine and are not shipped to Spark executors (engine.kind=spark): set "
                        + "glyphs.freshEachEpoch=false for a cluster run, or engine.kind=local");
    }

    /**
     * @param generalistOnly train the generalist, report its validation and test accuracy, and stop
     *                       (no clustering, specialists, ensemble or controls): for comparing ways of
     *                       training the generalist (e.g. {@code conv.precision}) at a fraction of a run's
     *                       time. Key {@code stages.generalistOnly}, false by default.
     */
    public record Stages(boolean generalistOnly) {
    }

    private final SpecialistDataset variant;

    public SpecialistsExperiment(SpecialistDataset variant) {
        this.variant = variant;
    }

    @Override
    public String name() {
        return switch (variant) {
            case FASHION -> "specialists-fashion";
            case MNIST_FASHION -> "specialists-mnist-fashion";
            case SYNTHETIC -> "specialists-synthetic";
            case GLYPHS -> "specialists-glyphs";
        };
    }

    @Override
    public String card() {
        return switch (variant) {
            case FASHION -> "§5: Fashion-MNIST generalist -> covariance clusters -> specialists + dustbin -> KL ensemble";
            case MNIST_FASHION -> "§5: the 20-class union of MNIST and Fashion-MNIST, same pipeline and tables";
            case SYNTHETIC -> "§5: 1,000 synthetic classes in 50 planted groups: cluster recovery (ARI) and the tables";
            case GLYPHS -> "§5: 3,755 Chinese characters, conv generalist, tested on seen (i.i.d.) and unseen typefaces, overlapping specialists (k-means, k = 60)";
        };
    }

    @Override
    public Config defaults() {
        Presets.Specialists p = Presets.specialists(variant);
        return new Config(new RunConfig(1, Scale.FULL), p.data(), p.synthetic(), p.glyphs(), p.architecture(),
                p.generalist(), p.conv(), p.clustering(), p.specialists(), p.ensemble(), EngineConfig.defaults(),
                new Stages(false));
    }

    @Override
    public Map<String, String> preset(Scale scale) {
        return Presets.specialists(variant, scale);
    }

    /** Row labels of the glyphs table's two test sets. */
    static final String SEEN_LABEL = "seen typefaces (i.i.d.)";
    static final String UNSEEN_LABEL = "unseen typefaces";

    @Override
    public ResultTables.Spec table() {
        List<ResultTables.Metric> perTestSet = new ArrayList<>(List.of(
                SpecialistStages.GENERALIST_TEST_ACCURACY,
                SpecialistStages.ENSEMBLE_TEST_ACCURACY,
                SpecialistStages.ENSEMBLE_RELATIVE_GAIN_PCT,
                SpecialistStages.GENERALIST_SPECIALIST_CLASSES_ACCURACY,
                SpecialistStages.ENSEMBLE_SPECIALIST_CLASSES_ACCURACY,
                CONTROL_TEST_ACCURACY,
                UNSPECIALISED_TEST_ACCURACY,
                MARGIN_OVER_CONTROLS,
                ENSEMBLE_NONE_TEST_ACCURACY,
                ENSEMBLE_LOG_OVERSAMPLING_TEST_ACCURACY,
                ENSEMBLE_PRIOR_SHIFT_TEST_ACCURACY,
                ENSEMBLE_FITTED_TEST_ACCURACY,
                COVERED_TWICE_PCT));
        int table4 = perTestSet.size() - 1;  // from the share covered twice on: Table 4
        for (int c = 0; c <= 4; c++) {
            perTestSet.add(SpecialistStages.coverExamples(c));
            perTestSet.add(SpecialistStages.coverRelativeChange(c));
        }
        List<ResultTables.Metric> metrics = new ArrayList<>();
        if (variant == SpecialistDataset.GLYPHS) {
            metrics.add(CLUSTERING_SPECIALISTS);
            // Both test sets, the paper's regime first: rows "seen typefaces (i.i.d.) — Table 3: ...", then
            // "unseen typefaces — ..." (the keys runs always wrote); a run without a seen set shows "–".
            for (ResultTables.Metric m : perTestSet) {
                metrics.add(new ResultTables.Metric(RunData.SEEN_PREFIX + m.key(), SEEN_LABEL + " — " + m.label(),
                        m.paper(), m.decimals()));
            }
            for (ResultTables.Metric m : perTestSet) {
                metrics.add(new ResultTables.Metric(m.key(), UNSEEN_LABEL + " — " + m.label(), m.paper(), m.decimals()));
            }
        } else {
            metrics.addAll(perTestSet.subList(0, table4));
            metrics.add(CLUSTERING_SPECIALISTS);
            metrics.addAll(perTestSet.subList(table4, perTestSet.size()));
        }
        if (variant == SpecialistDataset.SYNTHETIC) {
            metrics.add(CLUSTERING_ARI);
        }
        return new ResultTables.Spec(name(), "Specialists, " + card(), metrics, List.of("run.scale"),
                "Paper figures are JFT (15,000 classes, 61 specialists); ours are on " + variant.name().toLowerCase(Locale.ROOT)
                        + ". Accuracy in %; 'specialist classes' = test examples whose true class some specialist covers."
                        + (variant == SpecialistDataset.GLYPHS ? " Two test sets: the " + SEEN_LABEL + " are new images "
                        + "of the training faces (distortions from a seed stream no training or validation image "
                        + "uses: the i.i.d. regime of JFT's test set), the " + UNSEEN_LABEL + " are the held-out "
                        + "faces (a domain shift); runs made before the seen set existed show \"–\" in its rows." : ""),
                variant == SpecialistDataset.GLYPHS ? List.of(new ControlGainRow()) : List.of());
    }

    /** The convergence criterion: a generalist is converged when the fine-tuned control gains less than this on validation. */
    static final double CONVERGED_BELOW_POINTS = 1.0;

    /** The label of the glyph table's convergence line ({@link ControlGainRow}). */
    static final String CONTROL_GAIN_LABEL = "convergence: control's gain over the generalist on validation "
            + "(points; met if under " + (int) CONVERGED_BELOW_POINTS + " in every run)";

    /**
     * The evidence that the generalist was trained to its plateau: what the fine-tuned control (the
     * generalist trained on for the specialists' extra example-passes) gains over it on the validation
     * split, in points, from each run's {@code control.validation_accuracy} and
     * {@code generalist.validation_accuracy}; "met" when the gain is under
     * {@link #CONVERGED_BELOW_POINTS} in every run of the column, else "missed"; "–" for a column whose
     * runs recorded neither.
     */
    record ControlGainRow() implements ResultTables.ColumnRow {
        @Override
        public String label() {
            return CONTROL_GAIN_LABEL;
        }

        @Override
        public String paper() {
            return "–";
        }

        @Override
        public String value(List<ResultTables.ColumnRun> runs) {
            double[] gains = runs.stream().map(r -> controlGain(r.result())).filter(java.util.Objects::nonNull)
                    .mapToDouble(Double::doubleValue).toArray();
            if (gains.length == 0) {
                return "–";
            }
            double mean = java.util.Arrays.stream(gains).average().orElseThrow();
            String text = String.format(Locale.ROOT, "%+.2f", mean);
            if (gains.length > 1) {
                double ss = java.util.Arrays.stream(gains).map(g -> (g - mean) * (g - mean)).sum();
                text += String.format(Locale.ROOT, " ± %.2f", Math.sqrt(ss / (gains.length - 1)));
            }
            boolean met = java.util.Arrays.stream(gains).allMatch(g -> g < CONVERGED_BELOW_POINTS);
            return text + (met ? " (met)" : " (missed)");
        }
    }

    /**
     * The control's gain over the generalist on validation, in points, from a run's result; null when
     * the run lacks either figure or one is not a number.
     */
    static Double controlGain(Map<String, String> result) {
        try {
            String control = result.get("control.validation_accuracy");
            String generalist = result.get("generalist.validation_accuracy");
            if (control == null || generalist == null) {
                return null;
            }
            double gain = Double.parseDouble(control) - Double.parseDouble(generalist);
            return Double.isFinite(gain) ? gain : null;
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /**
     * Glyph runs made before {@code glyphs.seenTestImagesPerFace} existed had no seen-typeface test set:
     * their config reads as 0 there, not as today's default, so they are never averaged with new runs.
     */
    @Override
    public Map<String, String> olderRunsHad(Map<String, String> recorded) {
        return variant == SpecialistDataset.GLYPHS ? Map.of(Presets.SEEN_TEST_KEY, "0") : Map.of();
    }

    @Override
    public SortedMap<String, String> run(Config c, RunContext ctx) {
        SpecialistDataset.Loaded loaded = variant.load(c.data(), c.synthetic(), c.glyphs(), ctx);
        RunData s = loaded.data();
        SortedMap<String, String> result = new TreeMap<>();

        Models.Trained generalist = Models.trainOnLabels(ctx, "generalist", c.generalistNet(), s);
        Models.report(result, generalist);
        if (c.stages().generalistOnly()) {
            for (RunData.TestSet set : s.testSets()) {
                int[] labels = set.labels();
                result.put(set.prefix() + "test_examples", Integer.toString(labels.length));
                result.put(set.prefix() + SpecialistStages.GENERALIST_TEST_ACCURACY.key(), SpecialistStages.pct(
                        SpecialistStages.correct(generalist.model().predict(set.x()), labels, null), labels.length));
            }
            if (s.hasValidation()) {
                result.put("generalist.validation_accuracy", SpecialistStages.pct(SpecialistStages.correct(
                        generalist.model().predict(s.validationX()), s.validation().labels(), null),
                        s.validation().labels().length));
            }
            return result;
        }

        // §5.3: the covariance of the generalist's predictions, clustered.
        ClassPartition partition = cluster(c, ctx, generalist, s, result);
        List<String> classNames = s.train().classNames();
        if (variant == SpecialistDataset.GLYPHS) {
            Montages.clustersAndConfusions(ctx, partition, generalist.model(), s, c.glyphs());
        }
        for (RunData.TestSet set : s.testSets()) {
            result.put(set.prefix() + COVERED_TWICE_PCT.key(), SpecialistStages.coveredShare(partition, set.labels(), 2));
        }
        if (s.hasValidation()) {
            result.put("cover2plus.validation_share", SpecialistStages.coveredShare(partition, s.validation().labels(), 2));
            result.put("generalist.validation_accuracy", SpecialistStages.pct(SpecialistStages.correct(
                    generalist.model().predict(s.validationX()), s.validation().labels(), null),
                    s.validation().labels().length));
        }
        if (loaded.groupOfClass() != null) {
            CLUSTERING_ARI.put(result, String.format(Locale.ROOT, "%.4f",
                    AdjustedRandIndex.of(partition.clusterOf(), loaded.groupOfClass())));
        }

        // §5.2: specialists, in parallel.
        List<Specialists.Trained> trained = SpecialistStages.trainSpecialists(ctx, c.engine(), generalist.model(),
                ctx.modelPath("generalist"), c.generalistNet(), partition, c.specialists(), s,
                ctx.seeds().derive("specialists"), ctx.record().dir());
        long extraExamplePasses = 0;
        double specialistSeconds = 0;
        for (Specialists.Trained t : trained) {
            String id = "specialist" + t.index();
            ctx.provenance().put("model." + id + ".sha256", t.specialist().model().fingerprint())
                    .put("model." + id + ".generalist_sha256", generalist.model().fingerprint())
                    .put("model." + id + ".subset", join(t.specialist().subset()))
                    .put("model." + id + ".dustbin_shift", String.format(Locale.ROOT, "%.5f", t.specialist().dustbinShift()))
                    .put("model." + id + ".correction", c.specialists().correction().name().toLowerCase(Locale.ROOT))
                    .put("model." + id + ".head", c.specialists().head().name().toLowerCase(Locale.ROOT))
                    .put("model." + id + ".fitted_shift", String.format(Locale.ROOT, "%.5f", t.fittedShift()));
            extraExamplePasses += (long) t.trainExamples() * t.outcome().epochsRun();
            specialistSeconds += t.outcome().trainSeconds();
            result.put(id + ".validation_errors", Integer.toString(t.outcome().bestValidationErrors()));
            result.put(id + ".epochs", Integer.toString(t.outcome().epochsRun()));
        }
        result.put("specialists.train_seconds", Models.fmt(specialistSeconds));
        result.put("specialists.example_passes", Long.toString(extraExamplePasses));

        // §5.4: the ensemble, under each dustbin correction (the headline: configured, or chosen on validation),
        // Tables 3 and 4 on each test set (glyphs: the unseen typefaces, then the seen ones).
        SpecialistStages.Headline headline = SpecialistStages.ensembleUnderEachCorrection(result, generalist.model(),
                trained, c.ensemble(), c.specialists(), s);
        ctx.provenance().put("specialists.correction.chosen", result.get("specialists.correction.chosen"));
        for (RunData.TestSet set : s.testSets()) {
            SpecialistStages.report(result, set.prefix(), generalist.model().predict(set.x()), headline.on(set),
                    set.labels(), partition);
        }

        if (c.ensemble().control()) {
            // The copy trained on for the specialists' extra passes; the fine-tuned control is it or the
            // generalist, whichever validation prefers; the unspecialised ensemble averages the copy in.
            Models.Trained copy = SpecialistStages.control(ctx, generalist, c.generalistNet(), extraExamplePasses, s);
            Classifier control = s.hasValidation() ? SpecialistStages.fineTuned(generalist.model(), copy.model(), s)
                    : copy.model();
            result.put("control.epochs", Integer.toString(copy.outcome().epochsRun()));
            result.put("control.kept", control == copy.model() ? "trained-on copy" : "generalist (no epoch beat it)");
            for (RunData.TestSet set : s.testSets()) {
                int[] labels = set.labels();
                int fineTuned = SpecialistStages.correct(control.predict(set.x()), labels, null);
                result.put(set.prefix() + CONTROL_TEST_ACCURACY.key(), SpecialistStages.pct(fineTuned, labels.length));
                // The second control: the generalist averaged with the trained-on copy (ensembling without
                // specialising).
                int unspecialised = SpecialistStages.correct(
                        SpecialistStages.unspecialised(generalist.model(), copy.model(), set.x()), labels, null);
                result.put(set.prefix() + UNSPECIALISED_TEST_ACCURACY.key(),
                        SpecialistStages.pct(unspecialised, labels.length));
                int ensemble = SpecialistStages.correct(headline.on(set), labels, null);
                result.put(set.prefix() + MARGIN_OVER_CONTROLS.key(), String.format(Locale.ROOT, "%.2f",
                        100.0 * (ensemble - Math.max(fineTuned, unspecialised)) / labels.length));
            }
            if (s.hasValidation()) {
                int[] val = s.validation().labels();
                result.put("control.validation_accuracy", SpecialistStages.pct(SpecialistStages.correct(
                        control.predict(s.validationX()), val, null), val.length));
                result.put("control.copy.validation_accuracy", SpecialistStages.pct(SpecialistStages.correct(
                        copy.model().predict(s.validationX()), val, null), val.length));
                result.put("unspecialised.validation_accuracy", SpecialistStages.pct(SpecialistStages.correct(
                        SpecialistStages.unspecialised(generalist.model(), copy.model(), s.validationX()), val, null),
                        val.length));
            }
        }
        return result;
    }

    /**
     * {@code results/<experiment>-ablation.md}: one row per finished non-tiny run that recorded its
     * validation figures, the levers it was run with (fresh images each epoch, the generalist's schedule
     * and the epochs it ran, clustering, head, soft targets, the correction chosen) and what they gave
     * <em>on the validation split</em> (the generalist, the ensemble under each correction and its
     * headline, both controls, and the fine-tuned control's gain over the generalist with the
     * convergence criterion met or missed), so a reader
     * sees why the final configuration is what it is without any test figure. Removed when no run
     * qualifies.
     */
    @Override
    public void figures(java.nio.file.Path experimentRuns, java.nio.file.Path results) {
        java.nio.file.Path md = results.resolve(name() + "-ablation.md");
        List<FinishedRuns.Run> all = FinishedRuns.all(experimentRuns, Experiments.missingKeys(this));
        java.nio.file.Path generalists = results.resolve(name() + "-generalists.md");
        List<FinishedRuns.Run> fullGeneralists = variant != SpecialistDataset.GLYPHS ? List.of() : all.stream()
                .filter(r -> "full".equals(r.config().get("run.scale")) && "conv".equals(r.config().get(
                        "architecture.generalist")) && r.result().containsKey("generalist.validation_accuracy")).toList();
        if (fullGeneralists.isEmpty()) {
            Plots.remove(generalists);
        } else {
            AtomicFiles.writeString(generalists, generalistsTable(name(), fullGeneralists));
        }
        List<FinishedRuns.Run> runs = all.stream().filter(r -> !"tiny".equals(r.config().get("run.scale"))
                        && r.result().containsKey("ensemble.validation_accuracy")).toList();
        if (runs.isEmpty()) {
            Plots.remove(md);
            return;
        }
        AtomicFiles.writeString(md, ablation(name(), runs));
        java.nio.file.Path full = results.resolve(name() + "-runs.md");
        // the glyphs' two test sets and controls: the other datasets' full runs predate the controls
        List<FinishedRuns.Run> fullRuns = variant != SpecialistDataset.GLYPHS ? List.of() : runs.stream()
                .filter(r -> "full".equals(r.config().get("run.scale"))
                        && r.result().containsKey("control.validation_accuracy")).toList();
        if (fullRuns.isEmpty()) {
            Plots.remove(full);
        } else {
            AtomicFiles.writeString(full, fullRunsTable(name(), fullRuns));
        }
    }

    /**
     * {@code results/<experiment>-runs.md}: every full-scale run with the controls, seed by seed, on
     * validation and on each test set: the generalist, generalist + specialists (the headline
     * correction), both equal-compute controls, the ensemble's margin over the better control
     * (points), and on the test sets Table 4's relative change by the number of covering
     * specialists. The evidence behind "in the mean and in every seed".
     */
    static String fullRunsTable(String experiment, List<FinishedRuns.Run> runs) {
        StringBuilder b = new StringBuilder();
        b.append("<!-- generated by `./dk tables` from runs/").append(experiment).append("/*; do not edit -->\n");
        b.append("**").append(experiment).append(": every full-scale run, seed by seed** (accuracy in %; margin in points)\n\n");
        b.append("| run | seed | generalist net | set | generalist | + specialists | fine-tuned control "
                + "| unspecialised ensemble | margin over the better control | Table 4: relative change with 1 / 2 / 3 / 4+ "
                + "covering specialists (%) |\n");
        b.append("|---|---|---|---|---|---|---|---|---|---|\n");
        for (FinishedRuns.Run r : runs) {
            java.util.function.Function<String, String> res = k -> r.result().getOrDefault(k, "–");
            String[][] sets = {{"validation", "", "validation_accuracy"}, {"seen typefaces", RunData.SEEN_PREFIX,
                    "test_accuracy"}, {"unseen typefaces", "", "test_accuracy"}};
            for (String[] set : sets) {
                String pre = set[1];
                String acc = set[2];
                String ens = res.apply(pre + "ensemble." + acc);
                String ctl = res.apply(pre + "control." + acc);
                String uns = res.apply(pre + "unspecialised." + acc);
                if ("–".equals(ens)) {
                    continue;
                }
                String recorded = "validation".equals(set[0]) ? null : r.result().get(pre + MARGIN_OVER_CONTROLS.key());
                String margin = recorded != null ? String.format(Locale.ROOT, "%+.2f", Double.parseDouble(recorded))
                        : marginOf(ens, ctl, uns);
                String table4 = "validation".equals(set[0]) ? "–" : String.join(" / ",
                        res.apply(pre + "cover1.relative_change_pct"), res.apply(pre + "cover2.relative_change_pct"),
                        res.apply(pre + "cover3.relative_change_pct"), res.apply(pre + "cover4.relative_change_pct"));
                b.append("| `").append(r.id()).append("` | ").append(r.config().getOrDefault("run.seed", "–"))
                        .append(" | ").append(netSize(r.config())).append(" | ").append(set[0])
                        .append(" | ").append(res.apply(pre + "generalist." + acc)).append(" | ").append(ens)
                        .append(" | ").append(ctl).append(" | ").append(uns).append(" | ").append(margin)
                        .append(" | ").append(table4).append(" |\n");
            }
        }
        b.append("\nThe margin is generalist + specialists minus the better of the two controls, each given the ")
                .append("specialists' extra example-passes (the fine-tuned control: the generalist trained on, or the ")
                .append("generalist itself where validation prefers it; the unspecialised ensemble: the generalist ")
                .append("averaged with its trained-on copy). The validation split also chose the subsets and the ")
                .append("correction, so its margin leans in the specialists' favour; the test sets do not. Table 4 ")
                .append("(§5.4): the relative change in accuracy over the generalist on the test images whose class ")
                .append("that many specialists cover.\n");
        return b.toString();
    }

    /**
     * {@code results/<experiment>-generalists.md}: every full-scale conv generalist, whole runs and
     * {@code stages.generalistOnly} ones, with its schedule (epochs, per-epoch decay, plateau
     * reductions, early-stopping patience), the epochs it ran and its best, its validation accuracy
     * and, where the run had one, the fine-tuned control's validation gain over it: how the
     * generalist's training was chosen, on validation only.
     */
    static String generalistsTable(String experiment, List<FinishedRuns.Run> runs) {
        StringBuilder b = new StringBuilder();
        b.append("<!-- generated by `./dk tables` from runs/").append(experiment).append("/*; do not edit -->\n");
        b.append("**").append(experiment).append(": every full-scale generalist and its schedule** (validation only)\n\n");
        b.append("| run | seed | generalist net | epochs, lr decay, patience | epochs run / best | validation accuracy (%) "
                + "| control's gain (points) | whole run |\n");
        b.append("|---|---|---|---|---|---|---|---|\n");
        for (FinishedRuns.Run r : runs) {
            java.util.function.Function<String, String> cfg = k -> r.config().getOrDefault(k, "–");
            java.util.function.Function<String, String> res = k -> r.result().getOrDefault(k, "–");
            Double gain = controlGain(r.result());
            b.append("| `").append(r.id()).append("` | ").append(cfg.apply("run.seed"))
                    .append(" | ").append(netSize(r.config()))
                    .append(" | ").append(schedule(r.config(), "conv."))
                    .append(" | ").append(res.apply("generalist.epochs")).append(" / ").append(res.apply("generalist.best_epoch"))
                    .append(" | ").append(res.apply("generalist.validation_accuracy"))
                    .append(" | ").append(gain == null ? "–" : String.format(Locale.ROOT, "%+.2f", gain))
                    .append(" | ").append("true".equals(r.config().get("stages.generalistOnly")) ? "no (generalist only)"
                            : "yes").append(" |\n");
        }
        b.append("\nThe schedule: at most that many epochs, the per-epoch learning-rate decay ").append(PLATEAU_WORDS)
                .append(" and early-stopping patience (0: none); the best epoch on validation is kept. ")
                .append("The control's gain: the fine-tuned control's validation accuracy minus the generalist's, given the ")
                .append("specialists' extra example-passes (convergence: under ").append(CONVERGED_BELOW_POINTS)
                .append(" point).\n");
        return b.toString();
    }

    /** How the tables' notes read {@link #schedule}'s plateau part. */
    private static final String PLATEAU_WORDS = "(then, e.g., \"×0.5 after 3 flat\": multiplied by 0.5 each time 3 "
            + "epochs pass without a new best on validation, `conv.plateau.*`)";

    /**
     * A generalist's schedule as the tables show it: {@code "epochs, decay[ ×factor after n flat], patience"},
     * the plateau part only when on and in the run's config (older runs lack it), e.g.
     * {@code "80, 1.0 ×0.5 after 3 flat, 0"}; {@code net} is the section's prefix ({@code "conv."}).
     */
    static String schedule(java.util.Map<String, String> config, String net) {
        java.util.function.Function<String, String> cfg = k -> config.getOrDefault(net + k, "–");
        String epochs = config.get(net + "plateau.epochs");
        String plateau = epochs == null || "0".equals(epochs) ? ""
                : " ×" + config.get(net + "plateau.factor") + " after " + epochs + " flat";
        return cfg.apply("epochs") + ", " + cfg.apply("learningRateDecay") + plateau + ", " + cfg.apply("patience");
    }

    /** The ablation table's markdown (see {@link #figures}). */
    static String ablation(String experiment, List<FinishedRuns.Run> runs) {
        StringBuilder b = new StringBuilder();
        b.append("<!-- generated by `./dk tables` from runs/").append(experiment).append("/*; do not edit -->\n");
        b.append("**").append(experiment).append(": which lever moved what, on the validation split** ")
                .append("(accuracy in %; test figures are in ").append(experiment).append(".md)\n\n");
        b.append("| run | scale | fresh images each epoch | generalist net | generalist: epochs, lr decay, patience → run / best "
                + "| clustered on | min confusion / k / max size / overlap | specialists | specialists: epochs, lr decay, patience "
                + "| head "
                + "(T, hard weight) | top n | cover ≥ 2 (%) | generalist | ensemble: none | log(oversampling) | prior shift "
                + "| fitted | chosen correction | control: fine-tuned | control: unspecialised ensemble "
                + "| control's gain (points) |\n");
        b.append("|---".repeat(21)).append("|\n");
        for (FinishedRuns.Run r : runs) {
            java.util.function.Function<String, String> cfg = k -> r.config().getOrDefault(k, "–");
            java.util.function.Function<String, String> res = k -> r.result().getOrDefault(k, "–");
            String head = cfg.apply("specialists.head");
            String net = "conv".equals(r.config().get("architecture.generalist")) ? "conv." : "generalist.";
            Double gain = controlGain(r.result());
            b.append("| `").append(r.id()).append("` | ").append(cfg.apply("run.scale"))
                    .append(" | ").append("true".equals(r.config().get("glyphs.freshEachEpoch")) ? "yes" : "no")
                    .append(" | ").append(netSize(r.config()))
                    .append(" | ").append(schedule(r.config(), net)).append(" → ").append(res.apply("generalist.epochs"))
                    .append(" / ").append(res.apply("generalist.best_epoch"))
                    .append(" | ").append(cfg.apply("ensemble.clusterOn"))
                    .append(" | ").append(cfg.apply("clustering.minConfusion")).append(" / ").append(cfg.apply("clustering.k"))
                    .append(" / ").append(cfg.apply("clustering.maxSubsetSize")).append(" / ")
                    .append(cfg.apply("clustering.overlap"))
                    .append(" | ").append(res.apply("clustering.specialists"))
                    .append(" | ").append(cfg.apply("specialists.epochs")).append(", ")
                    .append(cfg.apply("specialists.learningRateDecay")).append(", ")
                    .append(cfg.apply("specialists.patience"))
                    .append(" | ").append(head).append("full".equals(head) ? " (" + cfg.apply("specialists.softTemperature")
                            + ", " + cfg.apply("specialists.hardWeight") + ")" : "")
                    .append(" | ").append(cfg.apply("ensemble.topN"))
                    .append(" | ").append(res.apply("cover2plus.validation_share"))
                    .append(" | ").append(res.apply("generalist.validation_accuracy"));
            for (String corr : List.of("none", "log_oversampling", "prior_shift", "fitted")) {
                b.append(" | ").append(res.apply("ensemble." + corr + ".validation_accuracy"));
            }
            b.append(" | ").append(res.apply("specialists.correction.chosen"))
                    .append(" | ").append(res.apply("control.validation_accuracy"))
                    .append(" | ").append(res.apply("unspecialised.validation_accuracy"))
                    .append(" | ").append(gain == null ? "–" : String.format(Locale.ROOT, "%+.2f", gain)
                            + (gain < CONVERGED_BELOW_POINTS ? " (met)" : " (missed)")).append(" |\n");
        }
        b.append("\nEach row is one run (`./dk run ").append(experiment)
                .append(" --scale <scale> --set …`, its config in the run directory); the chosen correction is the one ")
                .append("whose ensemble is most accurate on validation (`specialists.correctionOnValidation`). ")
                .append("Fresh images: every net trains on its images re-rendered under new distortions each epoch ")
                .append("(`glyphs.freshEachEpoch`). Clustered on: the images whose generalist predictions the class ")
                .append("covariance is taken over (`ensemble.clusterOn`): the validation split, or the training split's ")
                .append("images, which a generalist trained on fresh images never saw. Top n: the generalist's ")
                .append("n most probable classes choose the specialists of an example (`ensemble.topN`; the paper's n = 1). ")
                .append("The generalist's schedule is its configured epochs, per-epoch ")
                .append("learning-rate decay ").append(PLATEAU_WORDS)
                .append(" and early-stopping patience (0: none), then the epochs it ran and the ")
                .append("best one on validation (kept). The generalist net: a conv net's channels per stage and ")
                .append("dense width (`conv.channels`, `conv.dense`), an MLP's hidden layers; the specialists are ")
                .append("copies of it. The specialists' schedule: at most that many epochs, their per-epoch learning-rate decay, early stopping on their ")
                .append("own validation examples after that many without a new best (0: none). The control's gain is the fine-tuned control's validation ")
                .append("accuracy minus the generalist's: the generalist counts as converged (met) when it is under ")
                .append((int) CONVERGED_BELOW_POINTS).append(" point.\n");
        return b.toString();
    }

    /**
     * §5.3: the class covariance (or the configured statistic) of the generalist's predictions on the
     * {@code ensemble.clusterOn} split, clustered by {@link ClassClustering}; writes partition.txt and
     * the covariance and subset-size figures. In a method of its own so that the predictions (at full
     * glyph scale 50,080 × 3,755 doubles, 1.5 GB) and the statistic can be collected before the
     * specialists train.
     */
    private ClassPartition cluster(Config c, RunContext ctx, Models.Trained generalist, RunData s,
                                   SortedMap<String, String> result) {
        double[][] predictions = SpecialistStages.predictions(generalist.model(), s, c.clustering(),
                c.ensemble().clusterOn());
        double[][] statistic = ClassClustering.statistic(predictions, c.clustering());
        ClassPartition partition = ClassClustering.cluster(statistic, c.clustering());
        List<String> classNames = s.train().classNames();
        ctx.provenance().putAll("", partition.provenance());
        AtomicFiles.writeString(ctx.record().dir().resolve("partition.txt"), partition.toText() + "\n"
                + partition.named(classNames) + "\n");
        CLUSTERING_SPECIALISTS.put(result, Integer.toString(partition.subsets().size()));
        result.put("clustering.subsets", partition.named(classNames));
        Plots.covariance(statistic, partition, classNames,
                ctx.record().dir().resolve("covariance.png"), name() + ": class "
                        + c.clustering().statistic().name().toLowerCase(Locale.ROOT) + " of the generalist's "
                        + c.clustering().source().name().toLowerCase(Locale.ROOT));
        Plots.subsetSizes(partition, ctx.record().dir().resolve("subset-sizes.png"), name() + " subset sizes");
        return partition;
    }

    /** {@code ensemble − max(control, unspecialised)} from recorded percentages, signed; "–" where one is missing. */
    private static String marginOf(String ensemble, String control, String unspecialised) {
        try {
            return String.format(Locale.ROOT, "%+.2f", Double.parseDouble(ensemble)
                    - Math.max(Double.parseDouble(control), Double.parseDouble(unspecialised)));
        } catch (NumberFormatException e) {
            return "–";
        }
    }

    /** The generalist's size as the ablation table shows it: "16,32 / 512" (conv channels / dense), or an MLP's hidden layers. */
    static String netSize(java.util.Map<String, String> config) {
        if ("conv".equals(config.get("architecture.generalist"))) {
            return config.getOrDefault("conv.channels", "–") + " / " + config.getOrDefault("conv.dense", "–");
        }
        return config.getOrDefault("generalist.hidden", "–");
    }

    private static String join(int[] a) {
        return String.join(",", IntStream.of(a).mapToObj(Integer::toString).toList());
    }

    /** {@code main [fashion|mnist_fashion|synthetic] [options]}: runs one variant (default fashion). */
    public static void main(String[] args) {
        boolean named = args.length > 0 && !args[0].startsWith("-");
        SpecialistDataset v = named ? SpecialistDataset.valueOf(args[0].toUpperCase(Locale.ROOT).replace('-', '_'))
                : SpecialistDataset.FASHION;
        Main.runExperiment(new SpecialistsExperiment(v), named ? java.util.Arrays.copyOfRange(args, 1, args.length) : args);
    }
}
