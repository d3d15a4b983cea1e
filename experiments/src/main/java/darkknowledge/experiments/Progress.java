package darkknowledge.experiments;

import darkknowledge.core.RunRecord;
import darkknowledge.generalist.Trainer;
import java.time.Duration;
import java.util.Locale;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Shows training to the person running it (a progress bar over an epoch's minibatches when a
 * terminal is attached; one log line per epoch with loss, validation error and ETA always) and
 * writes each epoch to the run's {@code metrics.csv}.
 */
public final class Progress implements Trainer.Listener {
    private static final Logger LOG = LoggerFactory.getLogger("progress");

    private final RunRecord record;
    private final boolean interactive;
    private ProgressBar bar;

    public Progress(RunRecord record, boolean interactive) {
        this.record = record;
        this.interactive = interactive;
    }

    @Override
    public void onBatch(String model, int epoch, int batch, int batches) {
        if (!interactive) {
            return;
        }
        if (batch == 0) {
            closeBar();
            bar = new ProgressBarBuilder().setTaskName(model + " epoch " + (epoch + 1)).setInitialMax(batches)
                    .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(500).continuousUpdate().clearDisplayOnFinish()
                    .build();
        }
        bar.stepTo(batch + 1);
    }

    @Override
    public void onEpoch(Trainer.EpochReport r) {
        closeBar();
        String validation = r.validationExamples() == 0 ? "" : String.format(Locale.ROOT,
                "  val errors %d/%d (%.2f%%)", r.validationErrors(), r.validationExamples(),
                100.0 * r.validationErrors() / r.validationExamples());
        LOG.info(String.format(Locale.ROOT, "[%s] epoch %d/%d  loss %.4f%s  lr %.2e  %.1f s (%.0f ex/s)  ETA %s",
                r.model(), r.epoch() + 1, r.epochs(), r.loss(), validation, r.learningRate(), r.seconds(),
                r.examplesPerSecond(), format(Duration.ofSeconds(Math.round(r.etaSeconds())))));
        if (record != null) {
            record.metric(row(r));  // a redone epoch replaces its earlier row
        }
    }

    /** Records a restored epoch's row unless the record has one for it already (restoring is idempotent). */
    @Override
    public void onRestoredEpoch(Trainer.EpochReport r) {
        if (record != null) {
            record.metricIfAbsent(row(r));
        }
    }

    private static RunRecord.MetricRow row(Trainer.EpochReport r) {
        return new RunRecord.MetricRow(r.model(), r.epoch() + 1, r.loss(), r.validationErrors(),
                r.validationExamples(), r.learningRate(), r.seconds(), r.examplesPerSecond());
    }

    private void closeBar() {
        if (bar != null) {
            bar.close();
            bar = null;
        }
    }

    static String format(Duration d) {
        long s = d.getSeconds();
        return s >= 3600 ? String.format(Locale.ROOT, "%dh%02dm", s / 3600, s / 60 % 60)
                : String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
    }
}
