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

    static void save(XYChart chart, Path png) {
        try {
            Path tmp = png.resolveSibling(png.getFileName() + ".part.png");
            BitmapEncoder.saveBitmap(chart, tmp.toString().replaceAll("\\.png$", ""), BitmapEncoder.BitmapFormat.PNG);
            darkknowledge.core.AtomicFiles.moveAtomically(tmp, png);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + png, e);
        }
    }
}
