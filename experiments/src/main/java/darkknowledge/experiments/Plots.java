package darkknowledge.experiments;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** The PNG figures of the experiments, drawn with XChart from run results. */
final class Plots {
    private Plots() {
    }

    /** Test errors against T (log axis), one series per student width. */
    static void temperatureSweep(Map<String, String> result, List<Double> temperatures, Path png) {
        XYChart chart = new XYChartBuilder().width(800).height(500).title("Distillation temperature sweep (MNIST)")
                .xAxisTitle("temperature T (log scale)").yAxisTitle("test errors of 10,000").build();
        chart.getStyler().setXAxisLogarithmic(true);
        for (String[] series : new String[][] {{"wide", "800-800 student"}, {"narrow", "30-30 student"}}) {
            double[] x = temperatures.stream().mapToDouble(Double::doubleValue).toArray();
            double[] y = temperatures.stream()
                    .mapToDouble(t -> Double.parseDouble(result.getOrDefault(TemperatureSweep.key(series[0], t)
                            + ".test_errors", "NaN")))
                    .toArray();
            chart.addSeries(series[1], x, y).setMarker(SeriesMarkers.CIRCLE);
        }
        save(chart, png);
    }

    /**
     * One student's validation errors per epoch, with the validation errors of the nets it learned
     * from: the members' mean and the ensemble's ({@code NaN} when the run did not record them).
     */
    record Curve(String label, int[] epochs, int[] validationErrors, double membersValidationErrors,
                 double ensembleValidationErrors) {
    }

    /**
     * Students' validation errors against the epoch, one line per run; dashed lines mark the mean
     * over runs of the members' and of the ensemble's validation errors, the levels the students
     * start from and aim at.
     */
    static void studentCurves(List<Curve> curves, Path png) {
        XYChart chart = new XYChartBuilder().width(1000).height(600)
                .title("Ensemble distillation: the student's validation errors per epoch")
                .xAxisTitle("student epoch").yAxisTitle("validation errors").build();
        chart.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.OutsideS);
        chart.getStyler().setXAxisDecimalPattern("#");
        int last = 1;
        for (Curve c : curves) {
            if (c.epochs().length > 0) {
                chart.addSeries(c.label(), java.util.Arrays.stream(c.epochs()).asDoubleStream().toArray(),
                        java.util.Arrays.stream(c.validationErrors()).asDoubleStream().toArray())
                        .setMarker(SeriesMarkers.NONE);
                last = Math.max(last, c.epochs()[c.epochs().length - 1]);
            }
        }
        reference(chart, "members (mean of single nets)", curves.stream().mapToDouble(Curve::membersValidationErrors).toArray(),
                last, org.knowm.xchart.style.lines.SeriesLines.DASH_DASH);
        reference(chart, "ensemble", curves.stream().mapToDouble(Curve::ensembleValidationErrors).toArray(), last,
                org.knowm.xchart.style.lines.SeriesLines.DOT_DOT);
        save(chart, png);
    }

    private static void reference(XYChart chart, String name, double[] levels, int lastEpoch,
                                  java.awt.BasicStroke line) {
        double[] known = java.util.Arrays.stream(levels).filter(v -> !Double.isNaN(v)).toArray();
        if (known.length > 0) {
            double mean = java.util.Arrays.stream(known).average().orElseThrow();
            String of = known.length == levels.length ? "" : String.format(java.util.Locale.ROOT,
                    " (the %d of %d runs that recorded it)", known.length, levels.length);
            chart.addSeries(String.format(java.util.Locale.ROOT, "%s: %.1f%s", name, mean, of),
                    // From epoch 0: XChart puts a tick on every x when all series are equally spaced
                    // (knowm/XChart#731); this line's x breaks the spacing and gives readable ticks.
                    new double[] {0, lastEpoch}, new double[] {mean, mean})
                    .setMarker(SeriesMarkers.NONE).setLineStyle(line).setLineColor(java.awt.Color.DARK_GRAY);
        }
    }

    /** The student's accuracy on the digit its transfer set lacked, before and after the bias shift. */
    record OmittedDigit(int digit, double accuracyPct, double shiftedAccuracyPct, double shift) {
    }

    /** Bars per omitted digit: its test accuracy before and after the shift chosen on validation. */
    static void omittedDigits(List<OmittedDigit> digits, Path png) {
        org.knowm.xchart.CategoryChart chart = new org.knowm.xchart.CategoryChartBuilder().width(900).height(500)
                .title("A digit the student never saw: its test accuracy, by omitted digit")
                .xAxisTitle("omitted digit (bias shift chosen on validation)").yAxisTitle("omitted digit right (%)").build();
        var styler = chart.getStyler();
        styler.setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.InsideSW);
        styler.setYAxisMin(0.0).setYAxisMax(100.0);
        styler.setLabelsVisible(true);
        List<String> names = digits.stream().map(d -> String.format(java.util.Locale.ROOT, "%d (%+.1f)", d.digit(),
                d.shift())).toList();
        chart.addSeries("soft targets alone", names, digits.stream().map(OmittedDigit::accuracyPct).toList());
        chart.addSeries("after the bias shift", names, digits.stream().map(OmittedDigit::shiftedAccuracyPct).toList());
        save(chart, png);
    }

    /**
     * The class covariance (or correlation) matrix with classes ordered by cluster, diagonal blanked
     * so the off-diagonal confusions that drive the clustering are visible. Above 60 classes, cells
     * are averaged into at most 60 × 60 bins of consecutive (cluster-ordered) classes.
     */
    static void covariance(double[][] matrix, darkknowledge.core.ClassPartition partition, List<String> names,
                           Path png, String title) {
        int k = matrix.length;
        List<Integer> order = new java.util.ArrayList<>();
        boolean[] seen = new boolean[k];
        for (List<Integer> sub : partition.subsets()) {
            for (int c : sub) {
                if (!seen[c]) {
                    seen[c] = true;
                    order.add(c);
                }
            }
        }
        for (int c = 0; c < k; c++) {
            if (!seen[c]) {
                order.add(c);
            }
        }
        int bins = Math.min(k, 60);
        double[][] sum = new double[bins][bins];
        int[][] count = new int[bins][bins];
        for (int i = 0; i < k; i++) {
            for (int j = 0; j < k; j++) {
                if (i != j) {
                    int bi = (int) ((long) i * bins / k);
                    int bj = (int) ((long) j * bins / k);
                    sum[bi][bj] += matrix[order.get(i)][order.get(j)];
                    count[bi][bj]++;
                }
            }
        }
        List<String> labels = new java.util.ArrayList<>();
        for (int b = 0; b < bins; b++) {
            labels.add(bins == k ? names.get(order.get(b)) : Integer.toString(b));
        }
        List<Number[]> cells = new java.util.ArrayList<>();
        double max = 1e-12;
        for (int i = 0; i < bins; i++) {
            for (int j = 0; j < bins; j++) {
                double v = count[i][j] == 0 ? 0 : sum[i][j] / count[i][j];
                max = Math.max(max, Math.abs(v));
                cells.add(new Number[] {i, j, v});
            }
        }
        org.knowm.xchart.HeatMapChart chart = new org.knowm.xchart.HeatMapChartBuilder().width(900).height(800)
                .title(title + ", by cluster (diagonal blank)")
                .build();
        chart.getStyler().setMin(-max).setMax(max).setShowValue(false).setPlotContentSize(0.95);
        chart.getStyler().setRangeColors(new java.awt.Color[] {new java.awt.Color(49, 54, 149), java.awt.Color.WHITE,
            new java.awt.Color(165, 0, 38)});
        chart.addSeries("covariance", labels, labels, cells);
        save(chart, png);
    }

    /**
     * The sizes of the specialist subsets (§5.3) as a histogram: how many subsets hold 1, 2, 3, …
     * classes (overlap additions included), the number of classes left without a specialist in the
     * title. Confusable sets of Chinese characters are mostly pairs and triples; 300-class blocks
     * would show as a bar far to the right.
     */
    static void subsetSizes(darkknowledge.core.ClassPartition partition, Path png, String title) {
        int max = partition.subsets().stream().mapToInt(List::size).max().orElse(1);
        int[] count = new int[max + 1];
        for (List<Integer> sub : partition.subsets()) {
            count[sub.size()]++;
        }
        long uncovered = java.util.stream.IntStream.range(0, partition.numClasses())
                .filter(c -> partition.coverage(c) == 0).count();
        List<String> sizes = new java.util.ArrayList<>();
        List<Integer> counts = new java.util.ArrayList<>();
        for (int size = 1; size <= max; size++) {
            sizes.add(Integer.toString(size));
            counts.add(count[size]);
        }
        org.knowm.xchart.CategoryChart chart = new org.knowm.xchart.CategoryChartBuilder().width(900).height(450)
                .title(String.format(java.util.Locale.ROOT, "%s: %d subsets; %d of %d classes without a specialist",
                        title, partition.subsets().size(), uncovered, partition.numClasses()))
                .xAxisTitle("classes in the subset").yAxisTitle("subsets").build();
        chart.getStyler().setLegendVisible(false);
        chart.getStyler().setXAxisLabelRotation(max > 30 ? 90 : 0);
        chart.addSeries("subsets", sizes, counts);
        save(chart, png);
    }

    static void save(org.knowm.xchart.internal.chartpart.Chart<?, ?> chart, Path png) {
        Path tmp = png.resolveSibling(png.getFileName() + ".part.png");
        try {
            java.nio.file.Files.createDirectories(png.toAbsolutePath().getParent());
            BitmapEncoder.saveBitmap(chart, tmp.toString().replaceAll("\\.png$", ""), BitmapEncoder.BitmapFormat.PNG);
            darkknowledge.core.AtomicFiles.moveAtomically(tmp, png);
        } catch (IOException | RuntimeException e) {
            try {
                java.nio.file.Files.deleteIfExists(tmp);
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e instanceof IOException io ? new UncheckedIOException("cannot write " + png, io)
                    : new IllegalStateException("cannot draw " + png + ": " + e.getMessage(), e);
        }
    }

    /** Removes a generated figure that no run supports any more (nothing if there is none). */
    static void remove(Path png) {
        try {
            java.nio.file.Files.deleteIfExists(png);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove the stale figure " + png, e);
        }
    }
}
